"""Tests: fast hashing, local e-mail outbox, PostgreSQL when DATABASE_URL is set."""

from marche.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
WAGTAILADMIN_BASE_URL = "http://testserver"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# The demo fixture loads without the 150 orders of the cycle to plan (seconds per test); the
# tests of that cycle turn it on.
MARCHE_DEMO_DUE_CYCLE = False
# The public pages' cache is off (one locmem cache outlives each test's database); its
# tests turn it on.
MARCHE_PAGE_CACHE_SECONDS = 0
