"""The "Changements" card names a vehicle no longer on the plan by its name and driver."""

from __future__ import annotations

import pytest

from logistics.models import DeliveryPlan
from logistics.planning_selectors import plan_page
from marche.relays.models import RelayPoint
from tests.logistics.test_plan_editing import build_plan


@pytest.mark.django_db
def test_a_vehicle_gone_from_the_plan_is_named_not_by_its_slug() -> None:
    plan = build_plan()
    changes = [
        {
            "kind": "stability",
            "vehicle": "utilitaire-2",
            "vehicle_name": "Utilitaire 2",
            "driver": "Léa Roy",
            "moved_in": [],
            "moved_out": ["relay:poste-lens"],
            "reordered": False,
            "why_fr": "gain de 12,0 % ≥ seuil 5 %",
        },
        # A plan stored before the names were written: the slug is all there is.
        {"kind": "replan", "vehicle": "velo-3", "summary_fr": "Retirés : poste-lens"},
    ]
    DeliveryPlan.objects.filter(pk=plan.pk).update(changes=changes)
    page = plan_page(cycle=plan.cycle)
    assert [c.who for c in page.changes] == ["Léa Roy — Utilitaire 2", "velo-3"]
    lens = RelayPoint.objects.get(slug="poste-lens")
    assert page.changes[0].items[0].moved_out == [lens.name]
