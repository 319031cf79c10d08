"""System checks of delivery planning's settings."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

# A computation is more than its solve: consolidating the orders and storing the plan.
SOLVE_MARGIN_S = 300


@register("celery")
def visibility_outlasts_the_longest_solve(app_configs: object, **kwargs: object) -> list[Error]:
    """On Redis, a task taken by a worker is handed to another one once the visibility timeout
    has passed without an acknowledgement (``acks_late``). If a solve can last longer, a
    second worker would compute the same plan while the first still runs."""
    from logistics.services import MAX_TIME_LIMIT_S

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return []
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    timeout = float(options.get("visibility_timeout", 3600))
    needed = MAX_TIME_LIMIT_S + SOLVE_MARGIN_S
    if timeout > needed:
        return []
    return [
        Error(
            f"Le délai de visibilité du courtier ({timeout:g} s) doit dépasser le plus long "
            f"calcul de tournées ({needed:g} s).",
            hint="Augmentez MARCHE_BROKER_VISIBILITY_TIMEOUT_S (3600 par défaut).",
            id="logistics.E001",
        )
    ]
