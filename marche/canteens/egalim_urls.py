"""URL patterns of one area of the canteens' pages (included by `marche.canteens.urls`)."""

from django.urls import path

from marche.canteens import egalim_views

urlpatterns: list = [
    path("egalim/", egalim_views.egalim_index, name="egalim_index"),
    path("<int:canteen_id>/egalim/", egalim_views.egalim_dashboard, name="egalim"),
    path(
        "<int:canteen_id>/egalim/export/",
        egalim_views.egalim_export_create,
        name="egalim_export",
    ),
    path(
        "<int:canteen_id>/egalim/export/<int:export_id>/",
        egalim_views.egalim_export_download,
        name="egalim_export_download",
    ),
]
