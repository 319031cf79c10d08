"""System checks: `manage.py check --deploy` also probes the services; production refuses a
mailer that delivers nothing."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.checks.mail import NON_PRODUCTION_EMAIL_BACKENDS

from marche.core.health import probe_all


@register("services", deploy=True)
def services_reachable(app_configs: object, **kwargs: object) -> list[Error]:
    """Report every service (database, cache, broker) that does not answer."""
    return [
        Error(f"{probe.name} injoignable : {probe.detail}", id=f"marche.E00{index}")
        for index, probe in enumerate(probe_all(), start=1)
        if not probe.ok
    ]


@register("mail")
def real_mailer(app_configs: object, **kwargs: object) -> list[Error]:
    """In production, households' e-mails must leave: no console, locmem, file or dummy mailer.

    Django's own ``mail.E001`` says so under ``--deploy`` only; this one stops every command
    and the web process (``marche.core.startup``) of a production deployment.
    """
    if not getattr(settings, "MARCHE_REAL_MAILER_REQUIRED", False):
        return []
    backend = str(getattr(settings, "MAILERS", {}).get("default", {}).get("BACKEND", ""))
    if backend and backend not in NON_PRODUCTION_EMAIL_BACKENDS:
        return []
    return [
        Error(
            f"Aucun serveur d'e-mail réel en production (EMAIL_URL donne {backend or 'rien'}) : "
            "les foyers ne recevraient pas leurs confirmations de commande.",
            hint="Définissez EMAIL_URL=smtp://utilisateur:mot-de-passe@hôte:587 "
            "(voir infra/README.md).",
            id="marche.E010",
        )
    ]
