"""The delivery note's page layout: fonts embedded, the signature boxes kept with the lines."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from marche.canteens.delivery_note import delivery_note_order, delivery_note_pdf
from marche.catalog.models import Unit
from tests.factories import OfferFactory, ProductFactory
from tests.factories.canteens import CanteenOrderLineFactory
from tests.logistics.canteen_fixtures import build_canteen_world
from tests.pdf_checks import unembedded_fonts

pytestmark = pytest.mark.django_db


def _pages(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_note_embeds_its_fonts() -> None:
    cw = build_canteen_world()
    order = delivery_note_order(order_id=cw.order.pk)
    assert order is not None
    assert unembedded_fonts(delivery_note_pdf(order)) == []


def test_the_signatures_go_to_the_next_page_with_the_last_lines_not_alone(
    artifacts_dir: Path,
) -> None:
    """Lines are added one by one until the note no longer holds on one page: at that
    count page 1 is as full as it gets, and the page the signatures move to also carries
    the last lines, under the repeated column headings."""
    cw = build_canteen_world()
    producer = cw.carrots.producer
    added: list[str] = []
    for count in range(1, 80):
        order = delivery_note_order(order_id=cw.order.pk)
        assert order is not None
        pdf = delivery_note_pdf(order)
        pages = _pages(pdf)
        if len(pages) > 1:
            (artifacts_dir / "bon-de-livraison-deux-pages.pdf").write_bytes(pdf)
            break
        name = f"Légume de saison n° {count:02d}"
        product = ProductFactory(producer=producer, name=name, unit=Unit.KG)
        CanteenOrderLineFactory(
            order=cw.order,
            offer=OfferFactory(cycle=cw.order.cycle, product=product),
            quantity_ordered=Decimal("4"),
        )
        added.append(name)
    else:
        pytest.fail("the note never needed a second page")

    assert len(pages) == 2
    first, last = pages
    assert "Le chauffeur" not in first and "Reçu par" not in first
    assert "Le chauffeur" in last and "Reçu par" in last
    last_line = list(order.lines.all())[-1].name
    assert last_line in last and last_line not in first
    assert "Désignation" in last
    assert len(added) >= 5  # page 1 did fill with lines first
