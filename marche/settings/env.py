"""Reading the environment: one place that turns variables into validated settings.

Every variable is optional for the embedded default (SQLite, in-process tasks, console
e-mail); production settings call :func:`require` to refuse to start without the essentials.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DATABASE_SCHEMES = {"postgres", "postgresql", "pgsql", "sqlite"}
REDIS_SCHEMES = {"redis", "rediss"}


def redact(url: str) -> str:
    """Return the URL with its password hidden, safe to print in an error message."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def database_config(url: str | None, *, default_sqlite: Path) -> dict[str, object]:
    """Parse DATABASE_URL into Django's DATABASES entry, with a clear error when it is wrong."""
    if not url:
        default_sqlite.parent.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(default_sqlite),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    scheme = urlsplit(url).scheme
    if scheme not in DATABASE_SCHEMES:
        raise ImproperlyConfigured(
            f"DATABASE_URL invalide ({redact(url)}) : le schéma « {scheme or '?'} » n'est pas "
            "pris en charge. Exemples : postgres://utilisateur@127.0.0.1:5432/marche ou "
            "sqlite:////chemin/marche.sqlite3"
        )
    try:
        config = env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types on malformed URLs
        raise ImproperlyConfigured(f"DATABASE_URL illisible ({redact(url)}) : {exc}") from exc
    if scheme != "sqlite" and not config.get("NAME"):
        raise ImproperlyConfigured(
            f"DATABASE_URL invalide ({redact(url)}) : le nom de la base manque après le « / »."
        )
    if config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})
        config["OPTIONS"].setdefault("connect_timeout", 5)
        config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
    return config


def redis_url(url: str | None) -> str | None:
    """Validate REDIS_URL; an empty value means no Redis (embedded default)."""
    if not url:
        return None
    scheme = urlsplit(url).scheme
    if scheme not in REDIS_SCHEMES:
        raise ImproperlyConfigured(
            f"REDIS_URL invalide ({redact(url)}) : attendu redis://hôte:port/numéro."
        )
    return url


# Mailers that never deliver anything: fine on a laptop, refused in production.
DEVELOPMENT_MAILERS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def mailer_config(url: str | None) -> dict[str, object]:
    """Django's MAILERS entry: the console without EMAIL_URL, else SMTP from the URL.

    ``console://``, ``locmem://`` and ``dummy://`` name the development mailers explicitly;
    production refuses them (system check ``marche.E010``).
    """
    if not url:
        return {"BACKEND": DEVELOPMENT_MAILERS["console"]}
    scheme = urlsplit(url).scheme
    if scheme in DEVELOPMENT_MAILERS:
        return {"BACKEND": DEVELOPMENT_MAILERS[scheme]}
    if scheme not in {"smtp", "smtps", "submission", "submit"}:
        raise ImproperlyConfigured(f"EMAIL_URL invalide ({redact(url)}) : attendu smtp://…")
    parsed = env.email_url_config(url)
    options = {
        "host": parsed.get("EMAIL_HOST"),
        "port": parsed.get("EMAIL_PORT"),
        "username": parsed.get("EMAIL_HOST_USER") or None,
        "password": parsed.get("EMAIL_HOST_PASSWORD") or None,
        "use_tls": bool(parsed.get("EMAIL_USE_TLS")),
        "use_ssl": bool(parsed.get("EMAIL_USE_SSL")),
        "timeout": 10,
    }
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {key: value for key, value in options.items() if value is not None},
    }


def require(*names: str) -> None:
    """Refuse to start when one of the named environment variables is missing or empty."""
    missing = [name for name in names if not os.environ.get(name, "").strip()]
    if missing:
        raise ImproperlyConfigured(
            "Configuration de production incomplète : définissez "
            + ", ".join(missing)
            + " (voir infra/README.md)."
        )
