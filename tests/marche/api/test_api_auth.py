from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from marche.accounts.models import ApiToken, Role
from marche.accounts.tokens import api_token_authenticate, api_token_create, api_token_revoke
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOT_AUTHENTICATED = {
    "code": "not_authenticated",
    "message": "Authentification requise : envoyez un jeton d'API valide "
    "(en-tête « Authorization: Bearer … »).",
}


def test_only_a_hash_and_a_prefix_of_the_token_are_stored() -> None:
    user = UserFactory()
    token, raw = api_token_create(user=user, name="script")
    assert raw.startswith("mk_") and len(raw) > 40
    token.refresh_from_db()
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:10]
    assert raw not in {token.token_hash, token.prefix, token.name}
    found = api_token_authenticate(raw=raw)
    assert found is not None and found.user == user and found.last_used_at is not None


def test_revoked_token_no_longer_authenticates_and_revoking_twice_keeps_the_date() -> None:
    token, raw = api_token_create(user=UserFactory())
    first = api_token_revoke(token=token).revoked_at
    assert first is not None
    assert api_token_revoke(token=token).revoked_at == first
    assert api_token_authenticate(raw=raw) is None


def test_command_prints_a_working_token_once() -> None:
    user = UserFactory(email="ferme@example.test", role=Role.FARMER)
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "api_token_create", "Ferme@Example.test", "--name", "tableur", stdout=out, stderr=err
    )
    raw = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.prefix) == (user, "tableur", raw[:10])
    assert "ne sera plus affiché" in err.getvalue()
    assert api_token_authenticate(raw=raw) == token


def test_command_refuses_an_unknown_email() -> None:
    with pytest.raises(CommandError):
        call_command("api_token_create", "personne@example.test", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_no_token_is_a_401_in_french(public, api_market) -> None:
    response = public.get("/me/orders")
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED


def test_unknown_and_revoked_tokens_are_401(client, api_market) -> None:
    from tests.marche.api.conftest import Api

    assert Api(client, "mk_nimportequoi").get("/me/offers").status_code == 401
    api_token_revoke(token=ApiToken.objects.get(user=api_market.farmer))
    response = Api(client, api_market.farmer_token).get("/me/offers")
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED


def test_household_token_on_farmer_endpoint_is_403(as_household, api_market) -> None:
    response = as_household.get("/me/offers")
    assert response.status_code == 403
    assert response.json() == {
        "code": "forbidden",
        "message": "Cette partie de l'API est réservée aux producteurs membres d'une ferme.",
    }


def test_farmer_token_on_household_endpoint_is_403(as_farmer, api_market) -> None:
    response = as_farmer.get("/me/orders")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_farmer_without_a_producer_is_403(client, api_market) -> None:
    from tests.marche.api.conftest import Api

    loner = UserFactory(role=Role.FARMER)
    response = Api(client, api_token_create(user=loner)[1]).get("/me/offers")
    assert response.status_code == 403


def test_domain_errors_have_one_shape_in_french_or_english(as_household, api_market) -> None:
    api_market.cycle.closes_at = api_market.cycle.opens_at.replace(year=2000)
    api_market.cycle.opens_at = api_market.cycle.opens_at.replace(year=1999)
    api_market.cycle.save()
    body = {"offer_id": api_market.carrots.pk, "count": "1"}
    french = as_household.send("put", f"/me/cart?cycle={api_market.cycle.pk}", body)
    assert french.status_code == 409
    assert french.json() == {
        "code": "cycle_closed",
        "message": "Ce cycle de commande n'est pas ouvert : les commandes sont closes.",
    }
    english = as_household.send(
        "put", f"/me/cart?cycle={api_market.cycle.pk}", body, headers={"Accept-Language": "en"}
    )
    assert english.json() == {
        "code": "cycle_closed",
        "message": "This order cycle is not open: ordering is closed.",
    }


def test_validation_errors_have_the_same_shape(as_farmer, api_market) -> None:
    response = as_farmer.send("post", "/me/offers", {"cycle_id": "abc", "unit_price": "2"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["message"] == "Données invalides : vérifiez cycle_id, product_id."
    assert {e["field"] for e in body["params"]["errors"]} == {"cycle_id", "product_id"}


def test_last_use_is_stamped_at_most_once_a_minute() -> None:
    from datetime import timedelta

    from django.utils import timezone

    token, raw = api_token_create(user=UserFactory())
    start = timezone.now()
    api_token_authenticate(raw=raw, now=start)
    api_token_authenticate(raw=raw, now=start + timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == start
    api_token_authenticate(raw=raw, now=start + timedelta(minutes=2))
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(minutes=2)


def test_tokens_are_listed_and_revoked_in_the_admin(client) -> None:
    from marche.accounts.models import User

    admin = User.objects.create_superuser("admin@example.test", "un-mot-de-passe-long")
    token, raw = api_token_create(user=UserFactory(), name="tableur")
    client.force_login(admin)
    listing = client.get("/django-admin/accounts/apitoken/")
    assert listing.status_code == 200
    assert token.prefix in listing.content.decode()
    assert raw not in listing.content.decode()
    response = client.post(
        "/django-admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_authenticate(raw=raw) is None
