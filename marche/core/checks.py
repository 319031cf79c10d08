"""System checks: `manage.py check --deploy` also probes the services."""

from django.core.checks import Error, register

from marche.core.health import probe_all


@register("services", deploy=True)
def services_reachable(app_configs: object, **kwargs: object) -> list[Error]:
    """Report every service (database, cache, broker) that does not answer."""
    return [
        Error(f"{probe.name} injoignable : {probe.detail}", id=f"marche.E00{index}")
        for index, probe in enumerate(probe_all(), start=1)
        if not probe.ok
    ]
