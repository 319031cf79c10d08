"""Settings of the real Celery worker started by test_broker_outage.py.

The test settings, on the test database the test process uses (its name is passed in the
environment), with e-mails written to files in a folder the test reads back.
"""

import os

from marche.settings.test import *  # noqa: F403

DATABASES["default"]["NAME"] = os.environ["OUTAGE_TEST_DATABASE"]  # noqa: F405
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": os.environ["OUTAGE_MAIL_DIR"]},
    }
}
