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

from marche.accounts.errors import InvitationTargetInvalid
from marche.accounts.models import Invitation, Role, User
from marche.accounts.services import invitation_accept, invitation_create
from marche.canteens.models import Canteen
from marche.producers.models import ProducerMembership
from marche.relays.models import RelayPoint
from tests.factories import ProducerFactory, RelayPointFactory, TerritoryFactory, UserFactory

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
        ({"role": "relay_keeper"}, "relay_point", "Choisissez le point relais"),
        ({"role": "relay_keeper", "relay_point": "9999"}, "relay_point", "Choisissez un point"),
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


def test_a_relay_keeper_invited_for_a_relay_point_keeps_it_on_accepting(place) -> None:  # type: ignore[no-untyped-def]
    territory, _coordinator, _farm, _canteen, client = place
    relay = RelayPointFactory(territory=territory, name="Bureau de poste de Loos")
    other = RelayPointFactory(territory=territory, name="Épicerie du centre")
    client.post(
        "/compte/invitations/",
        {
            "email": "relais@example.org",
            "role": "relay_keeper",
            "territory": territory.pk,
            "relay_point": relay.pk,
        },
    )
    invitation = Invitation.objects.get()
    assert (invitation.role, invitation.relay_point) == ("relay_keeper", relay)
    assert (
        "Vous remettrez aux foyers les commandes déposées au point relais Bureau de poste de Loos."
        in mail.outbox[0].body
    )
    listed = client.get("/compte/invitations/").content.decode()
    assert "Responsable de point relais · Bureau de poste de Loos" in listed
    link = _link()
    page = Client().get(link).content.decode()
    assert "Vous tiendrez le point relais Bureau de poste de Loos." in page

    Client().post(link, ACCEPT)
    user = User.objects.get(email="relais@example.org")
    assert (user.role, user.territory) == (Role.RELAY_KEEPER, territory)
    assert list(user.kept_relay_points.all()) == [relay]
    assert list(other.keepers.all()) == []


def test_a_relay_point_chosen_for_another_role_is_ignored_by_the_form(place) -> None:  # type: ignore[no-untyped-def]
    territory, _coordinator, _farm, _canteen, client = place
    relay = RelayPointFactory(territory=territory)
    client.post(
        "/compte/invitations/",
        {
            "email": "livreur@example.org",
            "role": "driver",
            "territory": territory.pk,
            "relay_point": relay.pk,
        },
    )
    assert Invitation.objects.get().relay_point is None
    Client().post(_link(), ACCEPT)
    assert not relay.keepers.exists()


def test_a_relay_point_of_another_territory_cannot_be_offered(place) -> None:  # type: ignore[no-untyped-def]
    territory, _coordinator, _farm, _canteen, client = place
    elsewhere = RelayPointFactory(territory=TerritoryFactory(slug="ailleurs"))
    response = client.post(
        "/compte/invitations/",
        {
            "email": "x@example.org",
            "role": "relay_keeper",
            "territory": territory.pk,
            "relay_point": elsewhere.pk,
        },
    )
    assert response.status_code == 200
    assert "relay_point" in response.context["form"].errors
    assert Invitation.objects.count() == 0 and mail.outbox == []


@pytest.mark.parametrize(
    ("role", "targets"),
    [
        ("relay_keeper", {}),
        ("relay_keeper", {"relay_point": "elsewhere"}),
        ("relay_keeper", {"relay_point": "here", "producer": "farm"}),
        ("driver", {"relay_point": "here"}),
        ("farmer", {"producer": "farm", "relay_point": "here"}),
        ("canteen_manager", {"canteen": "canteen", "relay_point": "here"}),
    ],
)
def test_the_service_requires_the_relay_point_of_a_relay_keeper_and_no_other(  # type: ignore[no-untyped-def]
    place, role: str, targets: dict[str, str]
) -> None:
    territory, coordinator, farm, canteen, _client = place
    objects = {
        "here": RelayPointFactory(territory=territory),
        "elsewhere": RelayPointFactory(territory=TerritoryFactory(slug="ailleurs")),
        "farm": farm,
        "canteen": canteen,
    }
    with pytest.raises(InvitationTargetInvalid) as refused:
        invitation_create(
            by=coordinator,
            email="x@example.org",
            role=role,
            territory=territory,
            site_url="http://testserver",
            **{name: objects[key] for name, key in targets.items()},
        )
    assert refused.value.code == "invitation_target_invalid"
    assert "le point relais d'un responsable de point relais" in str(refused.value.message)
    assert Invitation.objects.count() == 0 and mail.outbox == []
    assert not RelayPoint.keepers.through.objects.exists()


def test_a_relay_keeper_invitation_sent_without_a_relay_point_still_opens_an_account(place) -> None:  # type: ignore[no-untyped-def]
    """Those sent before the relay point was asked: accepted, with no relay point to keep."""
    territory, coordinator, _farm, _canteen, _client = place
    relay = RelayPointFactory(territory=territory)
    invitation_create(
        by=coordinator,
        email="relais@example.org",
        role="relay_keeper",
        territory=territory,
        relay_point=relay,
        site_url="http://testserver",
    )
    Invitation.objects.update(relay_point=None)
    token = _link().rstrip("/").rsplit("/", 1)[-1]
    user = invitation_accept(token=token, first_name="Inès", last_name="Roy", password=PASSWORD)
    assert user.role == Role.RELAY_KEEPER
    assert not user.kept_relay_points.exists()
