"""What differs between territories is data: the e-mail sender, the vehicles' emission factors
and the site's legal mentions are fields of the territory, loaded from its TOML file, edited
in the admin, and used by the e-mails, the delivery plan and the legal page."""

from __future__ import annotations

import io
import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict
from django.test import Client
from django.utils import timezone
from wagtail.rich_text import RichText

import tests.logistics.test_delivery_plan as delivery_plan
from cms.demo import GENERIC_LEGAL_TEXT
from cms.models import ContentPage, HomePage
from logistics.models import DeliveryPlan, VehicleKind
from logistics.services import plan_compute
from marche.accounts.services import household_sign_up
from marche.cycles.models import Offer, OrderCycle
from marche.demo.spec import DATA_DIR
from marche.orders.services import cart_set_item, order_place
from marche.relays.models import RelayPoint
from marche.relays.services import pickup_slots_ensure
from marche.territories.models import LEGAL_FIELDS, Territory
from marche.territories.selectors import territory_emission_factors, territory_from_email
from tests.factories import TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db

LOOS = "loos.localhost:8000"
DUNKERQUE = "dunkerque.localhost:8000"
LOOS_SENDER = "Marché local de Loos-en-Gohelle <bonjour@loos-en-gohelle.demo.test>"
DUNKERQUE_SENDER = "Marché local de Dunkerque <bonjour@dunkerque.demo.test>"
# The fields this file is about: what a refused change must leave as it was.
DATA_FIELDS = ("email_sender", "emission_factors", *LEGAL_FIELDS)


@pytest.fixture
def territories(db: None) -> dict[str, Territory]:
    """Both demo territories, loaded by the real command (Dunkerque first)."""
    call_command("load_demo", territory="dunkerque", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())
    return {territory.slug: territory for territory in Territory.objects.all()}


def data_of(territory: Territory) -> dict[str, object]:
    territory.refresh_from_db()
    return {name: getattr(territory, name) for name in DATA_FIELDS}


