"""What marche's canteen delivery asks of the delivery rounds: whether a driver's published
round drops at the canteen of an order (``MARCHE_CANTEEN_DRIVER_ROUND``).

marche does not import logistics, nor hard-codes its plan states: ``marche.canteens.delivery``
calls this function through the setting's dotted path.
"""

from __future__ import annotations

from logistics.models import PlanRoute, PlanStatus, StopKind
from marche.accounts.models import User
from marche.canteens.models import CanteenOrder


def driver_round_drops_at_canteen(user: User, order: CanteenOrder) -> bool:
    """Whether ``user`` drives a round of the order's cycle's published plan with a delivery
    stop at the order's canteen (a draft plan's rounds do not count)."""
    return PlanRoute.objects.filter(
        driver_id=user.pk,
        plan__cycle_id=order.cycle_id,
        plan__status=PlanStatus.PUBLISHED,
        stops__kind=StopKind.DELIVERY,
        stops__place=f"canteen:{order.canteen.slug}",
    ).exists()
