#!/usr/bin/env bash
# Install (when missing) and start what the full test suite needs: PostgreSQL, Redis,
# Chromium, gettext and docker-compose (to read the compose file). Used by .ci/run; safe to run again: it only starts what is not running.
set -euo pipefail

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    echo "Installation de PostgreSQL…"
    apt_install postgresql postgresql-client
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q "^host all all 127.0.0.1/32 trust" "$hba"; then
    # Tests connect over TCP as postgres without a password, as on the project's machines.
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "PostgreSQL ne démarre pas sur 127.0.0.1:5432." >&2; exit 1; }

if ! redis_up; then
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "Installation de Redis…"
    apt_install redis-server
  fi
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
fi
redis_up || { echo "Redis ne démarre pas sur 127.0.0.1:6379." >&2; exit 1; }

if [ ! -x /usr/bin/chromium ]; then
  echo "Installation de Chromium (tests navigateur)…"
  apt_install chromium
fi
if ! command -v msgfmt >/dev/null 2>&1; then
  apt_install gettext
fi
# Reads infra/compose.yaml as a container engine would (tests/infra/test_compose.py); needs
# no container engine running.
if ! command -v docker-compose >/dev/null 2>&1; then
  apt_install docker-compose
fi
echo "Services prêts : PostgreSQL, Redis, Chromium."
