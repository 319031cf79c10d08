"""The relay keeper's pickup page: who sees it, handing orders over, refusals, QR codes."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import segno
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from marche.accounts.models import Invitation, Role, User
from marche.accounts.services import invitation_accept, invitation_create
from marche.cycles.models import OrderCycle
from marche.orders import exports
from marche.orders.models import Order, OrderStatus
from marche.orders.selectors import packing_list_for_relay
from marche.payments.models import Payment, PaymentStatus, PickupMeans
from marche.payments.services import PickupNotAllowed, order_collect, user_can_record_pickup
from marche.relays.models import RelayPoint
from marche.relays.qr import order_pickup_url, order_qr, order_qr_rows, order_qr_svg
from marche.relays.selectors import (
    PICKUP_DAYS,
    folded,
    relay_delivery_status,
    relay_pickup_orders,
    relay_points_for_keeper,
    short_name,
)
from tests.factories import OrderCycleFactory, RelayPointFactory, TerritoryFactory
from tests.marche.orders.test_pick_lists import Prep, build_prep, person

pytestmark = pytest.mark.django_db


@dataclass
class Shop:
    """A closed cycle delivered today: Alice at the Mairie, Bob at the Poste, their keepers."""

    prep: Prep
    keeper: User  # keeps the Mairie
    poste_keeper: User  # keeps the Poste
    elsewhere: User  # coordinator of another territory

    @property
    def alice(self) -> Order:
        return self.prep.alice

    @property
    def bob(self) -> Order:
        return self.prep.bob


def deliver_today(cycle: OrderCycle) -> None:
    OrderCycle.objects.filter(pk=cycle.pk).update(delivery_date=timezone.localdate())
    cycle.refresh_from_db()


@pytest.fixture
def shop() -> Shop:
    prep = build_prep()
    deliver_today(prep.cycle)
    keeper = person(
        email="epicerie@example.test",
        role=Role.RELAY_KEEPER,
        first_name="Nadia",
        last_name="Lefebvre",
    )
    prep.mairie.keepers.add(keeper)
    poste_keeper = person(email="poste@example.test", role=Role.RELAY_KEEPER)
    prep.poste.keepers.add(poste_keeper)
    elsewhere = person(
        email="coord-ailleurs@example.test",
        role=Role.COORDINATOR,
        territory=TerritoryFactory(name="Liévin", slug="lievin"),
    )
    # The cycle's coordinator is bound to its territory.
    User.objects.filter(pk=prep.coordinator.pk).update(territory=prep.cycle.territory)
    prep.coordinator.refresh_from_db()
    return Shop(prep=prep, keeper=keeper, poste_keeper=poste_keeper, elsewhere=elsewhere)


def logged(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_url(relay: RelayPoint, **params: str) -> str:
    url = reverse("relays:pickup", kwargs={"slug": relay.slug})
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def hand_over_url(relay: RelayPoint) -> str:
    return reverse("relays:hand_over", kwargs={"slug": relay.slug})


def snapshot(order: Order) -> dict[str, object]:
    """Everything a refused handover must leave unchanged."""
    order.refresh_from_db()
    return {
        "order": (order.status, order.total, order.is_final, order.updated_at),
        "payments": list(
            Payment.objects.filter(order=order)
            .order_by("pk")
            .values_list("amount", "status", "means", "recorded_by_id", "recorded_at")
        ),
        "mails": len(mail.outbox),
    }


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the page -------------------------------------------------------------------------------


def test_keeper_sees_the_current_pickup_with_short_names_amounts_and_means(shop) -> None:
    response = logged(shop.keeper).get(page_url(shop.prep.mairie))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mairie" in html
    assert "Livraison du" in html
    assert shop.alice.reference in html
    assert "Alice D." in html and "Durand" not in html
    # Alice pays at pickup: the amount and the cash/cheque choice, then "Remis".
    assert "27,55" in html or str(shop.alice.total).replace(".", ",") in html
    assert 'name="means" value="cash"' in html and 'name="means" value="cheque"' in html
    assert ">Remis</button>" in html
    assert '<a href="/relais/">Retraits</a>' in html  # the keeper's way back here
    # Bob's order is for the Poste: not on the Mairie's page.
    assert shop.bob.reference not in html
    assert "Remises : 0 sur 1 commande" in html


def test_pickup_orders_selector_rows_and_counts(shop) -> None:
    pickup = relay_pickup_orders(relay_point=shop.prep.mairie, cycle=shop.prep.cycle)
    assert (pickup.total, pickup.collected) == (1, 0)
    [row] = pickup.orders
    alice = shop.alice
    alice.refresh_from_db()
    assert row.reference == alice.reference
    assert row.customer == "Alice D."
    assert row.baskets == 1
    assert row.lines == 3  # the basket, the carrots, the eggs
    assert row.pays_at_pickup is True
    assert row.amount_due == alice.total
    assert row.is_final is True
    assert row.is_collected is False


def test_short_name() -> None:
    assert short_name(User(first_name="Camille", last_name="dupont")) == "Camille D."
    assert short_name(User(first_name=" Camille ", last_name="")) == "Camille"
    assert short_name(User(first_name="", last_name="Dupont")) == "Dupont"
    assert short_name(User()) == "Nom non renseigné"


def test_search_by_reference_or_name(shop) -> None:
    client = logged(shop.prep.coordinator)
    poste = shop.prep.poste
    ref = shop.bob.reference
    assert ref in client.get(page_url(poste, q="mart")).content.decode()
    assert ref in client.get(page_url(poste, q=ref.lower())).content.decode()
    assert ref in client.get(page_url(poste, q="Bob")).content.decode()
    html = client.get(page_url(poste, q="zorro")).content.decode()
    assert ref not in html
    assert "Aucune commande ne correspond à « zorro »." in html
    # The counts are the whole pickup's, whatever the search.
    assert "Remises : 0 sur 1 commande" in html


def test_page_queries_do_not_grow_with_orders(shop, django_assert_max_num_queries) -> None:
    client = logged(shop.keeper)
    url = page_url(shop.prep.mairie)
    client.get(url)  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(4):
        Order.objects.filter(pk=shop.alice.pk).first()
        clone = Order.objects.get(pk=shop.alice.pk)
        clone.pk = None
        clone.reference = f"{shop.alice.reference[:14]}X{index}"
        clone.idempotency_key = f"clone-{index}"
        clone.save()
    with django_assert_max_num_queries(len(few)):
        response = client.get(url)
    assert response.content.decode().count('<li id="commande-') == 5


def test_another_recent_cycle_can_be_chosen_and_an_old_one_is_not_current(shop) -> None:
    client = logged(shop.keeper)
    territory = shop.prep.cycle.territory
    old = OrderCycleFactory(
        territory=territory,
        name="Semaine 40",
        opens_at=timezone.now() - timedelta(days=70),
        closes_at=timezone.now() - timedelta(days=66),
        delivery_date=timezone.localdate() - timedelta(days=64),
    )
    html = client.get(page_url(shop.prep.mairie)).content.decode()
    assert "Semaine 40" in html  # in the list of cycles
    html = client.get(page_url(shop.prep.mairie, cycle=str(old.pk))).content.decode()
    assert "Ce n&#x27;est pas le retrait en cours" in html or "pas le retrait en cours" in html
    assert "Aucune commande à remettre" in html
    # Once the latest delivery is older than the pickup days, nothing is current.
    OrderCycle.objects.filter(pk=shop.prep.cycle.pk).update(
        delivery_date=timezone.localdate() - timedelta(days=PICKUP_DAYS + 1)
    )
    html = client.get(page_url(shop.prep.mairie)).content.decode()
    assert "Aucun retrait en cours" in html
    assert shop.alice.reference not in html


@pytest.mark.parametrize("cycle", ["abc", "0", "-1", "99999999999999999999", "١٢"])
def test_bad_cycle_parameter_is_a_french_404(shop, cycle) -> None:
    response = logged(shop.keeper).get(page_url(shop.prep.mairie, cycle=cycle))
    assert response.status_code == 404
    assert "Ce cycle de commande n&#x27;existe pas pour ce point relais." in (
        response.content.decode()
    )


def test_another_territorys_cycle_is_a_404(shop) -> None:
    other = OrderCycleFactory(delivery_date=timezone.localdate())
    response = logged(shop.keeper).get(page_url(shop.prep.mairie, cycle=str(other.pk)))
    assert response.status_code == 404


def test_long_or_odd_search_is_harmless(shop) -> None:
    client = logged(shop.keeper)
    for q in ["x" * 5000, "%25", "%00", "a%00b", "<script>", "'; drop table"]:
        response = client.get(page_url(shop.prep.mairie, q=q))
        assert response.status_code == 200
        assert "<script>" not in response.content.decode().split("<main", 1)[1]
    for params in ({"commande": "%00"}, {"territoire": "%00"}, {"commande": "x" * 3000}):
        assert client.get(page_url(shop.prep.mairie, **params)).status_code == 200
    assert client.get(reverse("relays:order_qr", args=["A\x00B"])).status_code == 404
    assert client.get("/relais/commande/A%00B/").status_code == 404


# --- handing over ---------------------------------------------------------------------------


def test_keeper_hands_over_a_pay_at_pickup_order_and_the_payment_is_recorded(
    shop, django_capture_on_commit_callbacks
) -> None:
    client = logged(shop.keeper)
    relay = shop.prep.mairie
    alice = shop.alice
    back = page_url(relay) + f"#commande-{alice.reference}"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            hand_over_url(relay), {"order": alice.reference, "means": "cheque", "next": back}
        )
    assert response.status_code == 302 and response["Location"] == back
    alice.refresh_from_db()
    assert alice.status == OrderStatus.COLLECTED
    payment = Payment.objects.get(order=alice, method="pickup")
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.means == PickupMeans.CHEQUE
    assert payment.amount == alice.total
    assert payment.recorded_by == shop.keeper
    amount = f"{alice.total:.2f}".replace(".", ",")
    assert messages_of(response) == [
        f"Commande {alice.reference} remise ; {amount} € encaissés en chèque."
    ]
    html = client.get(page_url(relay)).content.decode()
    assert "Déjà remis" in html and "payé en chèque" in html
    assert "Remises : 1 sur 1 commande" in html


def test_double_tap_or_replay_changes_nothing(shop) -> None:
    client = logged(shop.keeper)
    relay = shop.prep.mairie
    alice = shop.alice
    client.post(hand_over_url(relay), {"order": alice.reference, "means": "cash"})
    before = snapshot(alice)
    response = client.post(hand_over_url(relay), {"order": alice.reference, "means": "cheque"})
    assert response.status_code == 302
    assert messages_of(response)[-1] == f"Commande {alice.reference} : déjà remise."
    assert snapshot(alice) == before
    assert Payment.objects.filter(order=alice, method="pickup").count() == 1
    assert Payment.objects.get(order=alice, method="pickup").means == PickupMeans.CASH


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"order": "INCONNUE", "means": "cash"},
            "Aucune commande avec cette référence n'est à retirer à ce point relais.",
        ),
        (
            {"order": "", "means": "cash"},
            "Aucune commande avec cette référence n'est à retirer à ce point relais.",
        ),
        (
            {"means": "cash"},
            "Aucune commande avec cette référence n'est à retirer à ce point relais.",
        ),
        (
            {"order": "A\x00B", "means": "cash"},
            "Aucune commande avec cette référence n'est à retirer à ce point relais.",
        ),
        (
            {"order": "X" * 5000, "means": "cash"},
            "Aucune commande avec cette référence n'est à retirer à ce point relais.",
        ),
        ({"order": "ALICE"}, "Indiquez le moyen de paiement reçu : espèces ou chèque."),
        (
            {"order": "ALICE", "means": ""},
            "Indiquez le moyen de paiement reçu : espèces ou chèque.",
        ),
        (
            {"order": "ALICE", "means": "cash\x00"},
            "Indiquez le moyen de paiement reçu : espèces ou chèque.",
        ),
        (
            {"order": "ALICE", "means": "bitcoin"},
            "Indiquez le moyen de paiement reçu : espèces ou chèque.",
        ),
        # Bob's order is the Poste's: a forged form on the Mairie's page is refused.
        (
            {"order": "BOB", "means": "cash"},
            "Aucune commande avec cette référence n'est à retirer à ce point relais.",
        ),
    ],
)
def test_bad_handover_is_refused_in_french_and_changes_nothing(shop, data, message) -> None:
    refs = {"ALICE": shop.alice.reference, "BOB": shop.bob.reference}
    data = {key: refs.get(value, value) for key, value in data.items()}
    before = (snapshot(shop.alice), snapshot(shop.bob))
    relay = shop.prep.mairie
    response = logged(shop.keeper).post(hand_over_url(relay), data, HTTP_REFERER=page_url(relay))
    assert response.status_code == 302
    assert response["Location"] == page_url(relay)
    assert messages_of(response) == [message]
    assert (snapshot(shop.alice), snapshot(shop.bob)) == before


def test_an_unweighed_order_cannot_be_handed_over(shop) -> None:
    relay = shop.prep.poste
    client = logged(shop.poste_keeper)
    html = client.get(page_url(relay)).content.decode()
    assert "Produits à peser avant la remise" in html and " disabled " in html
    before = snapshot(shop.bob)
    response = client.post(hand_over_url(relay), {"order": shop.bob.reference, "means": "cash"})
    assert messages_of(response) == [
        "Des produits à poids variable ne sont pas encore pesés : le prix n'est pas définitif."
    ]
    assert snapshot(shop.bob) == before


def test_handover_before_the_cutoff_is_refused(shop) -> None:
    OrderCycle.objects.filter(pk=shop.prep.cycle.pk).update(
        closes_at=timezone.now() + timedelta(hours=2)
    )
    before = snapshot(shop.alice)
    response = logged(shop.keeper).post(
        hand_over_url(shop.prep.mairie), {"order": shop.alice.reference, "means": "cash"}
    )
    assert messages_of(response) == [
        "Les commandes de ce cycle ne sont pas closes : pas de retrait avant."
    ]
    assert snapshot(shop.alice) == before


def test_a_card_paid_order_is_handed_over_without_means(shop) -> None:
    Order.objects.filter(pk=shop.alice.pk).update(payment_method="card")
    Payment.objects.filter(order=shop.alice).update(method="card", status=PaymentStatus.SUCCEEDED)
    client = logged(shop.keeper)
    html = client.get(page_url(shop.prep.mairie)).content.decode()
    assert "Déjà payée : rien à encaisser." in html and 'name="means"' not in html
    response = client.post(hand_over_url(shop.prep.mairie), {"order": shop.alice.reference})
    assert messages_of(response) == [f"Commande {shop.alice.reference} remise."]
    shop.alice.refresh_from_db()
    assert shop.alice.status == OrderStatus.COLLECTED


def test_handover_by_get_is_not_allowed(shop) -> None:
    response = logged(shop.keeper).get(hand_over_url(shop.prep.mairie))
    assert response.status_code == 405


# --- who may ---------------------------------------------------------------------------------


def _outsiders(shop: Shop) -> dict[str, User]:
    return {
        "household": User.objects.get(email="alice@example.test"),
        "farmer": shop.prep.farmer_cocagne,
        "driver": shop.prep.driver,
        "another relay's keeper": shop.poste_keeper,
        "another territory's coordinator": shop.elsewhere,
    }


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("household", 403),
        ("farmer", 403),
        ("driver", 403),
        ("another relay's keeper", 403),
        # another territory's relay point is as if it did not exist
        ("another territory's coordinator", 404),
    ],
)
def test_outsiders_are_refused_and_change_nothing(shop, who, status) -> None:
    user = _outsiders(shop)[who]
    if who == "another territory's coordinator":
        # who runs their own territory's pickups: this territory's relay point is not found
        RelayPointFactory(name="Gare de Liévin", slug="gare", territory=user.territory)
    client = logged(user)
    relay = shop.prep.mairie
    assert client.get(page_url(relay)).status_code == status
    before = snapshot(shop.alice)
    response = client.post(hand_over_url(relay), {"order": shop.alice.reference, "means": "cash"})
    assert response.status_code == status
    assert snapshot(shop.alice) == before
    assert shop.alice.reference not in response.content.decode()


@pytest.mark.parametrize("who", ["household", "farmer", "driver"])
def test_outsiders_have_no_relay_index(shop, who) -> None:
    assert logged(_outsiders(shop)[who]).get(reverse("relays:index")).status_code == 403


def test_anonymous_is_sent_to_log_in(shop) -> None:
    response = Client().get(page_url(shop.prep.mairie))
    assert response.status_code == 302 and "/compte/" in response["Location"]
    before = snapshot(shop.alice)
    Client().post(hand_over_url(shop.prep.mairie), {"order": shop.alice.reference})
    assert snapshot(shop.alice) == before


def test_who_runs_which_relay_points(shop) -> None:
    mairie, poste = shop.prep.mairie, shop.prep.poste
    other = RelayPointFactory(
        name="Gare de Liévin", slug="gare", territory=shop.elsewhere.territory
    )
    superuser = person(email="root@example.test", is_superuser=True, is_staff=True)
    unbound = person(email="coord-partout@example.test", role=Role.COORDINATOR)

    def names(user: User) -> list[str]:
        return list(relay_points_for_keeper(user=user).values_list("name", flat=True))

    assert names(shop.keeper) == ["Mairie"]
    assert names(shop.prep.coordinator) == ["Mairie", "Poste"]
    assert names(shop.elsewhere) == ["Gare de Liévin"]
    assert names(unbound) == ["Gare de Liévin", "Mairie", "Poste"]
    assert names(superuser) == ["Gare de Liévin", "Mairie", "Poste"]
    assert names(shop.prep.driver) == []
    for user in (shop.prep.coordinator, unbound, superuser):
        assert logged(user).get(page_url(mairie)).status_code == 200
    # A keeper of one relay point goes straight to it; others choose.
    response = logged(shop.keeper).get(reverse("relays:index"))
    assert response.status_code == 302 and response["Location"] == page_url(mairie)
    html = logged(shop.prep.coordinator).get(reverse("relays:index")).content.decode()
    assert page_url(mairie) in html and page_url(poste) in html and "Liévin" not in html
    assert other.pk


def test_unknown_relay_point_is_a_404(shop) -> None:
    assert logged(shop.keeper).get(page_url(RelayPoint(slug="nulle-part"))).status_code == 404


def test_two_relay_points_with_one_slug_are_told_apart_by_territory(shop) -> None:
    superuser = person(email="root@example.test", is_superuser=True, is_staff=True)
    RelayPointFactory(name="Mairie de Liévin", slug="mairie", territory=shop.elsewhere.territory)
    client = logged(superuser)
    response = client.get(page_url(shop.prep.mairie))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Quel point relais ?" in html and "territoire=lievin" in html
    slug = shop.prep.cycle.territory.slug
    html = client.get(page_url(shop.prep.mairie, territoire=slug)).content.decode()
    assert shop.alice.reference in html
    # The form carries the territory: handing over works for the right Mairie.
    response = client.post(
        hand_over_url(shop.prep.mairie),
        {"order": shop.alice.reference, "means": "cash", "territoire": slug},
    )
    shop.alice.refresh_from_db()
    assert shop.alice.status == OrderStatus.COLLECTED
    # Without it, a form cannot say which one: 404, nothing else.
    assert client.post(hand_over_url(shop.prep.mairie), {"order": "x"}).status_code == 404


def test_service_level_keeper_rights(shop) -> None:
    """``order_collect`` lets a keeper record pickups only at the relay points they keep."""
    assert user_can_record_pickup(user=shop.keeper)
    assert user_can_record_pickup(user=shop.keeper, relay_point_id=shop.prep.mairie.pk)
    assert not user_can_record_pickup(user=shop.keeper, relay_point_id=shop.prep.poste.pk)
    assert not user_can_record_pickup(
        user=shop.keeper,
        territory_id=shop.elsewhere.territory_id,
        relay_point_id=shop.prep.mairie.pk,
    )
    household = User.objects.get(email="alice@example.test")
    assert not user_can_record_pickup(user=household)
    before = snapshot(shop.bob)
    with pytest.raises(PickupNotAllowed):
        order_collect(order_id=shop.bob.pk, means="cash", by=shop.keeper)
    assert snapshot(shop.bob) == before
    order = order_collect(order_id=shop.alice.pk, means="cash", by=shop.keeper)
    assert order.status == OrderStatus.COLLECTED


def test_a_relay_keeper_can_be_invited(shop, django_capture_on_commit_callbacks) -> None:
    coordinator = shop.prep.coordinator
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(
            by=coordinator,
            email="boulangerie@example.test",
            role=Role.RELAY_KEEPER,
            territory=shop.prep.cycle.territory,
            relay_point=shop.prep.poste,
            site_url="http://testserver",
        )
    assert invitation.role == Role.RELAY_KEEPER
    token = re.search(r"/invitation/([^/\s]+)/", mail.outbox[-1].body).group(1)
    user = invitation_accept(token=token, first_name="Léa", last_name="Petit", password="x" * 12)
    assert user.role == Role.RELAY_KEEPER
    # The invitation named their relay point: its page opens, the others' do not.
    assert list(user.kept_relay_points.all()) == [shop.prep.poste]
    assert logged(user).get(page_url(shop.prep.poste)).status_code == 200
    assert logged(user).get(page_url(shop.prep.mairie)).status_code == 403
    assert Invitation.objects.filter(role=Role.RELAY_KEEPER).count() == 1


def test_relay_point_admin_edits_keepers_with_autocomplete(shop) -> None:
    superuser = person(email="root@example.test", is_superuser=True, is_staff=True)
    client = logged(superuser)
    url = reverse("admin:relays_relaypoint_change", args=[shop.prep.mairie.pk])
    html = client.get(url).content.decode()
    assert 'name="keepers"' in html and "admin-autocomplete" in html


# --- QR codes --------------------------------------------------------------------------------


def svg_matrix(svg: str) -> list[list[int]]:
    """The dark modules of a segno SVG (one path of horizontal runs), quiet zone included."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    path = re.search(r'<path stroke="#000" d="([^"]+)"', svg).group(1)
    matrix = [[0] * size for _ in range(size)]
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for column in range(int(x), int(x + float(a))):
                matrix[int(y - 0.5)][column] = 1
            x += float(a)
    return matrix


