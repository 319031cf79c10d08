"""A household's manne pages: balance, history, declarations of time given."""

from __future__ import annotations

import html
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from marche.mannes.models import RequestStatus, RewardActivity, Transaction, TransferRequest
from marche.mannes.services import (
    manne_hold,
    manne_reward_reject,
    manne_transfer,
)
from tests.factories import TerritoryFactory, UserFactory
from tests.marche.mannes.conftest import Ledger, new_key, snapshot

pytestmark = pytest.mark.django_db

URL = "/compte/mannes/"


@pytest.fixture
def garden(ledger: Ledger) -> RewardActivity:
    return RewardActivity.objects.create(
        territory=ledger.territory, name="Jardin prêté", mannes_per_hour=Decimal("2.50")
    )


@pytest.fixture
def alice(ledger: Ledger) -> Client:
    client = Client()
    client.force_login(ledger.alice)
    return client


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def _declare(client: Client, chosen: RewardActivity, **changes: str):  # type: ignore[no-untyped-def]
    key = client.get(URL).context["form"].initial["key"]
    data = {
        "given_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "activity": str(chosen.pk),
        "hours": "1,5",
        "description": "Désherbage du potager partagé",
        "key": key,
        **changes,
    }
    return client.post(URL, data), data


def test_balance_and_history_with_kinds_signs_and_counterparts(
    ledger: Ledger, alice: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    ledger.fund(ledger.alice_account, "20")
    manne_transfer(
        kind="order_payment",
        from_account=ledger.alice_account,
        to_account=ledger.farm_account,
        amount=Decimal("3.75"),
        key=new_key(),
        by=ledger.alice,
        memo="Commande 12",
    )
    manne_hold(
        account=ledger.alice_account,
        amount=Decimal("4.00"),
        key=new_key(),
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    with django_assert_max_num_queries(12):
        response = alice.get(URL)
    assert response.status_code == 200
    context = response.context
    assert (context["available"], context["held"]) == (Decimal("12.25"), Decimal("4.00"))
    lines = list(context["statement"].object_list)
    assert [(line.kind_label, line.amount, line.counterpart) for line in lines] == [
        ("paiement de commande", Decimal("-3.75"), ledger.farm.name),
        (
            "récompense de temps donné",
            Decimal("20.00"),
            "La coordination (dispositif de la monnaie locale)",
        ),
    ]
    page = _text(response)
    assert "12,25" in page and "4,00" in page
    assert "−3,75 mannes" in page and "+20,00 mannes" in page
    assert "Paiement de commande" in page and "Récompense de temps donné" in page


def test_another_household_as_counterpart_shows_a_first_name_and_initial(
    ledger: Ledger, alice: Client
) -> None:
    ledger.bob.last_name = "Durand"
    ledger.bob.save()
    ledger.fund(ledger.bob_account, "10")
    manne_transfer(
        kind="service_exchange",
        from_account=ledger.bob_account,
        to_account=ledger.alice_account,
        amount=Decimal("2"),
        key=new_key(),
        by=ledger.bob,
    )
    page = _text(alice.get(URL))
    assert "Bob D." in page and "+2,00 mannes" in page
    assert ledger.bob.email not in page


def test_declaring_one_and_a_half_hours_creates_one_pending_request(
    ledger: Ledger, alice: Client, garden: RewardActivity
) -> None:
    response, data = _declare(alice, garden)
    assert (response.status_code, response["Location"]) == (302, URL)
    request = TransferRequest.objects.get()
    assert (request.hours, request.amount, request.activity, request.status) == (
        Decimal("1.50"),
        Decimal("3.75"),
        garden,
        RequestStatus.PENDING,
    )
    assert request.given_on.isoformat() == data["given_on"]
    assert request.reason == "Jardin prêté : Désherbage du potager partagé"
    assert request.to_account.user == ledger.alice
    assert request.requested_by == ledger.alice
    # Sent twice (a double click, a reload): still one request, no money moved.
    before = snapshot()
    again = alice.post(URL, data)
    assert again.status_code == 302
    assert TransferRequest.objects.count() == 1
    assert snapshot() == before
    page = _text(alice.get(URL))
    assert 'data-declaration="pending"' in page and "en attente de validation" in page
    assert "3,75 mannes" in page and "1,5 h" in page


def test_numbers_follow_the_page_language(
    ledger: Ledger, alice: Client, garden: RewardActivity
) -> None:
    assert "Jardin prêté (2,50 par heure)" in _text(alice.get(URL))
    english = _text(alice.get("/en" + URL))
    assert "Jardin prêté (2.50 per hour)" in english and "2,50" not in english
    _declare(alice, garden)
    french = _text(alice.get(URL))
    assert "1,5 h" in french
    english = _text(alice.get("/en" + URL))
    assert "1.5 h" in english and "1,5" not in english


def test_accepted_and_refused_declarations_are_listed(
    ledger: Ledger, alice: Client, garden: RewardActivity
) -> None:
    from marche.mannes.services import manne_reward_validate

    _declare(alice, garden)
    _declare(alice, garden, hours="2")
    first, second = TransferRequest.objects.order_by("pk")
    manne_reward_validate(request_id=first.pk, coordinator=ledger.coordinator, key=new_key())
    manne_reward_reject(request_id=second.pk, coordinator=ledger.coordinator, note="Pas ce jour")
    response = alice.get(URL)
    page = _text(response)
    assert 'data-declaration="approved"' in page and 'data-declaration="rejected"' in page
    assert "acceptée" in page and "refusée" in page and "Pas ce jour" in page
    assert response.context["available"] == Decimal("3.75")


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("1e-9", "La durée doit être un nombre"),
        ("0.0000001", "La durée a 2 décimales au plus."),
        ("1,555", "La durée a 2 décimales au plus."),
        ("²", "La durée doit être un nombre"),
        ("1_5", "La durée doit être un nombre"),
        ("0", "La durée doit être plus grande que zéro."),
        ("-1", "Un nombre négatif n'est pas accepté ici."),
        ("25", "La durée ne peut pas dépasser 24."),
        ("9" * 5000, "Assurez-vous que cette valeur comporte au plus 40 caractères"),
        ("", "Indiquez la durée."),
    ],
)
def test_bad_hours_are_refused_in_french_and_change_nothing(
    ledger: Ledger, alice: Client, garden: RewardActivity, hours: str, message: str
) -> None:
    before = snapshot()
    response, _data = _declare(alice, garden, hours=hours)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["hours"])
    assert TransferRequest.objects.count() == 0 and snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"given_on": "2999-01-01"}, "given_on"),
        ({"given_on": "2000-01-01"}, "given_on"),
        ({"given_on": "31/02/2026"}, "given_on"),
        ({"activity": "999999"}, "activity"),
        ({"activity": "²"}, "activity"),
        ({"description": ""}, "description"),
        ({"description": "x" * 201}, "description"),
        ({"key": "pas-une-cle"}, "key"),
        ({"hours": "0,2"}, "__all__"),  # 0,50 manne: under the reward's minimum of 1
    ],
)
def test_other_refusals_stay_on_the_form_and_change_nothing(
    ledger: Ledger, alice: Client, garden: RewardActivity, changes: dict[str, str], field: str
) -> None:
    before = snapshot()
    response, data = _declare(alice, garden, **changes)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert TransferRequest.objects.count() == 0 and snapshot() == before
    # What was typed is kept.
    assert response.context["form"].data["hours"] == data["hours"]


