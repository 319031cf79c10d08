"""Drivers' route pages, under /chauffeur/."""

from __future__ import annotations

from django.urls import URLPattern, path

from logistics import driver_views as views
from marche.orders.urls import IdConverter  # noqa: F401 - registers the "dbid" converter

app_name = "driver"

urlpatterns: list[URLPattern] = [
    path("", views.driver_home, name="home"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("tournees/<dbid:route_id>/", views.route_detail, name="route"),
    path("tournees/<dbid:route_id>/feuille.pdf", views.route_pdf, name="route_pdf"),
    path("tournees/<dbid:route_id>/trace.gpx", views.route_gpx_view, name="route_gpx"),
    path("etapes/<dbid:stop_id>/pointage/", views.stop_check_off_form, name="stop_check_off"),
]