def visible(response) -> str:  # type: ignore[no-untyped-def]
    """The page's text as people read it: no tags, scripts, styles or attributes."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def get(client: Client, host: str, path: str):  # type: ignore[no-untyped-def]
    _hostname, _, port = host.partition(":")
    return client.get(path, HTTP_HOST=host, SERVER_PORT=port or "80")


# --- the demo files ---------------------------------------------------------------------------


def test_the_demo_territories_load_their_own_sender_factors_and_mentions(
    territories: dict[str, Territory],
) -> None:
    loos, dunkerque = territories["loos-en-gohelle"], territories["dunkerque"]
    assert (loos.email_sender, dunkerque.email_sender) == (LOOS_SENDER, DUNKERQUE_SENDER)
    # Stored as text, never floats.
    assert loos.emission_factors == {
        "van": "0.269",
        "cargo_tricycle": "0.001",
        "assisted_bike": "0.0005",
    }
    assert dunkerque.emission_factors == {"van": "0.0096"}
    assert territory_emission_factors(territory=dunkerque) == {
        "van": Decimal("0.0096"),
        "cargo_tricycle": Decimal("0.001"),
        "assisted_bike": Decimal("0.0005"),
    }
    assert "Loos-en-Gohelle" in loos.legal_publisher and "fictif" in loos.legal_publisher
    assert "Dunkerquois" in dunkerque.legal_publisher and "fictif" in dunkerque.legal_publisher
    assert loos.legal_publication_director != dunkerque.legal_publication_director

    before = {slug: data_of(territory) for slug, territory in territories.items()}
    call_command("load_demo", territory="dunkerque", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())
    assert {slug: data_of(territory) for slug, territory in territories.items()} == before


# --- e-mails ----------------------------------------------------------------------------------


def _confirm_an_order(*, territory: Territory, email: str) -> None:
    """A demo household of the territory orders in its open cycle (pays at pickup)."""
    household = get_user_model().objects.get(email=email)
    now = timezone.now()
    cycle = (
        OrderCycle.objects.filter(territory=territory, opens_at__lte=now, closes_at__gt=now)
        .order_by("closes_at")
        .first()
    )
    assert cycle is not None
    offer = (
        Offer.objects.filter(cycle=cycle, unit_price__gte=Decimal("2"), product__unit="kg")
        .order_by("pk")
        .first()
    )
    cart_set_item(customer=household, cycle_id=cycle.pk, offer_id=offer.pk, count=Decimal("5"))
    relay = RelayPoint.objects.filter(territory=territory, is_active=True).order_by("pk").first()
    slot = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)[0]
    order_place(
        customer=household,
        cycle_id=cycle.pk,
        relay_point_id=relay.pk,
        pickup_slot_id=slot.pk,
        payment_method="pickup",
        idempotency_key=f"sender-{territory.slug}",
    )


def test_an_order_confirmation_comes_from_the_households_territory(
    territories: dict[str, Territory], django_capture_on_commit_callbacks
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _confirm_an_order(territory=territories["dunkerque"], email="foyer-dunkerque@demo.test")
    with django_capture_on_commit_callbacks(execute=True):
        _confirm_an_order(territory=territories["loos-en-gohelle"], email="foyer@demo.test")

    assert [(message.to, message.from_email) for message in mail.outbox] == [
        (["foyer-dunkerque@demo.test"], DUNKERQUE_SENDER),
        (["foyer@demo.test"], LOOS_SENDER),
    ]
    assert all("Commande" in message.subject for message in mail.outbox)
    # The header as mailers read it.
    assert "bonjour@dunkerque.demo.test" in mail.outbox[0].message()["From"]


def test_an_account_email_comes_from_the_territory_it_signs_up_in(
    django_capture_on_commit_callbacks,
) -> None:
    own = TerritoryFactory(email_sender="Marché de Hulluch <bonjour@hulluch.demo.test>")
    with django_capture_on_commit_callbacks(execute=True):
        household_sign_up(
            email="nouveau@example.test",
            password="un mot de passe sûr 2026",
            first_name="Léa",
            last_name="Roy",
            territory=own,
            site_url="http://hulluch.localhost",
        )
    assert [(m.to, m.from_email) for m in mail.outbox] == [
        (["nouveau@example.test"], "Marché de Hulluch <bonjour@hulluch.demo.test>")
    ]


def test_a_password_reset_comes_from_the_accounts_territory(client: Client) -> None:
    own = TerritoryFactory(email_sender="Marché de Hulluch <bonjour@hulluch.demo.test>")
    UserFactory(email="foyer@example.org", territory=own)
    UserFactory(email="sans-territoire@example.org")
    for email in ("foyer@example.org", "sans-territoire@example.org"):
        client.post("/compte/mot-de-passe/oublie/", {"email": email})
    assert [(m.to, m.from_email) for m in mail.outbox] == [
        (["foyer@example.org"], "Marché de Hulluch <bonjour@hulluch.demo.test>"),
        (["sans-territoire@example.org"], settings.DEFAULT_FROM_EMAIL),
    ]


def test_a_territory_without_sender_and_no_territory_send_from_the_default() -> None:
    assert territory_from_email(territory=TerritoryFactory(email_sender="")) == (
        settings.DEFAULT_FROM_EMAIL
    )
    assert territory_from_email(territory=None) == settings.DEFAULT_FROM_EMAIL


# --- emission factors -------------------------------------------------------------------------


def test_the_same_round_in_two_territories_emits_by_each_territorys_factor() -> None:
    default = delivery_plan.build_cycle(prefix="defaut-")
    electric = delivery_plan.build_cycle(prefix="electrique-")
    assert default.territory_id != electric.territory_id
    Territory.objects.filter(pk=electric.territory_id).update(emission_factors={"van": "0.0096"})

    plans = {}
    for cycle in (default, electric):
        result = plan_compute(cycle_id=cycle.pk, time_limit=1)
        plans[cycle.pk] = DeliveryPlan.objects.get(pk=result.plan.pk)
    first, second = plans[default.pk], plans[electric.pk]
    (route_a,) = first.routes.all()
    (route_b,) = second.routes.all()
    assert route_a.km == route_b.km > 0  # the same relays from the same depot
    assert route_a.co2_kg == (route_a.km * Decimal("0.269")).quantize(
        Decimal("0.001"), rounding=ROUND_HALF_UP
    )
    assert route_b.co2_kg == (route_b.km * Decimal("0.0096")).quantize(
        Decimal("0.001"), rounding=ROUND_HALF_UP
    )
    assert (first.total_co2_kg, second.total_co2_kg) == (route_a.co2_kg, route_b.co2_kg)
    assert second.total_co2_kg < first.total_co2_kg


def test_the_default_factors_cover_every_vehicle_kind() -> None:
    """The territory's factors are checked against the defaults' kinds: they must be the
    Vehicle model's kinds, no more and no fewer."""
    assert set(settings.LOGISTICS_EMISSION_FACTORS) == set(VehicleKind.values)


