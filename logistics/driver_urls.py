"""Drivers' route pages, under /chauffeur/."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "driver"

urlpatterns: list[URLPattern] = []
