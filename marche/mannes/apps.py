from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MannesConfig(AppConfig):
    name = "marche.mannes"
    label = "mannes"
    verbose_name = _("Monnaie locale (manne)")
