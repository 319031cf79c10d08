"""URL patterns of one area of the canteens' pages (included by `marche.canteens.urls`)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
