"""What marche's relay pages ask of the delivery rounds: whether a relay point's delivery is
checked off (``MARCHE_RELAY_DELIVERY_STATUS``), and what the coordination decided for a relay
point the rounds do not serve (``MARCHE_RELAY_UNSERVED_DECISION``).

marche does not import logistics: its relay selectors call these functions through the
settings' dotted paths.
"""

from __future__ import annotations

from logistics.models import DeliveryPlan, PlanStatus, PlanStop, StopKind, StopStatus
from logistics.stability import place_of
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


def relay_unserved_decision(relay_point: RelayPoint, cycle: OrderCycle) -> str | None:
    """The decision the cycle's published plan records for the relay point left unserved:
    "other_day", "hub_pickup" or "other_vehicle"; None when the published plan serves it (or
    there is no published plan). The households were told by e-mail on publishing.
    """
    unserved = (
        DeliveryPlan.objects.filter(cycle_id=cycle.pk, status=PlanStatus.PUBLISHED)
        .values_list("unserved", flat=True)
        .first()
    )
    place = f"relay:{relay_point.slug}"
    for entry in unserved or []:
        if isinstance(entry, dict) and place_of(str(entry.get("place") or "")) == place:
            decision = entry.get("decision")
            if isinstance(decision, str) and decision:
                return decision
    return None
