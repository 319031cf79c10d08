"""Public API of relay points: the pickup slots of a delivery day, with their room left."""

from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Router

from marche.accounts.api import api_territory
from marche.core.schemas import Id
from marche.cycles.models import OrderCycle
from marche.errors import NotFound
from marche.relays.errors import RelayPointNotFound
from marche.relays.models import RelayDay, RelayPoint
from marche.relays.schemas import RelaySlotsOut
from marche.relays.services import pickup_slots_ensure

router = Router(tags=["points relais"])


class NoDeliveryOnDate(NotFound):
    code = "no_delivery_on_date"
    default_message = _("Aucune livraison n'est prévue ce jour-là pour ce point relais.")


@router.get("/relay-points/{relay_point_id}/slots", response=RelaySlotsOut, auth=None)
def relay_point_slots(request: HttpRequest, relay_point_id: Id, date: date) -> dict[str, object]:
    """The pickup slots of a delivery day with their room left (``day_remaining``: the point's).

    Another territory's relay point is not found. Slots are created from the opening hours
    the first time a delivery day is asked for; only days on which a cycle of the point's
    territory delivers (today or later) are accepted.
    """
    relay = RelayPoint.objects.filter(
        pk=relay_point_id, is_active=True, territory=api_territory(request)
    ).first()
    if relay is None:
        raise RelayPointNotFound()
    if (
        date < timezone.localdate()
        or not OrderCycle.objects.filter(
            territory_id=relay.territory_id, delivery_date=date
        ).exists()
    ):
        raise NoDeliveryOnDate()
    slots = pickup_slots_ensure(relay_point=relay, on=date)
    day = RelayDay.objects.get(relay_point=relay, date=date)
    return {
        "relay_point_id": relay.pk,
        "date": date,
        "day_remaining": day.capacity - day.booked,
        "slots": slots,
    }
