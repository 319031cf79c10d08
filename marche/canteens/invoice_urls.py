"""Canteen invoices: the canteen's, the producer's, the unpaid ones, PDFs and payments."""

from django.urls import path

from marche.canteens import invoice_views

urlpatterns: list = [
    path("factures/", invoice_views.invoice_list, name="invoice_list"),
    path("factures/producteur/", invoice_views.invoice_list_producer, name="invoice_list_producer"),
    path("factures/impayes/", invoice_views.invoice_aged, name="invoice_aged"),
    path("factures/<int:invoice_id>/pdf/", invoice_views.invoice_pdf, name="invoice_pdf"),
    path(
        "factures/<int:invoice_id>/paiement/",
        invoice_views.invoice_payment,
        name="invoice_payment",
    ),
]
