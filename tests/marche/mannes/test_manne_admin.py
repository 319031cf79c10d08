"""The Django admin of the manne ledger speaks French, column headers included."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client

from marche.mannes.models import RequestStatus, TransferRequest
from marche.mannes.services import manne_reward_declare
from tests.marche.mannes.conftest import Ledger, new_key

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


def _declare(ledger: Ledger, user, amount: str) -> int:  # type: ignore[no-untyped-def]
    return manne_reward_declare(
        household=user,
        territory=ledger.territory,
        amount=Decimal(amount),
        reason="Bénévolat",
        key=new_key("admin"),
    ).pk


def test_admin_actions_count_requests_in_the_singular_or_the_plural(ledger: Ledger) -> None:
    ledger.coordinator.is_staff = ledger.coordinator.is_superuser = True
    ledger.coordinator.save()
    client = Client()
    client.force_login(ledger.coordinator)
    url = "/django-admin/mannes/transferrequest/"

    def act(action: str, ids: list[int]) -> list[str]:
        response = client.post(
            url, {"action": action, "_selected_action": [str(i) for i in ids]}, follow=True
        )
        return [str(m) for m in response.context["messages"]]

    one = _declare(ledger, ledger.alice, "5")
    assert act("validate", [one]) == ["1 demande validée."]
    two = [_declare(ledger, ledger.alice, "3"), _declare(ledger, ledger.bob, "4")]
    assert act("reject", two) == ["2 demandes refusées."]
    assert list(
        TransferRequest.objects.filter(pk__in=[one, *two])
        .order_by("pk")
        .values_list("status", flat=True)
    ) == [RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.REJECTED]
