"""Development: the embedded default, debug on, safe local-only defaults."""

from marche.settings.base import *  # noqa: F403
from marche.settings.env import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "dev-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: F405
# ".localhost" also lets each territory's site answer at its own name (loos.localhost,
# dunkerque.localhost: browsers resolve *.localhost to this machine).
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", ".localhost", "[::1]"]  # noqa: F405
WHITENOISE_USE_FINDERS = True
