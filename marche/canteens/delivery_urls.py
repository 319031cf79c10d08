"""A canteen order's delivery: the record of delivered quantities and the delivery note."""

from django.urls import path

from marche.canteens import delivery_views as views
from marche.orders.urls import IdConverter  # noqa: F401 - registers the "dbid" converter

urlpatterns: list = [
    path("livraisons/<dbid:order_id>/", views.delivery_detail, name="delivery_detail"),
    path(
        "livraisons/<dbid:order_id>/bon-de-livraison.pdf",
        views.delivery_note,
        name="delivery_note",
    ),
]
