"""Payment services recorded by people: the pickup of a basket at the relay point.

"Pay at pickup" is the payment step this issue ships: the household pays cash or by cheque
when it collects its basket, and whoever hands the basket over records it. Card and manne
payments plug in as other methods; for an order already paid online, pickup records only the
handover.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marche.accounts.models import Role, User
from marche.core.locking import locking_atomic
from marche.errors import DomainError
from marche.orders.errors import OrderNotFound
from marche.orders.models import Order, OrderStatus
from marche.payments.methods import PayAtPickup, payment_amount_left
from marche.payments.models import Payment, PaymentStatus, PickupMeans
from marche.relays.models import RelayPoint


class PickupNotAllowed(DomainError):
    code = "pickup_not_allowed"
    status = 403
    default_message = _(
        "Seuls la coordination, les livreurs et le point relais de la commande enregistrent "
        "les retraits."
    )


class PickupTooEarly(DomainError):
    code = "pickup_too_early"
    status = 409
    default_message = _("Les commandes de ce cycle ne sont pas closes : pas de retrait avant.")


class OrderNotCollectable(DomainError):
    code = "order_not_collectable"
    status = 409
    default_message = _("Cette commande ne peut pas être retirée (non payée, annulée ou expirée).")


class WeighingRequired(DomainError):
    code = "weighing_required"
    status = 409
    default_message = _(
        "Des produits à poids variable ne sont pas encore pesés : le prix n'est pas définitif."
    )


class InvalidPickupMeans(DomainError):
    code = "invalid_pickup_means"
    default_message = _("Indiquez le moyen de paiement reçu : espèces ou chèque.")


COLLECTABLE = (OrderStatus.CONFIRMED, OrderStatus.PACKED)


def user_can_record_pickup(
    *, user: User, territory_id: int | None = None, relay_point_id: int | None = None
) -> bool:
    """Coordinators, drivers and relay keepers hand baskets over and record the payment.

    A coordinator or driver bound to a territory does so only there. A relay point's keeper
    (``RelayPoint.keepers``) does so only at the relay points they keep: asked without a
    relay point, the answer is whether they keep one at all; ``order_collect`` asks again
    with the order's relay point.
    """
    if user.is_superuser:
        return True
    if user.role in {Role.COORDINATOR, Role.DRIVER} and (
        territory_id is None or user.territory_id in (None, territory_id)
    ):
        return True
    kept = RelayPoint.keepers.through.objects.filter(user_id=user.pk)
    if relay_point_id is not None:
        kept = kept.filter(relaypoint_id=relay_point_id)
    if territory_id is not None:
        kept = kept.filter(relaypoint__territory_id=territory_id)
    return kept.exists()


def order_collect(
    *, order_id: int, means: str | None, by: User, now: datetime | None = None
) -> Order:
    """Record that the household collected its basket and, at pickup, paid cash or cheque.

    Idempotent: collecting a collected order returns it unchanged. The order row is locked
    (``select_for_update``) so a late weighing cannot change the price being cashed. The
    amount cashed is the final order total less other tenders: an order with unweighed lines
    is refused.
    """
    now = now or timezone.now()
    if not user_can_record_pickup(user=by):
        raise PickupNotAllowed()
    with locking_atomic():  # the order, then its payment (marche/orders/locking.py)
        order = (
            Order.objects.select_for_update().select_related("cycle").filter(pk=order_id).first()
        )
        if order is None:
            raise OrderNotFound()
        if not user_can_record_pickup(
            user=by, territory_id=order.cycle.territory_id, relay_point_id=order.relay_point_id
        ):
            raise PickupNotAllowed()
        if order.status == OrderStatus.COLLECTED:
            return order
        if order.status not in COLLECTABLE:
            raise OrderNotCollectable()
        if now < order.cycle.closes_at:
            raise PickupTooEarly()
        if not order.is_final:
            raise WeighingRequired()
        if order.payment_method == PayAtPickup.code:
            if means not in PickupMeans.values:
                raise InvalidPickupMeans()
            payment = (
                Payment.objects.select_for_update()
                .filter(
                    order=order,
                    method=PayAtPickup.code,
                    currency="EUR",
                    status=PaymentStatus.PENDING,
                )
                .first()
            )
            if payment is None:
                payment = Payment(order=order, method=PayAtPickup.code, currency="EUR")
            payment.amount = payment_amount_left(order=order, method_code=PayAtPickup.code)
            payment.status = PaymentStatus.SUCCEEDED
            payment.means = means
            payment.recorded_by = by
            payment.recorded_at = now
            payment.save()
        order.status = OrderStatus.COLLECTED
        order.save(update_fields=["status", "updated_at"])
        # Delivery is confirmed: pay the producers their share of the card payment.
        _transfers_enqueue(order.pk)
    return order


def _transfers_enqueue(order_id: int) -> None:
    """Queue the producers' transfers in the pickup's transaction (outbox: at least once)."""
    from django.conf import settings

    from marche.core.outbox import enqueue

    if settings.CARD_PAYMENTS_ENABLED:
        enqueue("payments.order_transfers", order_id, key=f"order-{order_id}-transfers")
