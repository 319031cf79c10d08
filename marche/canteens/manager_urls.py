"""The canteen manager's pages: the space, the bulk order of a cycle, the standing order."""

from django.urls import path

from marche.canteens import views

urlpatterns: list = [
    path("", views.home, name="home"),
    path("<int:canteen_id>/", views.space, name="space"),
    path("<int:canteen_id>/cycles/<int:cycle_id>/", views.order_form, name="order_form"),
    path("<int:canteen_id>/commandes/<int:order_id>/", views.order_detail, name="order"),
    path(
        "<int:canteen_id>/commandes/<int:order_id>/annuler/",
        views.order_cancel,
        name="order_cancel",
    ),
    path("<int:canteen_id>/commande-reguliere/", views.standing_order, name="standing"),
    path("<int:canteen_id>/semaines/sauter/", views.week_skip, name="week_skip"),
    path(
        "<int:canteen_id>/semaines/<str:week>/reprendre/",
        views.week_unskip,
        name="week_unskip",
    ),
]
