"""Configuration from the environment: wrong values stop with one clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from marche.settings.env import database_config, redact, redis_url

ROOT = Path(__file__).resolve().parents[2]


def test_no_database_url_means_embedded_sqlite(tmp_path: Path) -> None:
    config = database_config("", default_sqlite=tmp_path / "var" / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "var" / "db.sqlite3")
    assert (tmp_path / "var").is_dir()


def test_postgres_url_is_parsed_with_timeouts(tmp_path: Path) -> None:
    config = database_config("postgres://u:secret@db.example:5433/marche", default_sqlite=tmp_path)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db.example",
        5433,
        "marche",
        "u",
    )
    assert config["OPTIONS"] == {"connect_timeout": 5}


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://u@h/db", "le schéma « mysql » n'est pas pris en charge"),
        ("localhost:5432/marche", "n'est pas pris en charge"),
        ("postgres://u@127.0.0.1:5432", "le nom de la base manque"),
    ],
)
def test_wrong_database_url_is_explained(url: str, fragment: str, tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match=fragment):
        database_config(url, default_sqlite=tmp_path)


def test_passwords_never_appear_in_messages(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        database_config("mysql://user:hunter2@h/db", default_sqlite=tmp_path)
    assert "hunter2" not in str(excinfo.value)
    assert redact("redis://:hunter2@h:6379/0") == "redis://:***@h:6379/0"


def test_redis_url_must_be_redis() -> None:
    assert redis_url("") is None
    assert redis_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL invalide"):
        redis_url("http://127.0.0.1:6379")


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO", "DATABASE", "REDIS", "EMAIL"))
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_manage_py_with_unreachable_database_prints_one_clear_line() -> None:
    result = run(["manage.py", "migrate"], DATABASE_URL="postgres://nobody@127.0.0.1:1/marche")
    assert result.returncode == 2
    assert "Base de données injoignable (vérifiez DATABASE_URL)" in result.stderr
    assert "Traceback" not in result.stderr


def test_manage_py_with_malformed_database_url() -> None:
    result = run(["manage.py", "check"], DATABASE_URL="mysql://root@127.0.0.1/marche")
    assert result.returncode == 2
    assert "Erreur de configuration : DATABASE_URL invalide" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_to_start_without_its_settings() -> None:
    result = run(["manage.py", "check"], DJANGO_SETTINGS_MODULE="marche.settings.production")
    assert result.returncode == 2
    assert (
        "Configuration de production incomplète : définissez DJANGO_SECRET_KEY, DATABASE_URL, "
        "DJANGO_ALLOWED_HOSTS, REDIS_URL" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_production_refuses_to_serve_with_redis_unreachable(tmp_path: Path) -> None:
    result = run(
        ["-c", "import marche.wsgi"],
        DJANGO_SETTINGS_MODULE="marche.settings.production",
        DJANGO_SECRET_KEY="x" * 50,
        DATABASE_URL=f"sqlite:///{tmp_path}/prod.sqlite3",
        DJANGO_ALLOWED_HOSTS="marche.example",
        REDIS_URL="redis://127.0.0.1:1/0",
        EMAIL_URL="smtp://courrier.example:587",
    )
    assert result.returncode == 2
    assert "Service indisponible" in result.stderr
    assert "cache injoignable" in result.stderr and "broker injoignable" in result.stderr
    assert "Traceback" not in result.stderr
