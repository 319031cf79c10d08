from django.urls import path

from marche.orders import views

app_name = "orders"

urlpatterns = [
    path("", views.shop, name="shop"),
    path("panier/", views.cart_update, name="cart_update"),
    path("panier/<int:cycle_id>/", views.cart, name="cart"),
    path("panier/<int:cycle_id>/valider/", views.checkout, name="checkout"),
    path("commandes/", views.order_list, name="list"),
    path("commandes/<str:reference>/", views.order_detail, name="detail"),
    path("commandes/<str:reference>/annuler/", views.order_cancel_view, name="cancel"),
]
