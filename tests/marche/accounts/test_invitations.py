"""Coordinators invite farmers, canteen managers and drivers with a one-time link."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from marche.accounts.models import Invitation, Role, User
from marche.canteens.models import Canteen
from marche.producers.models import ProducerMembership
from tests.factories import ProducerFactory, TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/compte/invitation/[^/\s]+/)")
PASSWORD = "Champs-de-Loos-2026"
ACCEPT = {
    "first_name": "Jules",
    "last_name": "Martin",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "terms": "on",
}


@pytest.fixture
def place():  # type: ignore[no-untyped-def]
    territory = TerritoryFactory(name="Loos-en-Gohelle", slug="loos")
    coordinator = UserFactory(
        email="coordination@example.org", role=Role.COORDINATOR, territory=territory
    )
    farm = ProducerFactory(territory=territory, name="Ferme du Marais")
    canteen = Canteen.objects.create(
        territory=territory,
        name="École maternelle",
        slug="ecole",
        kind="nursery_school",
        latitude=Decimal("50.45"),
        longitude=Decimal("2.79"),
    )
    client = Client()
    client.force_login(coordinator)
    return territory, coordinator, farm, canteen, client


def _link() -> str:
    found = LINK.search(mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return found.group(1)


def test_a_farmer_invited_joins_the_producer_once(place) -> None:  # type: ignore[no-untyped-def]
    territory, coordinator, farm, _canteen, client = place
    response = client.post(
        "/compte/invitations/",
        {
            "email": "Jules@Example.org",
            "role": "farmer",
            "territory": territory.pk,
            "producer": farm.pk,
        },
    )
    assert (response.status_code, response["Location"]) == (302, "/compte/invitations/")
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.producer, invitation.invited_by) == (
        "jules@example.org",
        "farmer",
        farm,
        coordinator,
    )
    assert mail.outbox[0].to == ["jules@example.org"]
    assert "Ferme du Marais" in mail.outbox[0].body
    link = _link()
    assert invitation.token_hash not in link  # only a hash is stored

    invitee = Client()
    page = invitee.get(link).content.decode()
    assert "jules@example.org" in page and "Ferme du Marais" in page
    weak = invitee.post(link, {**ACCEPT, "password1": "jules", "password2": "jules"})
    assert weak.status_code == 200 and not User.objects.filter(email="jules@example.org").exists()
    done = invitee.post(link, ACCEPT)
    assert (done.status_code, done["Location"]) == (302, "/compte/connexion/")
    user = User.objects.get(email="jules@example.org")
    assert (user.role, user.territory, user.is_active, user.first_name) == (
        Role.FARMER,
        territory,
        True,
        "Jules",
    )
    assert user.email_verified_at is not None
    assert list(
        ProducerMembership.objects.filter(user=user).values_list("producer", flat=True)
    ) == [farm.pk]
    invitation.refresh_from_db()
    assert invitation.accepted_user == user and invitation.accepted_at is not None

    # One time only: the same link is refused and creates nothing.
    reused = Client().post(link, {**ACCEPT, "first_name": "Intrus"})
    assert reused.status_code == 404
    assert "déjà servi" in reused.content.decode()
    assert User.objects.filter(email="jules@example.org").count() == 1
    assert User.objects.get(email="jules@example.org").first_name == "Jules"
    logged = Client().post(
        "/compte/connexion/", {"username": "jules@example.org", "password": PASSWORD}
    )
    assert logged.status_code == 302


def test_accepting_an_invitation_asks_to_accept_the_terms_and_records_it(place) -> None:  # type: ignore[no-untyped-def]
    territory, _coordinator, _farm, _canteen, client = place
    client.post(
        "/compte/invitations/",
        {"email": "livreur@example.org", "role": "driver", "territory": territory.pk},
    )
    link = _link()
    invitee = Client()
    page = invitee.get(link).content.decode()
    assert 'name="terms"' in page and 'href="/conditions/"' in page
    refused = invitee.post(link, {key: value for key, value in ACCEPT.items() if key != "terms"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["terms"] == [
        "Acceptez les conditions d'utilisation pour continuer."
    ]
    assert not User.objects.filter(email="livreur@example.org").exists()
    assert Invitation.objects.get().accepted_at is None
    moment = timezone.now().replace(microsecond=0)
    with time_machine.travel(moment, tick=False):
        invitee.post(link, ACCEPT)
    assert User.objects.get(email="livreur@example.org").terms_accepted_at == moment


def test_a_canteen_manager_invited_manages_the_canteen(place) -> None:  # type: ignore[no-untyped-def]
    territory, _coordinator, _farm, canteen, client = place
    client.post(
        "/compte/invitations/",
        {
            "email": "cantine@example.org",
            "role": "canteen_manager",
            "territory": territory.pk,
            "canteen": canteen.pk,
        },
    )
    Client().post(_link(), ACCEPT)
    user = User.objects.get(email="cantine@example.org")
    assert user.role == Role.CANTEEN_MANAGER
    assert list(user.managed_canteens.all()) == [canteen]


def test_a_driver_invited_gets_the_driver_role(place) -> None:  # type: ignore[no-untyped-def]
    territory, _coordinator, farm, _canteen, client = place
    # A producer chosen with the driver role is ignored, not attached.
    client.post(
        "/compte/invitations/",
        {
            "email": "livreur@example.org",
            "role": "driver",
            "territory": territory.pk,
            "producer": farm.pk,
        },
    )
    assert Invitation.objects.get().producer is None
    Client().post(_link(), ACCEPT)
    user = User.objects.get(email="livreur@example.org")
    assert user.role == Role.DRIVER
    assert not ProducerMembership.objects.filter(user=user).exists()


def test_an_expired_link_is_refused(place) -> None:  # type: ignore[no-untyped-def]
    territory, _coordinator, _farm, _canteen, client = place
    client.post(
        "/compte/invitations/",
        {"email": "livreur@example.org", "role": "driver", "territory": territory.pk},
    )
    link = _link()
    with time_machine.travel(timezone.now() + timedelta(days=14, minutes=1)):
        response = Client().post(link, ACCEPT)
        assert response.status_code == 410
        assert "a expiré" in response.content.decode()
    assert not User.objects.filter(email="livreur@example.org").exists()


def test_a_revoked_or_replaced_link_is_refused(place) -> None:  # type: ignore[no-untyped-def]
    territory, _coordinator, _farm, _canteen, client = place
    data = {"email": "livreur@example.org", "role": "driver", "territory": territory.pk}
    client.post("/compte/invitations/", data)
    first = _link()
    client.post("/compte/invitations/", data)  # a second invitation replaces the first
    second = _link()
    assert Client().get(first).status_code == 404
    latest = Invitation.objects.order_by("-pk").first()
    client.post(f"/compte/invitations/{latest.pk}/annuler/")
    assert Client().get(second).status_code == 404
    assert not User.objects.filter(email="livreur@example.org").exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"role": "farmer"}, "producer", "Choisissez le producteur"),
        ({"role": "canteen_manager"}, "canteen", "Choisissez la cantine"),
        ({"role": "coordinator"}, "role", "Choisissez un rôle"),
        ({"role": "household"}, "role", "Choisissez un rôle"),
        ({"role": "farmer", "producer": "²"}, "producer", "Choisissez un producteur"),
        ({"role": "driver", "email": "pas-une-adresse"}, "email", "adresse e-mail valide"),
    ],
)
def test_invitation_form_refusals(place, data: dict[str, str], field: str, message: str) -> None:  # type: ignore[no-untyped-def]
    territory, _coordinator, _farm, _canteen, client = place
    response = client.post(
        "/compte/invitations/",
        {"email": "x@example.org", "territory": territory.pk, **data},
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert Invitation.objects.count() == 0 and mail.outbox == []


def test_a_producer_of_another_territory_cannot_be_offered(place) -> None:  # type: ignore[no-untyped-def]
    territory, _coordinator, _farm, _canteen, client = place
    elsewhere = ProducerFactory(territory=TerritoryFactory(slug="ailleurs"))
    response = client.post(
        "/compte/invitations/",
        {
            "email": "x@example.org",
            "role": "farmer",
            "territory": territory.pk,
            "producer": elsewhere.pk,
        },
    )
    assert response.status_code == 200
    assert Invitation.objects.count() == 0


def test_an_address_with_an_account_cannot_be_invited(place) -> None:  # type: ignore[no-untyped-def]
    territory, _coordinator, _farm, _canteen, client = place
    UserFactory(email="deja@example.org")
    response = client.post(
        "/compte/invitations/",
        {"email": "DEJA@example.org", "role": "driver", "territory": territory.pk},
        follow=True,
    )
    assert "Un compte utilise déjà cette adresse e-mail." in response.content.decode()
    assert Invitation.objects.count() == 0 and mail.outbox == []


@pytest.mark.parametrize("role", [Role.HOUSEHOLD, Role.FARMER, Role.DRIVER, Role.CANTEEN_MANAGER])
def test_only_the_coordination_invites(place, role: Role) -> None:  # type: ignore[no-untyped-def]
    territory, _coordinator, _farm, _canteen, _client = place
    client = Client()
    client.force_login(UserFactory(role=role, territory=territory))
    assert client.get("/compte/invitations/").status_code == 403
    response = client.post(
        "/compte/invitations/",
        {"email": "x@example.org", "role": "driver", "territory": territory.pk},
    )
    assert response.status_code == 403
    assert Invitation.objects.count() == 0 and mail.outbox == []
    assert "Inviter" not in client.get("/compte/").content.decode()
    assert Client().get("/compte/invitations/").status_code == 302  # anonymous: to login


def test_the_coordinator_sees_invitations_and_a_menu_entry_in_the_wagtail_admin(place) -> None:  # type: ignore[no-untyped-def]
    territory, coordinator, _farm, _canteen, client = place
    client.post(
        "/compte/invitations/",
        {"email": "livreur@example.org", "role": "driver", "territory": territory.pk},
    )
    page = client.get("/compte/invitations/").content.decode()
    assert 'data-invitation="livreur@example.org"' in page and "en attente" in page
    assert 'data-link="invitations"' in client.get("/compte/").content.decode()
    coordinator.is_superuser = True
    coordinator.is_staff = True
    coordinator.save()
    client.force_login(coordinator)
    assert "/compte/invitations/" in client.get("/admin/").content.decode()


@pytest.mark.parametrize("token", ["x", "²", "a" * 3000])
def test_bad_invitation_links_are_404_not_500(client: Client, token: str) -> None:
    response = client.get(f"/compte/invitation/{token}/")
    assert response.status_code == 404


def test_revoking_an_unknown_or_foreign_invitation_is_refused(place) -> None:  # type: ignore[no-untyped-def]
    _territory, _coordinator, _farm, _canteen, client = place
    other = TerritoryFactory(slug="ailleurs")
    foreign = Invitation.objects.create(
        email="z@example.org",
        role="driver",
        territory=other,
        invited_by=UserFactory(role=Role.COORDINATOR, territory=other),
        token_hash="0" * 64,
        expires_at=timezone.now() + timedelta(days=1),
    )
    for target in (str(foreign.pk), "99999999", "²", "9" * 30):
        response = client.post(f"/compte/invitations/{target}/annuler/")
        assert response.status_code in {302, 403, 404}
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_with_one_territory_the_page_form_works_without_choosing_it(place) -> None:  # type: ignore[no-untyped-def]
    _territory, _coordinator, _farm, _canteen, client = place
    page = client.get("/compte/invitations/")
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in ("territory",)}
    assert data["territory"]  # the hidden field carries the only territory
    client.post("/compte/invitations/", {"email": "livreur@example.org", "role": "driver", **data})
    assert Invitation.objects.get().email == "livreur@example.org"


def test_invitations_are_listed_read_only_in_the_django_admin(place) -> None:  # type: ignore[no-untyped-def]
    territory, coordinator, _farm, _canteen, client = place
    coordinator.is_staff = coordinator.is_superuser = True
    coordinator.save()
    client.force_login(coordinator)
    client.post(
        "/compte/invitations/",
        {"email": "livreur@example.org", "role": "driver", "territory": territory.pk},
    )
    invitation = Invitation.objects.get()
    listing = client.get("/django-admin/accounts/invitation/")
    assert listing.status_code == 200 and "livreur@example.org" in listing.content.decode()
    detail = client.get(f"/django-admin/accounts/invitation/{invitation.pk}/change/")
    assert detail.status_code == 200
    assert invitation.token_hash not in detail.content.decode()
