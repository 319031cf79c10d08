"""Packing after the cutoff: weighing variable-weight lines, which fixes the final price.

A variable-weight line (``price_per_kg`` set) is priced on an estimated weight when the
household orders; at packing, its real weight is entered and the line total becomes
``round_money(weight × price_per_kg)``. The order total is then the sum of its (rounded)
lines again, the pending pay-at-pickup payment follows it, and once every variable line is
weighed the order is final and the household receives the "weighed" e-mail, once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marche.accounts.models import User
from marche.core.locking import locking_atomic
from marche.cycles.services import stock_return
from marche.errors import DomainError
from marche.money import round_money
from marche.orders.errors import OrderNotFound
from marche.orders.models import LineKind, Order, OrderLine, OrderStatus
from marche.orders.notifications import order_notification_enqueue
from marche.orders.selectors import user_can_see_territory, user_is_coordinator
from marche.payments.methods import PayAtPickup, payment_amount_left
from marche.payments.models import Payment, PaymentStatus
from marche.producers.models import ProducerMembership

GRAM = Decimal("0.001")
MAX_WEIGHT_KG = Decimal("1000")


class LineNotFound(DomainError):
    code = "line_not_found"
    status = 404
    default_message = _("Cette ligne de commande n'existe pas.")


class NotVariableWeight(DomainError):
    code = "not_variable_weight"
    default_message = _("Ce produit n'est pas vendu au poids : il n'y a rien à peser.")


class InvalidWeight(DomainError):
    code = "invalid_weight"
    default_message = _("Indiquez un poids positif en kilogrammes, au gramme près.")


class WeighingTooEarly(DomainError):
    code = "weighing_too_early"
    status = 409
    default_message = _("Les commandes de ce cycle ne sont pas closes : la pesée se fait après.")


class OrderNotWeighable(DomainError):
    code = "order_not_weighable"
    status = 409
    default_message = _("Cette commande ne se pèse plus (annulée, non payée ou déjà retirée).")


class WeighingNotAllowed(DomainError):
    code = "weighing_not_allowed"
    status = 403
    default_message = _("Seuls la coordination et le producteur de ce produit peuvent le peser.")


class LineNotMissable(DomainError):
    code = "line_not_missable"
    default_message = _("Seul un article à la carte peut être déclaré manquant.")


WEIGHABLE = (OrderStatus.CONFIRMED, OrderStatus.PACKED)


def user_can_weigh(*, user: User, producer_id: int | None, territory_id: int) -> bool:
    """Coordinators weigh every line of their territory; a farmer, the lines of their producer.

    A member of a collective weighs its member farms' lines too, as it sees them in its
    pick list.
    """
    if user_is_coordinator(user=user):
        return user_can_see_territory(user=user, territory_id=territory_id)
    if producer_id is None:
        return False
    return ProducerMembership.objects.filter(user=user, producer_id=producer_id).exists() or (
        ProducerMembership.objects.filter(
            user=user, producer__member_farms__pk=producer_id
        ).exists()
    )


def _check_weight(weight_kg: object) -> Decimal:
    if not isinstance(weight_kg, Decimal) or not weight_kg.is_finite():
        raise InvalidWeight()
    if weight_kg <= 0 or weight_kg > MAX_WEIGHT_KG or weight_kg != weight_kg.quantize(GRAM):
        raise InvalidWeight()
    return weight_kg.quantize(GRAM)


def order_line_weigh(
    *, line_id: int, weight_kg: Decimal, by: User, now: datetime | None = None
) -> OrderLine:
    """Enter the weighed weight of a variable-weight line and recompute the order's price.

    The order row is locked first (``select_for_update``), so two people weighing lines of
    the same order, or a weighing and a pickup, apply one after the other and the order
    total is always the sum of its lines. Every check happens before any write: a refusal
    changes nothing. The "weighed" e-mail is queued with the weighing (outbox) when the order
    becomes final, so a re-weighing of a final order (a correction) does not send it again.
    """
    now = now or timezone.now()
    weight = _check_weight(weight_kg)
    with locking_atomic():
        order, line = _packing_line_locked(
            line_id=line_id, by=by, now=now, check_line=_check_variable_weight
        )
        was_final = order.is_final
        line.weight_kg = weight
        line.total = round_money(weight * line.price_per_kg)
        line.save(update_fields=["weight_kg", "total"])
        _order_recompute(order)
        # Weighed lighter than estimated: a card that paid the estimate gets the difference
        # back (one key per line and weight). Heavier: the card is not charged again.
        if _paid_by_card(order):
            reason = str(_("Pesée inférieure à l'estimation"))
            key = f"reweigh-line-{line_id}-{weight}"
            transaction.on_commit(lambda: _refund_overpaid(order.pk, key=key, reason=reason))
        if order.is_final and not was_final:
            _notify(order.pk, "weighed")
    return line


def order_line_mark_missing(*, line_id: int, by: User, now: datetime | None = None) -> OrderLine:
    """An à la carte line could not be supplied: take it off the order and pay it back.

    Same locking and checks as weighing (after the cutoff, by the coordination or the
    line's producer). The line's total becomes 0 and the order total follows; what is
    still to be paid at pickup goes down, and what the card already paid for the line is
    refunded after commit, with a key derived from the line so a retry refunds once. Its
    quantity no longer counts as sold: the stock hold is returned to the offer, so the
    farmer's "vendu" and the pick lists agree with what households receive.
    Idempotent: a line already missing is returned unchanged.
    """
    now = now or timezone.now()
    with locking_atomic():
        order, line = _packing_line_locked(
            line_id=line_id, by=by, now=now, check_line=_check_missable
        )
        if line.is_missing:
            return line
        line.is_missing = True
        line.total = Decimal("0")
        line.save(update_fields=["is_missing", "total"])
        if line.hold_id is not None:
            stock_return(hold_id=line.hold_id)
        _order_recompute(order)
        if _paid_by_card(order):
            reason = str(_("Article manquant à la préparation"))
            transaction.on_commit(
                lambda: _refund_overpaid(order.pk, key=f"missing-line-{line_id}", reason=reason)
            )
        _notify(order.pk, "missing", ref=f"line-{line_id}")
    return line


def _paid_by_card(order: Order) -> bool:
    return Payment.objects.filter(
        order_id=order.pk, method="card", status=PaymentStatus.SUCCEEDED
    ).exists()


def _refund_overpaid(order_id: int, *, key: str, reason: str) -> None:
    from marche.payments.stripe_services import order_card_overpaid_refund

    order_card_overpaid_refund(order_id=order_id, key=key, reason=reason)


def _check_variable_weight(line: OrderLine) -> None:
    if line.price_per_kg is None:
        raise NotVariableWeight()


def _check_missable(line: OrderLine) -> None:
    if line.kind != LineKind.ITEM:
        raise LineNotMissable()


def user_may_weigh(*, user: User) -> bool:
    """Whether the person weighs any line at all: a coordinator, or a member of a producer."""
    return user_is_coordinator(user=user) or ProducerMembership.objects.filter(user=user).exists()


def _weighs_every_line(user: User) -> bool:
    return user_is_coordinator(user=user) and (user.is_superuser or user.territory_id is None)


def _packing_line_locked(
    *, line_id: int, by: User, now: datetime, check_line: Callable[[OrderLine], None]
) -> tuple[Order, OrderLine]:
    """Check the person, then lock the line's order, then check the line, cutoff and status.

    The permission comes before any lock, and before the line is even said to exist: a
    person who may not weigh a line gets the same refusal (WeighingNotAllowed) whether the
    line exists or not, and locks nothing. Only someone who may weigh every line learns
    that a line does not exist (LineNotFound). Called inside the caller's transaction;
    every check comes before any write.
    """
    if not user_may_weigh(user=by):
        raise WeighingNotAllowed()
    target = (
        OrderLine.objects.filter(pk=line_id)
        .values("order_id", "producer_id", "order__cycle__territory_id")
        .first()
    )
    if target is None:
        raise LineNotFound() if _weighs_every_line(by) else WeighingNotAllowed()
    if not user_can_weigh(
        user=by,
        producer_id=target["producer_id"],
        territory_id=target["order__cycle__territory_id"],
    ):
        raise WeighingNotAllowed()
    order = _lock_order(target["order_id"])
    if order is None:
        raise OrderNotFound()
    line = OrderLine.objects.get(pk=line_id)
    check_line(line)
    if now < order.cycle.closes_at:
        raise WeighingTooEarly()
    if order.status not in WEIGHABLE:
        raise OrderNotWeighable()
    return order, line


def _lock_order(order_id: int) -> Order | None:
    return Order.objects.select_for_update().select_related("cycle").filter(pk=order_id).first()


def _order_recompute(order: Order) -> None:
    """The order total is the sum of its rounded lines; final once every weight is in.

    What is still to be paid at pickup follows the new total.
    """
    lines = OrderLine.objects.filter(order_id=order.pk)
    order.total = lines.aggregate(total=Sum("total"))["total"] or Decimal("0")
    order.is_final = not lines.filter(price_per_kg__isnull=False, weight_kg__isnull=True).exists()
    order.save(update_fields=["total", "is_final", "updated_at"])
    Payment.objects.filter(
        order_id=order.pk, method=PayAtPickup.code, currency="EUR", status=PaymentStatus.PENDING
    ).update(
        amount=payment_amount_left(order=order, method_code=PayAtPickup.code),
        updated_at=timezone.now(),
    )


def _notify(order_id: int, event: str, *, ref: str = "") -> None:
    """Queue the e-mail in the current transaction (the outbox survives a broker outage)."""
    order_notification_enqueue(order_id=order_id, event=event, ref=ref)
