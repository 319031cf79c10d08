from django.urls import path, register_converter

from marche.core.numbers import BIGINT_MAX
from marche.orders import views


class IdConverter:
    """A database id in a path: ASCII digits within bigint, else the address does not exist."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= BIGINT_MAX:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "dbid")

app_name = "orders"

urlpatterns = [
    path("", views.shop, name="shop"),
    path("panier/", views.cart_update, name="cart_update"),
    path("panier/ajouter/", views.cart_add, name="cart_add"),
    path("panier/retirer/", views.cart_remove, name="cart_remove"),
    path("panier/<dbid:cycle_id>/", views.cart, name="cart"),
    path("panier/<dbid:cycle_id>/valider/", views.checkout, name="checkout"),
    path("commandes/", views.order_list, name="list"),
    path("commandes/<str:reference>/", views.order_detail, name="detail"),
    path("commandes/<str:reference>/annuler/", views.order_cancel_view, name="cancel"),
]
