from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    name = "logistics"
    label = "logistics"
    verbose_name = _("Logistique")

    def ready(self) -> None:
        # a routing worker warms the search kernel up before its first task (the module
        # only connects a Celery signal; Numba is loaded in the worker, when it fires)
        from logistics import checks, warmup  # noqa: F401
