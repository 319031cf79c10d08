"""Find the PostgreSQL and Redis the tests use; print shell exports for `make test`.

In CI (CI=true) both must answer, or the run stops with a clear message. Locally, without
PostgreSQL the suite falls back to SQLite and skips PostgreSQL-only tests, and says so.
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/marche"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=2):
            return True
    except OSError:
        return False


def postgres_answers(url: str) -> str | None:
    """None when a real login works, else the reason."""
    if not reachable(url):
        return "connexion refusée"
    try:
        import psycopg

        parts = urlsplit(url)
        with psycopg.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            dbname="postgres",
            connect_timeout=3,
        ):
            return None
    except Exception as exc:
        return str(exc).strip().splitlines()[0]


def main() -> int:
    ci = os.environ.get("CI", "").lower() == "true"
    database_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS_URL
    exports: dict[str, str] = {}
    problems: list[str] = []

    reason = postgres_answers(database_url)
    if reason is None:
        exports["DATABASE_URL"] = database_url
    else:
        problems.append(f"PostgreSQL ({database_url}) : {reason}")
        exports["DATABASE_URL"] = ""
    if reachable(redis_url):
        exports["TEST_REDIS_URL"] = redis_url
    else:
        problems.append(f"Redis ({redis_url}) : connexion refusée")
        exports["TEST_REDIS_URL"] = ""

    if problems and ci:
        print("CI : services injoignables, les tests ne peuvent pas tourner :", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print("Démarrez-les (voir README, section « Tests ») ou lancez .ci/run.", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"Attention : {problem}.", file=sys.stderr)
    if not exports["DATABASE_URL"]:
        print(
            "Les tests tournent sur SQLite ; les tests réservés à PostgreSQL sont ignorés.",
            file=sys.stderr,
        )
    if not exports["TEST_REDIS_URL"]:
        print("Les tests qui demandent Redis et un worker Celery sont ignorés.", file=sys.stderr)
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