# --- legal mentions ---------------------------------------------------------------------------


def test_each_site_shows_its_own_legal_mentions_and_not_the_others(
    client: Client, territories: dict[str, Territory]
) -> None:
    loos, dunkerque = territories["loos-en-gohelle"], territories["dunkerque"]
    for host, own, other in ((LOOS, loos, dunkerque), (DUNKERQUE, dunkerque, loos)):
        response = get(client, host, "/mentions-legales/")
        assert response.status_code == 200
        text = visible(response)
        for value in (
            own.legal_publisher,
            own.legal_publication_director,
            own.legal_host,
            own.legal_registration,
        ):
            assert value in text, (host, value)
        assert "données à titre d'exemple" in text
        for value in (other.legal_publisher, other.legal_publication_director):
            assert value not in text, (host, value)

    # What a coordinator changes on the territory is what the page shows next.
    Territory.objects.filter(pk=dunkerque.pk).update(legal_publication_director="Alex Nouveau")
    text = visible(get(client, DUNKERQUE, "/mentions-legales/"))
    assert "Alex Nouveau" in text
    assert dunkerque.legal_publication_director not in text
    assert "Alex Nouveau" not in visible(get(client, LOOS, "/mentions-legales/"))


def _legal_page(territory: Territory) -> ContentPage:
    home = HomePage.objects.get(territory=territory)
    return ContentPage.objects.child_of(home).get(slug="mentions-legales")


def test_reloading_updates_a_legal_page_left_generic_and_keeps_an_edited_one(
    client: Client, territories: dict[str, Territory]
) -> None:
    loos, dunkerque = territories["loos-en-gohelle"], territories["dunkerque"]
    generic = _legal_page(loos)
    generic.body = [("paragraph", RichText(GENERIC_LEGAL_TEXT))]  # as older loads left it
    generic.save_revision().publish()
    edited = _legal_page(dunkerque)
    edited.body = [("paragraph", RichText("<p>Mot de la coordination.</p>"))]
    edited.save_revision().publish()
    assert loos.legal_publisher not in visible(get(client, LOOS, "/mentions-legales/"))

    call_command("load_demo", territory="dunkerque", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())

    assert [block.block_type for block in _legal_page(loos).body] == ["legal_mentions"]
    assert loos.legal_publisher in visible(get(client, LOOS, "/mentions-legales/"))
    text = visible(get(client, DUNKERQUE, "/mentions-legales/"))
    assert "Mot de la coordination." in text
    assert dunkerque.legal_publisher not in text


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("emission_factors", {"camion": "0.5"}, "Type de véhicule inconnu : « camion »"),
        ("emission_factors", {"van": "-0.1"}, "Un nombre négatif n'est pas accepté ici."),
        ("emission_factors", {"van": "beaucoup"}, "doit être un nombre"),
        ("emission_factors", ["van"], "Indiquez un facteur par type de véhicule"),
        ("email_sender", "Marché <pas-une-adresse>", "Adresse d'expéditeur invalide"),
        ("email_sender", "Marché <a@b.fr", "Expéditeur invalide"),
        ("email_sender", "Marché\nBcc: x@y.fr <a@b.fr>", "Expéditeur invalide"),
    ],
)
def test_the_model_refuses_bad_values_in_french(field: str, value: object, message: str) -> None:
    territory = TerritoryFactory()
    setattr(territory, field, value)
    with pytest.raises(ValidationError) as refused:
        territory.full_clean()
    assert message in " ".join(refused.value.message_dict[field])


@pytest.fixture
def superuser_client(client: Client) -> Client:
    user = get_user_model().objects.create_superuser("admin@example.test", "un mot de passe")
    client.force_login(user)
    return client


