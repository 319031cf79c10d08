from django.urls import path

from marche.orders import staff_views as views

app_name = "preparation"

urlpatterns = [
    path("", views.preparation_index, name="index"),
    path("<int:cycle_id>/", views.preparation_cycle, name="cycle"),
    path(
        "<int:cycle_id>/producteurs/<int:producer_id>/",
        views.pick_list_page,
        name="pick_list",
    ),
    path(
        "<int:cycle_id>/producteurs/<int:producer_id>/cueillette.csv",
        views.pick_list_csv,
        name="pick_list_csv",
    ),
    path(
        "<int:cycle_id>/producteurs/<int:producer_id>/cueillette.pdf",
        views.pick_list_pdf,
        name="pick_list_pdf",
    ),
    path("<int:cycle_id>/relais/<int:relay_id>/", views.packing_list_page, name="packing_list"),
    path(
        "<int:cycle_id>/relais/<int:relay_id>/colisage.csv",
        views.packing_list_csv,
        name="packing_list_csv",
    ),
    path(
        "<int:cycle_id>/relais/<int:relay_id>/colisage.pdf",
        views.packing_list_pdf,
        name="packing_list_pdf",
    ),
    path("lignes/<int:line_id>/pesee/", views.line_weigh, name="line_weigh"),
    path("lignes/<int:line_id>/manquant/", views.line_missing, name="line_missing"),
    path("commandes/<int:order_id>/retrait/", views.order_pickup, name="order_pickup"),
]
