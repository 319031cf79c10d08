"""Coordinators' delivery-planning pages, under /logistique/."""

from __future__ import annotations

from django.urls import URLPattern, path

from logistics import views

app_name = "planning"

urlpatterns: list[URLPattern] = [
    path("", views.planning_index, name="index"),
    path("cycles/<int:cycle_id>/plan/", views.plan_view, name="plan"),
    path("cycles/<int:cycle_id>/plan/etat.json", views.plan_state_view, name="plan_state"),
    path("cycles/<int:cycle_id>/plan/calculer/", views.plan_compute_view, name="plan_compute"),
    path("cycles/<int:cycle_id>/plan/deplacer/", views.stop_move_view, name="stop_move"),
    path("cycles/<int:cycle_id>/plan/verrouiller/", views.route_lock_view, name="route_lock"),
    path("cycles/<int:cycle_id>/plan/decider/", views.unserved_decide_view, name="unserved_decide"),
    path("cycles/<int:cycle_id>/plan/publier/", views.plan_publish_view, name="plan_publish"),
]
