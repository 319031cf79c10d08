"""Marketplace project package: settings, URLs, Celery app and the marketplace domain apps."""

from marche.celery import app as celery_app

__all__ = ("celery_app",)
