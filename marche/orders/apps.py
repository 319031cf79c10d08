from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "marche.orders"
    label = "orders"
    verbose_name = _("Commandes")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from marche.orders.views import pending_add_on_login

        # An "Ajouter" made while logged out is applied when the household logs in.
        user_logged_in.connect(pending_add_on_login, dispatch_uid="orders.pending_add")