def expected_matrix(url: str, border: int) -> list[list[int]]:
    qr = segno.make(url, error="m", micro=False)
    return [list(row) for row in qr.matrix_iter(border=border)]


def test_qr_encodes_the_absolute_pickup_address(shop, settings) -> None:
    settings.MARCHE_SITE_URL = "https://marche.example.org"
    ref = shop.alice.reference
    url = f"https://marche.example.org/relais/commande/{ref}/"
    assert order_pickup_url(ref) == url
    qr = order_qr(ref)
    assert qr.designator.endswith(("-M", "-Q", "-H"))  # medium correction or better
    assert [list(r) for r in qr.matrix_iter(border=0)] == expected_matrix(url, 0)
    svg = order_qr_svg(ref, title="Code")
    assert svg_matrix(svg) == expected_matrix(url, 4)
    assert [list(r) for r in order_qr_rows(ref)] == expected_matrix(url, 0)


def test_qr_address_is_french_whatever_the_language(shop, settings) -> None:
    from django.utils import translation

    with translation.override("en"):
        assert order_pickup_url("ABC").endswith("/relais/commande/ABC/")
        assert "/en/" not in order_pickup_url("ABC")


def test_order_page_shows_the_qr_to_its_household(shop, settings) -> None:
    settings.MARCHE_SITE_URL = "https://marche.example.org"
    alice = User.objects.get(email="alice@example.test")
    ref = shop.alice.reference
    html = logged(alice).get(reverse("orders:detail", args=[ref])).content.decode()
    svg = re.search(r'<svg xmlns="http://www.w3.org/2000/svg" [^>]*class="order-qr".*?</svg>', html)
    assert svg is not None
    assert f"<title>Code QR de la commande {ref}</title>" in svg.group(0)
    url = f"https://marche.example.org/relais/commande/{ref}/"
    assert svg_matrix(svg.group(0)) == expected_matrix(url, 4)
    # Once collected, the code has done its job.
    order_collect(order_id=shop.alice.pk, means="cash", by=shop.keeper)
    html = logged(alice).get(reverse("orders:detail", args=[ref])).content.decode()
    assert 'class="order-qr"' not in html


