"""Process start-up: configuration and unreachable services end in one clear message.

A wrong DATABASE_URL or an unreachable Redis must not end in a wall of traceback: the
person starting the process needs to read what is wrong and which variable to fix.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured


class ServiceUnavailable(RuntimeError):
    """A service the process needs at start-up cannot be reached."""


def _fail(title: str, exc: BaseException) -> None:
    print(f"\n{title} : {exc}\n", file=sys.stderr)
    raise SystemExit(2)


def verify_services() -> None:
    """Raise ServiceUnavailable naming every service that does not answer."""
    from marche.core.health import probe_all

    down = [probe for probe in probe_all() if not probe.ok]
    if down:
        raise ServiceUnavailable(
            "; ".join(f"{probe.name} injoignable ({probe.detail})" for probe in down)
        )


def verify_configuration() -> None:
    """Raise ImproperlyConfigured when production lacks a mailer that delivers (marche.E010).

    ``manage.py`` commands stop on the system check itself; gunicorn runs no checks, so the
    web process asks here.
    """
    from marche.core.checks import real_mailer

    errors = real_mailer(None)
    if errors:
        raise ImproperlyConfigured(" ".join(f"{error.msg} {error.hint}" for error in errors))


def _guarded(call: Callable[[], Any]) -> Any:
    from django.db.utils import OperationalError

    try:
        return call()
    except ImproperlyConfigured as exc:
        _fail("Erreur de configuration", exc)
    except OperationalError as exc:
        _fail("Base de données injoignable (vérifiez DATABASE_URL)", exc)
    except ServiceUnavailable as exc:
        _fail("Service indisponible", exc)


def run_command_line(argv: Sequence[str]) -> None:
    """Run a manage.py command, turning configuration errors into one readable line."""
    from django.core.management import execute_from_command_line

    _guarded(lambda: execute_from_command_line(list(argv)))


def build_application(kind: str) -> Any:
    """Build the WSGI or ASGI application, after checking services when asked to."""

    def build() -> Any:
        from django.conf import settings

        if kind == "asgi":
            from django.core.asgi import get_asgi_application

            application = get_asgi_application()
        else:
            from django.core.wsgi import get_wsgi_application

            application = get_wsgi_application()
        verify_configuration()
        if settings.MARCHE_STARTUP_CHECKS:
            verify_services()
        return application

    return _guarded(build)
