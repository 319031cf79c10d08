from django.urls import path

from marche.producers import views

app_name = "producers"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<int:producer_id>/cycles/<int:cycle_id>/", views.cycle_offers, name="cycle"),
    path(
        "<int:producer_id>/cycles/<int:cycle_id>/produits/<int:product_id>/",
        views.offer_edit,
        name="offer_edit",
    ),
    path(
        "<int:producer_id>/cycles/<int:cycle_id>/offres/<int:offer_id>/retirer/",
        views.offer_stop,
        name="offer_withdraw",
    ),
    path(
        "<int:producer_id>/cycles/<int:cycle_id>/offres.csv",
        views.offers_export,
        name="offers_export",
    ),
    path(
        "<int:producer_id>/cycles/<int:cycle_id>/import/",
        views.offers_import,
        name="offers_import",
    ),
]