def test_scanned_qr_opens_the_order_on_its_relay_page(shop) -> None:
    ref = shop.alice.reference
    url = reverse("relays:order_qr", args=[ref])
    for user in (shop.keeper, shop.prep.coordinator):
        response = logged(user).get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/relais/mairie/?commande={ref}#commande-{ref}"
    html = logged(shop.keeper).get(f"/relais/mairie/?commande={ref}").content.decode()
    assert 'class="keeper-order is-scanned"' in html and "Commande scannée" in html
    # The household that placed it goes to its own order page.
    alice = User.objects.get(email="alice@example.test")
    response = logged(alice).get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:detail", args=[ref])


def page_text(response) -> str:
    """The page without its CSRF token, which differs at every response."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_scanned_qr_reveals_nothing_to_others(shop) -> None:
    ref = shop.alice.reference
    for user in (
        User.objects.get(email="bob@example.test"),
        shop.poste_keeper,
        shop.elsewhere,
        shop.prep.driver,
        shop.prep.farmer_cocagne,
    ):
        client = logged(user)
        known = client.get(reverse("relays:order_qr", args=[ref]))
        unknown = client.get(reverse("relays:order_qr", args=["NEXISTEPAS"]))
        assert known.status_code == unknown.status_code == 404
        assert page_text(known).replace(ref, "NEXISTEPAS") == page_text(unknown)
    response = Client().get(reverse("relays:order_qr", args=[ref]))
    assert response.status_code == 302 and "/compte/" in response["Location"]


def test_scanned_order_of_another_cycle_opens_that_cycle(shop) -> None:
    ref = shop.alice.reference
    newer = OrderCycleFactory(
        territory=shop.prep.cycle.territory,
        opens_at=timezone.now() - timedelta(days=2),
        closes_at=timezone.now() - timedelta(hours=3),
        delivery_date=timezone.localdate(),
    )
    client = logged(shop.keeper)
    html = client.get(page_url(shop.prep.mairie)).content.decode()
    assert (ref in html) == (newer.closes_at < shop.prep.cycle.closes_at)
    html = client.get(page_url(shop.prep.mairie, commande=ref)).content.decode()
    assert "Commande scannée" in html and ref in html


def pdf_qr_matrices(content: bytes) -> list[list[list[int]]]:
    """Rebuild each QR code the packing list draws from the rectangles of its page."""
    reader = PdfReader(io.BytesIO(content))
    codes = []
    for page in reader.pages:
        rects = []
        for operands, operator in _operations(page):
            if operator == b"re":
                rects.append(tuple(float(v) for v in operands))
        # QR modules are runs one module high (under 5 pt); table backgrounds are taller.
        by_height: dict[float, list[tuple[float, ...]]] = {}
        for x, y, w, h in rects:
            if 0 < h < 5:
                by_height.setdefault(round(h, 4), []).append((x, y, w, h))
        for cell, runs in by_height.items():
            codes.extend(_split_codes(runs, cell))
    return codes


def _operations(page):
    from pypdf.generic import ContentStream

    return ContentStream(page.get_contents(), page.pdf).operations


def _split_codes(runs, cell):
    """Group the runs into codes (by rows far apart), each a matrix of modules."""
    runs = sorted(runs, key=lambda r: (-r[1], r[0]))
    groups: list[list[tuple[float, ...]]] = []
    for run in runs:
        if groups and groups[-1][-1][1] - run[1] < cell * 12:
            groups[-1].append(run)
        else:
            groups.append([run])
    matrices = []
    for group in groups:
        left = min(r[0] for r in group)
        top = max(r[1] for r in group)
        size = round((top - min(r[1] for r in group)) / cell) + 1
        matrix = [[0] * size for _ in range(size)]
        for x, y, w, _h in group:
            row = round((top - y) / cell)
            start = round((x - left) / cell)
            for column in range(start, start + round(w / cell)):
                matrix[row][column] = 1
        matrices.append(matrix)
    return matrices


def test_packing_list_pdf_draws_each_orders_qr(shop, settings, artifacts_dir) -> None:
    settings.MARCHE_SITE_URL = "https://marche.example.org"
    packing_list = packing_list_for_relay(relay_point=shop.prep.mairie, cycle=shop.prep.cycle)
    content = exports.packing_list_pdf(packing_list)
    (artifacts_dir / "relay-keeper-packing-list.pdf").write_bytes(content)
    ref = shop.alice.reference
    url = f"https://marche.example.org/relais/commande/{ref}/"
    assert pdf_qr_matrices(content) == [expected_matrix(url, 0)]


# --- two taps at once ------------------------------------------------------------------------


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_taps_hand_over_once(shop) -> None:
    """Two phones tap "Remis" on the same order at the same instant, one cash, one cheque:
    one handover, one payment; the other is told it was already handed over."""
    import threading

    from django.db import connections

    from marche.relays.services import relay_order_hand_over

    barrier = threading.Barrier(2)
    results: list[tuple[bool, str]] = []
    errors: list[str] = []

    def tap(means: str) -> None:
        try:
            barrier.wait(timeout=30)
            done = relay_order_hand_over(
                relay_point=shop.prep.mairie,
                reference=shop.alice.reference,
                means=means,
                by=shop.keeper,
            )
            results.append((done.already, done.cashed.means if done.cashed else ""))
        except Exception as error:  # pragma: no cover - reported by the assertion below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tap, args=(means,)) for means in ("cash", "cheque")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(already for already, _means in results) == [False, True]
    [winner] = [means for already, means in results if not already]
    payments = Payment.objects.filter(order=shop.alice, method="pickup")
    assert list(payments.values_list("status", "means")) == [(PaymentStatus.SUCCEEDED, winner)]
    assert Order.objects.get(pk=shop.alice.pk).status == OrderStatus.COLLECTED


# --- fix round: search, weighing hint, deliveries not checked off -----------------------------


def test_search_ignores_accents_and_case(shop) -> None:
    User.objects.filter(pk=shop.bob.customer_id).update(first_name="Inès", last_name="Lefèvre")
    client = logged(shop.poste_keeper)
    poste = shop.prep.poste
    ref = shop.bob.reference
    for typed in ("ines", "INES", "Inès", "inès lefevre", "LEFÈVRE", "ine"):
        assert ref in client.get(page_url(poste, q=typed)).content.decode(), typed
    for typed in ("ines zorro", "inez"):
        html = client.get(page_url(poste, q=typed)).content.decode()
        assert ref not in html, typed
    pickup = relay_pickup_orders(relay_point=poste, cycle=shop.prep.cycle, search="ÌNES")
    assert [row.reference for row in pickup.orders] == [ref]
    assert (pickup.total, pickup.collected) == (1, 0)


def test_folded_text() -> None:
    assert folded("Inès Lefèvre") == "ines lefevre"
    assert folded("ŒUFS Çà") == "oeufs ca"


def test_an_unweighed_order_says_what_to_weigh_and_who_weighs_it(shop) -> None:
    relay = shop.prep.poste
    html = logged(shop.poste_keeper).get(page_url(relay)).content.decode()
    assert "Produits à peser avant la remise" in html
    assert "À peser : Butternut, Chou-fleur." in html
    assert "L'équipe de préparation les pèse" in html
    weigh = reverse("preparation:packing_list", args=[shop.prep.cycle.pk, relay.pk])
    assert weigh not in html  # a keeper does not weigh
    html = logged(shop.prep.coordinator).get(page_url(relay)).content.decode()
    assert f'href="{weigh}#commande-{shop.bob.reference}"' in html
    assert "Peser sur la page de préparation" in html
    # A weighed order has nothing left to weigh.
    [row] = relay_pickup_orders(relay_point=shop.prep.mairie, cycle=shop.prep.cycle).orders
    assert row.to_weigh == ()


# A published delivery round, for the warning when its drop is not checked off yet.


@pytest.fixture
def rounds():
    from tests.logistics.driver_fixtures import build_driver_world

    world = build_driver_world()
    keeper = person(email="relais-b@example.test", role=Role.RELAY_KEEPER)
    world.relay_b.keepers.add(keeper)
    return world, keeper


def _hand_over(client: Client, world, **extra: str):
    relay = world.relay_b
    data = {"order": world.orders["ines"].reference, "means": "cash", **extra}
    return client.post(hand_over_url(relay), data, HTTP_REFERER=page_url(relay))


WARNING = "La livraison de ce point n'est pas encore pointée par le chauffeur"
REFUSAL = (
    "La livraison de ce point n'est pas encore pointée par le chauffeur : cochez « Le panier "
    "est bien là » après avoir vérifié qu'il est arrivé."
)


def test_a_drop_not_yet_checked_off_warns_and_asks_for_the_basket(rounds) -> None:
    world, keeper = rounds
    client = logged(keeper)
    html = client.get(page_url(world.relay_b)).content.decode()
    assert WARNING in html
    assert 'name="present" value="1" required' in html
    assert "Le panier est bien là" in html
    order = world.orders["ines"]
    before = snapshot(order)
    response = _hand_over(client, world)
    assert response.status_code == 302
    assert messages_of(response) == [REFUSAL]
    assert snapshot(order) == before
    client.get(page_url(world.relay_b))  # the refusal shown
    response = _hand_over(client, world, present="1")
    [message] = messages_of(response)
    assert message.startswith(f"Commande {order.reference} remise ;"), message
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED


def test_no_warning_once_the_drop_is_delivered(rounds) -> None:
    from logistics.models import PlanStop, StopStatus

    world, keeper = rounds
    PlanStop.objects.filter(pk=world.stop_b.pk).update(status=StopStatus.DELIVERED)
    client = logged(keeper)
    html = client.get(page_url(world.relay_b)).content.decode()
    assert WARNING not in html and 'name="present"' not in html
    _hand_over(client, world)
    world.orders["ines"].refresh_from_db()
    assert world.orders["ines"].status == OrderStatus.COLLECTED


def test_a_problem_at_the_drop_still_asks_for_the_basket(rounds) -> None:
    from logistics.models import PlanStop, StopStatus

    world, keeper = rounds
    PlanStop.objects.filter(pk=world.stop_b.pk).update(status=StopStatus.PROBLEM)
    assert WARNING in logged(keeper).get(page_url(world.relay_b)).content.decode()


@pytest.mark.parametrize("plan", ["none", "draft"])
def test_no_warning_without_a_published_plan(rounds, plan) -> None:
    from logistics.models import DeliveryPlan, PlanStatus

    world, keeper = rounds
    if plan == "none":
        DeliveryPlan.objects.filter(pk=world.plan.pk).delete()
    else:
        DeliveryPlan.objects.filter(pk=world.plan.pk).update(status=PlanStatus.DRAFT)
    client = logged(keeper)
    html = client.get(page_url(world.relay_b)).content.decode()
    assert WARNING not in html and 'name="present"' not in html
    _hand_over(client, world)
    world.orders["ines"].refresh_from_db()
    assert world.orders["ines"].status == OrderStatus.COLLECTED


def test_the_delivery_status_comes_from_the_configured_hook(rounds, settings) -> None:
    world, _keeper = rounds
    assert relay_delivery_status(relay_point=world.relay_b, cycle=world.cycle) == "planned"
    assert relay_delivery_status(relay_point=world.relay_a, cycle=world.cycle) == "planned"
    other = RelayPointFactory(territory=world.cycle.territory, slug="ailleurs")
    assert relay_delivery_status(relay_point=other, cycle=world.cycle) is None
    settings.MARCHE_RELAY_DELIVERY_STATUS = ""
    assert relay_delivery_status(relay_point=world.relay_b, cycle=world.cycle) is None
    settings.MARCHE_RELAY_DELIVERY_STATUS = "tests.marche.test_relay_keeper_pickup.odd_hook"
    assert relay_delivery_status(relay_point=world.relay_b, cycle=world.cycle) is None


def odd_hook(relay_point: RelayPoint, cycle: OrderCycle) -> str:
    return "peut-être"
