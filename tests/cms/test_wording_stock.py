"""The public pages say what is left with its unit agreeing in number: "Reste 30 pièces"."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from marche.catalog.models import Unit
from marche.cycles.models import Offer
from tests.cms.test_site_pages import open_cycle, text

pytestmark = pytest.mark.django_db


def _stock(page: str, offer: Offer) -> str:
    """The stock line after the offer's name (the home page card, catalogue or product page)."""
    after = page[page.index(offer.product.name) :]
    found = re.search(r'<p class="stock">(.*?)</p>', after)
    assert found is not None
    return found.group(1).strip()


def _left(offer: Offer, count: str) -> None:
    offer.quantity_available = offer.quantity_held + offer.quantity_sold + Decimal(count)
    offer.save()


def test_public_pages_write_the_stock_left_with_a_plural_unit(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    offer = (
        Offer.objects.filter(
            cycle=open_cycle(), product__unit=Unit.PIECE, withdrawn_at__isnull=True
        )
        .select_related("product")
        .first()
    )
    assert offer is not None
    _left(offer, "30")
    pages = {
        "/": text(client.get("/")),
        "/catalogue/": text(client.get("/catalogue/")),
        "product": text(client.get(f"/catalogue/produit/{offer.product_id}/")),
    }
    assert {name: _stock(page, offer) for name, page in pages.items()} == {
        "/": "Reste 30 pièces",
        "/catalogue/": "Reste 30 pièces",
        "product": "Reste 30 pièces",
    }
    _left(offer, "1")
    assert _stock(text(client.get("/catalogue/")), offer) == "Reste 1 pièce"
