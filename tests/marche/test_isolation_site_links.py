"""The links a territory's order carries lead to that territory's own site, where its
household and relay keeper are signed in: the QR code scanned at the relay point, and Stripe
Checkout's way back after paying by card. Dunkerque's site is reached at its hostname; Loos's
is the default site, which the instance's own address (``MARCHE_SITE_URL``) serves."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.template import Context, Template

from marche.orders.models import Order
from marche.relays.qr import order_pickup_url, order_qr_svg
from marche.territories.models import Territory
from tests.two_territories import (
    HOSTS,
    OTHER,
    SLUGS,
    Placed,
    place_demo_order,
    territories,
    two_demos,
)

__all__ = ["territories", "two_demos"]  # the fixtures

pytestmark = pytest.mark.django_db


def site_of(slug: str) -> str:
    return settings.MARCHE_SITE_URL if slug == "loos-en-gohelle" else f"http://{HOSTS[slug]}"


@pytest.fixture
def placed(territories: dict[str, Territory]) -> dict[str, Placed]:
    return {slug: place_demo_order(slug) for slug in SLUGS}


@pytest.mark.parametrize("slug", SLUGS)
def test_an_orders_qr_code_opens_it_on_its_territorys_site(
    placed: dict[str, Placed], slug: str
) -> None:
    order = placed[slug].order
    own = site_of(slug)
    shown = Template("{% load relay_qr %}{% order_qr order %}").render(Context({"order": order}))

    title = f"Code QR de la commande {order.reference}"
    assert shown == order_qr_svg(order.reference, title=title, base_url=own)
    assert shown != order_qr_svg(order.reference, title=title, base_url=site_of(OTHER[slug]))
    assert order_pickup_url(order.reference, base_url=own) == (
        f"{own}/relais/commande/{order.reference}/"
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_stripe_sends_the_household_back_to_its_territorys_site(
    fake_stripe: Any, territories: dict[str, Territory], slug: str
) -> None:
    order: Order = place_demo_order(slug, payment_method="card").order

    (session,) = fake_stripe.sessions.values()
    own = site_of(slug) + "/"
    assert session["success_url"].startswith(own + "paiements/")
    assert session["cancel_url"] == f"{own}commander/commandes/{order.reference}/"