def _admin_post(client: Client, territory: Territory, **changes: str):  # type: ignore[no-untyped-def]
    data = {
        key: "" if value is None else value
        for key, value in model_to_dict(territory).items()
        if key != "id"
    }
    data["emission_factors"] = "{}"
    data.update(changes)
    return client.post(f"/django-admin/territories/territory/{territory.pk}/change/", data)


def test_the_admin_edits_the_data_and_refuses_bad_values_changing_nothing(
    superuser_client: Client,
) -> None:
    territory = TerritoryFactory(name="Hulluch", slug="hulluch")
    page = superuser_client.get(f"/django-admin/territories/territory/{territory.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Mentions légales du site" in text and "Expéditeur des e-mails" in text

    response = _admin_post(
        superuser_client,
        territory,
        email_sender="Marché de Hulluch <bonjour@hulluch.demo.test>",
        emission_factors='{"van": "0.2", "assisted_bike": 0.0005}',
        legal_publisher="Association de Hulluch (exemple fictif)",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = data_of(territory)
    assert saved["email_sender"] == "Marché de Hulluch <bonjour@hulluch.demo.test>"
    assert saved["legal_publisher"] == "Association de Hulluch (exemple fictif)"
    assert territory_emission_factors(territory=territory)["van"] == Decimal("0.2")

    for changes, message in (
        ({"emission_factors": '{"camion": "1"}'}, "Type de véhicule inconnu : « camion »"),
        ({"emission_factors": '{"van": "-1"}'}, "Un nombre négatif n&#x27;est pas accepté ici."),
        ({"email_sender": "Hulluch bonjour@hulluch"}, "Expéditeur invalide"),
    ):
        response = _admin_post(
            superuser_client,
            territory,
            **{
                "email_sender": saved["email_sender"],
                "legal_publisher": "Autre éditeur",
                **changes,
            },
        )
        assert response.status_code == 200
        assert message in response.content.decode()
        assert data_of(territory) == saved


# --- the TOML reader --------------------------------------------------------------------------

SPEC = """
[territory]
name = "Hulluch"
slug = "hulluch"
commune = "62464"
site_hostname = "hulluch.localhost"
{extra}
"""


@pytest.fixture
def write_spec(tmp_path: Path):  # type: ignore[no-untyped-def]
    for name in ("places-lensois.csv", "communes-lensois.csv"):
        shutil.copy(DATA_DIR / name, tmp_path / name)

    def write(extra: str) -> Path:
        path = tmp_path / "hulluch.toml"
        path.write_text(SPEC.format(extra=extra), encoding="utf-8")
        return path

    return write


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            'emission_factors = { camion = "0.5" }',
            "Territoire hulluch : facteurs d'émission (kg CO2e/km) : Type de véhicule inconnu "
            ": « camion ». Types connus : van, cargo_tricycle, assisted_bike.",
        ),
        (
            'emission_factors = { van = "-0.2" }',
            "Territoire hulluch : facteurs d'émission (kg CO2e/km) : Véhicule « van » : Un "
            "nombre négatif n'est pas accepté ici.",
        ),
        (
            'email_sender = "Marché de Hulluch bonjour@hulluch"',
            "Territoire hulluch : expéditeur des e-mails : Expéditeur invalide : écrivez-le "
            "« Nom <adresse@exemple.fr> ».",
        ),
        (
            'email_sendr = "Marché <a@b.fr>"',
            "Territoire hulluch : clé inconnue dans [territory] : email_sendr",
        ),
    ],
)
def test_the_toml_reader_refuses_bad_values_in_french_and_changes_nothing(
    write_spec, extra: str, message: str
) -> None:
    call_command(
        "load_demo",
        spec=write_spec('email_sender = "Marché de Hulluch <bonjour@hulluch.demo.test>"'),
        force=True,
        stdout=io.StringIO(),
    )
    territory = Territory.objects.get(slug="hulluch")
    before = (Territory.objects.count(), data_of(territory))

    with pytest.raises(CommandError) as refused:
        call_command("load_demo", spec=write_spec(extra), force=True, stdout=io.StringIO())

    assert str(refused.value) == message
    assert (Territory.objects.count(), data_of(territory)) == before