FUTURE = "Cette date est à venir : indiquez le jour où vous avez donné ce temps."
TOO_OLD = "La date doit être celle d'un jour passé (ou d'aujourd'hui), dans l'année écoulée."


@pytest.mark.parametrize(
    ("given_on", "hours", "errors"),
    [
        ("tomorrow", "1,5", {"given_on": [FUTURE]}),
        (
            "tomorrow",
            "abc",
            {"given_on": [FUTURE], "hours": ["La durée doit être un nombre, par exemple 1,5."]},
        ),
        ("2000-01-01", "", {"given_on": [TOO_OLD], "hours": ["Indiquez la durée."]}),
    ],
)
def test_a_bad_date_is_shown_on_the_date_field_with_the_other_errors(
    ledger: Ledger,
    alice: Client,
    garden: RewardActivity,
    given_on: str,
    hours: str,
    errors: dict[str, list[str]],
) -> None:
    if given_on == "tomorrow":
        given_on = (timezone.localdate() + timedelta(days=1)).isoformat()
    before = snapshot()
    response, _data = _declare(alice, garden, given_on=given_on, hours=hours)
    assert response.status_code == 200
    assert response.context["form"].errors == errors
    page = _text(response)
    # Each message is printed inside its field's group, none above the form.
    assert 'class="message error"' not in page
    date_group = page.split('for="id_given_on"')[1].split('<div class="field">')[0]
    assert errors["given_on"][0] in date_group
    assert TransferRequest.objects.count() == 0 and snapshot() == before


