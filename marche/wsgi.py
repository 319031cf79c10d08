"""WSGI entry point; checks the services first when MARCHE_STARTUP_CHECKS is on."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marche.settings.production")

from marche.core.startup import build_application

application = build_application("wsgi")
