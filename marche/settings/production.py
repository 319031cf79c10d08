"""Production: refuses to start without a secret key, a database, allowed hosts, Redis and
a mailer that delivers (SMTP)."""

from marche.settings.env import require

require("DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOWED_HOSTS", "REDIS_URL", "EMAIL_URL")

from marche.settings.base import *  # noqa: E402, F403
from marche.settings.env import env  # noqa: E402

DEBUG = False
MARCHE_DEMO_ALLOWED = env.bool("MARCHE_DEMO_ALLOWED", default=False)
MARCHE_STARTUP_CHECKS = env.bool("MARCHE_STARTUP_CHECKS", default=True)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Asking browsers to preload HTTPS binds the domain and all its subdomains for months: the
# domain's owner decides (DJANGO_SECURE_HSTS_PRELOAD=true), so check --deploy does not warn.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Households' e-mails must really leave: console, locmem or dummy mailers stop the start-up.
MARCHE_REAL_MAILER_REQUIRED = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
