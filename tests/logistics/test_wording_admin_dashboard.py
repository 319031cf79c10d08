"""The coordinators' dashboard panel: each count agrees with its noun ("1 commande confirmée")."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from logistics.admin_dashboard import CycleFigures
from tests.factories import OrderCycleFactory

pytestmark = pytest.mark.django_db


def _items(figures: CycleFigures) -> list[str]:
    with translation.override("fr"):
        html = render_to_string("wagtailadmin/home/cycle_figures.html", {"figures": figures})
    spans = re.findall(r"<span>(.*?)</span></li>", html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", span).split()) for span in spans[:3]]


def test_counts_of_one_are_in_the_singular_and_others_in_the_plural() -> None:
    one = CycleFigures(
        cycle=OrderCycleFactory(),
        is_open=True,
        orders=1,
        pending_orders=1,
        euros=Decimal("12.50"),
        mannes=Decimal("0.00"),
        currency_name="",
        offers_on_sale=1,
        offers_sold_out=1,
        offers_on_demand=1,
        plan_status="",
        planning_url="/logistique/",
    )
    assert _items(one)[0] == "1 commande confirmée (1 en attente de paiement)"
    assert _items(one)[2] == "1 offre avec du stock, 1 épuisée, 1 à la demande"
    many = replace(one, orders=3, offers_on_sale=4, offers_sold_out=2, offers_on_demand=5)
    assert _items(many)[0] == "3 commandes confirmées (1 en attente de paiement)"
    assert _items(many)[2] == "4 offres avec du stock, 2 épuisées, 5 à la demande"
