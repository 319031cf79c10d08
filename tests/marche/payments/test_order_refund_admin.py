"""The refund form on an order's page in the coordinators' admin: French numbers, French
errors that change nothing, a second submission that refunds nothing more."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from marche.accounts.models import Role
from marche.core.admin_access import coordination_group_sync
from marche.payments.models import Payment, Refund
from marche.payments.stripe_services import stripe_event_process
from tests.factories import TerritoryFactory, UserFactory
from tests.marche.orders.conftest import Market
from tests.marche.payments.test_split_tender import order_eggs_and_carrots

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(manne_market: Market, fake_stripe):  # type: ignore[no-untyped-def]
    order, _start = order_eggs_and_carrots(manne_market, method="card", mannes="5", key="adm")
    card = Payment.objects.get(order=order, method="card")
    stripe_event_process(event=fake_stripe.pay(card.reference))
    return order


def coordinator_client(territory) -> Client:  # type: ignore[no-untyped-def]
    user = UserFactory(role=Role.COORDINATOR, territory=territory)
    coordination_group_sync()
    client = Client()
    client.force_login(user)
    return client


def form_key(client: Client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    found = re.search(r'name="key" value="([0-9a-f]+)"', page.content.decode())
    assert found is not None
    return found.group(1)


def test_the_orders_page_offers_a_refund_and_the_form_takes_a_comma(
    paid, manne_market, fake_stripe
) -> None:
    client = coordinator_client(manne_market.cycle.territory)
    inspect = client.get(reverse("admin_orders:inspect", args=[paid.pk]))
    url = reverse("admin_orders:refund", args=[paid.pk])
    assert f'href="{url}"' in inspect.content.decode()
    page = client.get(url)
    html = page.content.decode()
    assert "payé 8,40 €, déjà remboursé 0,00 €, reste 8,40 €" in html
    assert "au plus 8,40 €" in html
    assert "Rendre les 5,00 mannes payés en monnaie locale" in html
    data = {"amount": "2,50", "reason": "Œufs cassés", "key": form_key(client, url)}
    response = client.post(url, data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin_orders:inspect", args=[paid.pk])
    assert "remboursement de 2,50 €. Le foyer est prévenu" in response.content.decode()
    [refund] = Refund.objects.all()
    assert refund.amount == Decimal("2.50")
    # The same form again (a double click, a page reloaded): nothing more.
    client.post(url, data)
    assert Refund.objects.count() == 1
    assert len(fake_stripe.refunds) == 1


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        ("8,41", "Trop", "Le remboursement dépasse ce qui reste à rembourser"),
        ("deux euros", "Texte", "Le prix doit être un nombre, par exemple 2,80."),
        ("2,50", "", "Champ requis."),
        ("", "Rien", "Rien à rembourser"),
    ],
)
def test_bad_input_is_refused_in_french_and_changes_nothing(
    paid, manne_market, fake_stripe, amount, reason, message
) -> None:
    client = coordinator_client(manne_market.cycle.territory)
    url = reverse("admin_orders:refund", args=[paid.pk])
    before = list(Payment.objects.values_list("status", flat=True).order_by("pk"))
    response = client.post(url, {"amount": amount, "reason": reason, "key": form_key(client, url)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Refund.objects.count() == 0
    assert fake_stripe.refunds == {}
    assert list(Payment.objects.values_list("status", flat=True).order_by("pk")) == before


def test_mannes_back_from_the_form(paid, manne_market) -> None:
    client = coordinator_client(manne_market.cycle.territory)
    url = reverse("admin_orders:refund", args=[paid.pk])
    response = client.post(
        url, {"mannes": "on", "reason": "Relais fermé", "key": form_key(client, url)}, follow=True
    )
    assert "remboursement de 5,00 mannes. Le foyer est prévenu" in response.content.decode()
    assert Payment.objects.get(order=paid, method="mannes").status == "refunded"


def test_another_territorys_coordinator_and_a_household_get_no_form(paid, manne_market) -> None:
    url = reverse("admin_orders:refund", args=[paid.pk])
    other = coordinator_client(TerritoryFactory())
    assert other.get(url).status_code == 404
    assert other.post(url, {"amount": "1", "reason": "x", "key": "abc"}).status_code == 404
    household = Client()
    household.force_login(manne_market.household)
    assert household.get(url).status_code in {302, 403, 404}
    assert Refund.objects.count() == 0


def test_a_second_tab_is_told_the_mannes_went_back_and_a_refunded_order_has_no_form(
    paid, manne_market
) -> None:
    client = coordinator_client(manne_market.cycle.territory)
    url = reverse("admin_orders:refund", args=[paid.pk])
    first, second = form_key(client, url), form_key(client, url)
    client.post(url, {"mannes": "on", "reason": "Relais fermé", "key": first})
    response = client.post(url, {"mannes": "on", "reason": "Relais fermé", "key": second})
    page = response.content.decode()
    assert "La monnaie locale payée pour cette commande a déjà été rendue." in page
    assert "Rien à rembourser" not in page
    assert Payment.objects.filter(order=paid, method="mannes", status="refunded").count() == 1


def test_nothing_left_to_refund_shows_no_form(paid, manne_market, fake_stripe) -> None:
    client = coordinator_client(manne_market.cycle.territory)
    url = reverse("admin_orders:refund", args=[paid.pk])
    client.post(
        url, {"amount": "8,40", "mannes": "on", "reason": "Annulée", "key": form_key(client, url)}
    )
    page = client.get(url).content.decode()
    assert "Il ne reste rien à rembourser sur cette commande." in page
    assert 'name="reason"' not in page
    inspect = client.get(reverse("admin_orders:inspect", args=[paid.pk])).content.decode()
    assert f'href="{url}"' not in inspect


def test_the_orders_page_gives_paris_time_and_quantities_read_plainly(paid, manne_market) -> None:
    from django.utils import timezone
    from django.utils.formats import date_format

    client = coordinator_client(manne_market.cycle.territory)
    inspect = client.get(reverse("admin_orders:inspect", args=[paid.pk])).content.decode()
    created = date_format(timezone.localtime(paid.created_at), "DATETIME_FORMAT")
    assert created in inspect
    offer = manne_market.carrots
    edit = client.get(reverse("admin_offers:edit", args=[offer.pk])).content.decode()
    assert 'name="quantity_available" value="10"' in edit
    assert 'name="unit_price" value="2,50"' in edit
