"""The Django admin of the manne ledger speaks French, column headers included."""

from __future__ import annotations

import html
import re

import pytest
from django.apps import apps
from django.test import Client

from tests.marche.mannes.conftest import Ledger

pytestmark = pytest.mark.django_db


def _headers(page: str) -> list[str]:
    return [
        html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', page, re.S)
    ]


def test_the_requests_list_has_french_column_headers(ledger: Ledger) -> None:
    ledger.fund(ledger.alice_account, "5")
    ledger.coordinator.is_staff = ledger.coordinator.is_superuser = True
    ledger.coordinator.save()
    client = Client()
    client.force_login(ledger.coordinator)
    page = client.get("/django-admin/mannes/transferrequest/").content.decode()
    headers = _headers(page)
    assert "Compte crédité" in headers
    assert not any("account" in header.lower() for header in headers), headers


def test_every_field_of_the_ledger_has_a_french_name() -> None:
    untranslated = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_app_config("mannes").get_models()
        for field in model._meta.get_fields()
        if getattr(field, "concrete", False)
        and not field.auto_created
        and str(field.verbose_name) == field.name.replace("_", " ")
    ]
    assert untranslated == []
