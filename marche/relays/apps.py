from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelaysConfig(AppConfig):
    name = "marche.relays"
    label = "relays"
    verbose_name = _("Points relais")
