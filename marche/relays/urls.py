from django.urls import path

from marche.relays import views

app_name = "relays"

urlpatterns = [
    path("", views.relay_index, name="index"),
    path("commande/<str:reference>/", views.order_qr_open, name="order_qr"),
    path("<slug:slug>/", views.relay_pickup, name="pickup"),
    path("<slug:slug>/remis/", views.relay_hand_over, name="hand_over"),
]
