"""What the relay keeper's page asks of the delivery rounds (``MARCHE_RELAY_DELIVERY_STATUS``).

marche does not import logistics: its relay selectors call this function through the
setting's dotted path.
"""

from __future__ import annotations

from logistics.models import PlanStatus, PlanStop, StopKind, StopStatus
from marche.cycles.models import OrderCycle
from marche.relays.models import RelayPoint


def relay_delivery_status(relay_point: RelayPoint, cycle: OrderCycle) -> str | None:
    """ "delivered" when every drop of the cycle's published plan at the relay point is
    checked off delivered, "planned" while one is not (planned, or a problem), None when no
    published plan drops anything there (no plan, a draft, or the relay point is not on it).
    """
    statuses = set(
        PlanStop.objects.filter(
            route__plan__cycle_id=cycle.pk,
            route__plan__status=PlanStatus.PUBLISHED,
            kind=StopKind.DELIVERY,
            place=f"relay:{relay_point.slug}",
        ).values_list("status", flat=True)
    )
    if not statuses:
        return None
    return "delivered" if statuses == {StopStatus.DELIVERED} else "planned"
