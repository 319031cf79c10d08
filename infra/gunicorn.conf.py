"""gunicorn settings for marche.wsgi (production)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
timeout = 60
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
# The proxy whose X-Forwarded-* headers are trusted: nginx on the same host, or nginx's
# container in compose.yaml ("*" there: only nginx reaches gunicorn on that network).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
