"""Production settings: `check --deploy` passes with the documented variables, and a mailer
that delivers nothing stops every command and the web process."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from marche.core.checks import real_mailer
from marche.core.startup import verify_configuration

BASE_DIR = Path(settings.BASE_DIR)
SMTP = "smtp://marche:mot-de-passe@smtp.example.org:587"


def production_env(**overrides: str) -> dict[str, str]:
    """The variables README documents for production, on this test database and Redis."""
    db = connection.settings_dict
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "marche.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": (
            f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:"
            f"{db.get('PORT') or 5432}/{db['NAME']}"
        ),
        "DJANGO_ALLOWED_HOSTS": "marche.example.org",
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", ""),
        "EMAIL_URL": SMTP,
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db
def test_check_deploy_passes_with_the_documented_variables() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db
@pytest.mark.parametrize("mailer", ["console://", "locmem://", "dummy://"])
def test_production_refuses_a_mailer_that_delivers_nothing(mailer: str) -> None:
    result = manage("check", env=production_env(EMAIL_URL=mailer))
    assert result.returncode == 1
    assert "(marche.E010) Aucun serveur d'e-mail réel en production" in result.stderr


def test_production_refuses_to_start_without_email_url() -> None:
    env = production_env(DATABASE_URL="postgres://postgres@127.0.0.1:5432/marche")
    env.pop("EMAIL_URL")
    result = manage("check", env=env)
    assert result.returncode == 2
    assert "définissez EMAIL_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_web_process_stops_on_a_console_mailer(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MARCHE_REAL_MAILER_REQUIRED = True
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    assert [error.id for error in real_mailer(None)] == ["marche.E010"]
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL=smtp://"):
        verify_configuration()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
    assert real_mailer(None) == []
    verify_configuration()


def test_outside_production_the_console_is_fine(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    assert settings.MARCHE_REAL_MAILER_REQUIRED is False
    assert real_mailer(None) == []


def test_readme_documents_every_variable_production_requires() -> None:
    production = (BASE_DIR / "marche" / "settings" / "production.py").read_text()
    required = re.search(r"require\(([^)]*)\)", production)
    assert required is not None
    names = re.findall(r'"([A-Z_]+)"', required.group(1))
    assert "EMAIL_URL" in names
    readme = (BASE_DIR / "README.md").read_text()
    table_rows = [line for line in readme.splitlines() if line.startswith("| `")]
    documented = {name for row in table_rows for name in re.findall(r"`([A-Z_]+)`", row)}
    assert set(names) <= documented
