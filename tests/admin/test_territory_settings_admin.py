"""A coordinator keeps their own territory's sender, routing factors and legal notice in the
Wagtail admin; the other territory's is not found, and the currency and identity fields stay
the superusers'."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from marche.accounts.models import User
from marche.territories.models import LEGAL_FIELDS, Territory

pytestmark = pytest.mark.django_db

BASE = "/admin/territory/"


def form_data(territory: Territory, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "contact_email": territory.contact_email,
        "email_sender": territory.email_sender,
        "routing_detour_factor": str(territory.routing_detour_factor).replace(".", ","),
        "emission_factors": json.dumps(territory.emission_factors),
        **{field: getattr(territory, field) for field in LEGAL_FIELDS},
    }
    data.update(changes)
    return data


def row(territory: Territory) -> dict[str, Any]:
    territory.refresh_from_db()
    fields = ("name", "slug", "email_sender", "emission_factors", "routing_detour_factor")
    return {
        **{f: getattr(territory, f) for f in fields},
        "local_currency_enabled": territory.local_currency_enabled,
        "legal_publisher": territory.legal_publisher,
    }


def test_a_coordinator_edits_their_own_territorys_sender_factors_and_legal_notice(
    client: Client, coordinator_a: User, territory_a: Territory, territory_b: Territory
) -> None:
    client.force_login(coordinator_a)

    listing = client.get(BASE).content.decode()
    assert territory_a.name in listing
    assert territory_b.name not in listing

    assert client.get(f"{BASE}edit/{territory_a.pk}/").status_code == 200
    saved = client.post(
        f"{BASE}edit/{territory_a.pk}/",
        form_data(
            territory_a,
            email_sender="Marché A <bonjour@marche-a.example>",
            routing_detour_factor="1,45",
            emission_factors='{"van": "0.25"}',
            legal_publisher="Association Marché A",
            # not in the form: ignored
            name="Renommé",
            local_currency_enabled="on",
        ),
    )

    assert saved.status_code == 302
    after = row(territory_a)
    assert after["email_sender"] == "Marché A <bonjour@marche-a.example>"
    assert after["routing_detour_factor"] == Decimal("1.45")
    assert after["emission_factors"] == {"van": "0.25"}
    assert after["legal_publisher"] == "Association Marché A"
    assert after["name"] == "Territoire A"
    assert after["local_currency_enabled"] is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email_sender", "pas une adresse", "Expéditeur invalide"),
        ("emission_factors", '{"van": "-1"}', "Véhicule « van »"),
        ("routing_detour_factor", "0,5", "1"),
    ],
)
def test_a_bad_value_is_refused_in_french_and_changes_nothing(
    client: Client,
    coordinator_a: User,
    territory_a: Territory,
    field: str,
    value: str,
    message: str,
) -> None:
    client.force_login(coordinator_a)
    before = row(territory_a)

    refused = client.post(f"{BASE}edit/{territory_a.pk}/", form_data(territory_a, **{field: value}))

    assert refused.status_code == 200
    assert message in refused.content.decode()
    assert row(territory_a) == before


def test_the_other_territory_is_not_found_and_none_can_be_added(
    client: Client, coordinator_a: User, territory_a: Territory, territory_b: Territory
) -> None:
    client.force_login(coordinator_a)
    before = row(territory_b)

    assert client.get(f"{BASE}edit/{territory_b.pk}/").status_code == 404
    posted = client.post(
        f"{BASE}edit/{territory_b.pk}/", form_data(territory_b, legal_publisher="Intrus")
    )
    assert posted.status_code == 404
    assert client.get(f"{BASE}new/").status_code in (302, 403, 404)
    assert row(territory_b) == before
    assert Territory.objects.count() == 2
