"""Settings of the real beat and worker processes of test_two_beats.py: the broker-outage
test's worker settings (this test database, e-mails to files), with a beat that asks every
second for the due cycles to be closed, and nothing else."""

from tests.marche.core.outage_worker_settings import *  # noqa: F403

CELERY_BEAT_SCHEDULE = {
    "close-due-cycles": {"task": "logistics.close_due_cycles", "schedule": 1.0},
}