def test_today_is_accepted_and_the_service_refusal_lands_on_its_field(
    ledger: Ledger, alice: Client, garden: RewardActivity, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from marche.mannes import views
    from marche.mannes.errors import GivenOnInvalid

    response, _data = _declare(alice, garden, given_on=timezone.localdate().isoformat())
    assert response.status_code == 302
    assert TransferRequest.objects.get().given_on == timezone.localdate()

    # Midnight passing between the form's check and the service's: the field still says so.
    def refuse(**kwargs: object) -> None:
        raise GivenOnInvalid()

    monkeypatch.setattr(views, "manne_time_declare", refuse)
    response, _data = _declare(alice, garden)
    assert response.context["form"].errors == {"given_on": [TOO_OLD]}


def test_an_activity_of_another_territory_is_refused(ledger: Ledger, alice: Client) -> None:
    elsewhere = RewardActivity.objects.create(
        territory=TerritoryFactory(slug="ailleurs"), name="Ailleurs", mannes_per_hour=Decimal("5")
    )
    RewardActivity.objects.create(territory=ledger.territory, name="Bénévolat")
    response, _data = _declare(alice, elsewhere)
    assert response.status_code == 200
    assert TransferRequest.objects.count() == 0


def test_without_activities_the_form_is_replaced_by_a_note(ledger: Ledger, alice: Client) -> None:
    page = _text(alice.get(URL))
    assert "data-declare" not in page
    assert "pas encore ouvert de déclarations" in page


@pytest.mark.parametrize("page", ["0", "-1", "abc", "9" * 5000, "2"])
def test_any_page_number_answers(ledger: Ledger, alice: Client, page: str) -> None:
    ledger.fund(ledger.alice_account, "5")
    assert alice.get(URL, {"page": page}).status_code == 200


def test_a_household_without_an_account_sees_zero(ledger: Ledger) -> None:
    newcomer = UserFactory(territory=ledger.territory)
    client = Client()
    client.force_login(newcomer)
    response = client.get(URL)
    assert response.status_code == 200
    assert (response.context["available"], response.context["statement"]) == (Decimal("0"), None)
    assert 'data-link="mannes"' in client.get("/compte/").content.decode()


def test_no_local_currency_no_page_and_no_link(db: None) -> None:
    household = UserFactory(territory=TerritoryFactory(local_currency_enabled=False))
    client = Client()
    client.force_login(household)
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"hours": "1"}).status_code == 404
    assert 'data-link="mannes"' not in client.get("/compte/").content.decode()
    assert Transaction.objects.count() == 0


def test_other_roles_and_anonymous_do_not_get_the_page(ledger: Ledger) -> None:
    farmer = Client()
    farmer.force_login(ledger.farmer)
    assert farmer.get(URL).status_code == 404
    anonymous = Client().get(URL)
    assert (anonymous.status_code, anonymous["Location"]) == (
        302,
        "/compte/connexion/?next=/compte/mannes/",
    )


def test_csrf_is_required(ledger: Ledger, garden: RewardActivity) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ledger.alice)
    response = strict.post(URL, {"hours": "1,5", "activity": garden.pk})
    assert response.status_code == 403
    assert TransferRequest.objects.count() == 0
