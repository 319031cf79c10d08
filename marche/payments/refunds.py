"""A coordinator refunds a household's order: part or all of its card payment, its mannes.

After a cycle closes, a household may be owed money the order's own flow does not give back:
a basket spoiled at the relay, a product missing that the packing did not record, a relay
point closed on pickup day. The coordinator refunds from the order's page in the admin.

- Euros go back on the card that paid (partial refunds allowed, never more than what the
  card paid less what was already refunded, counted under a lock on the payment).
- Mannes go back whole: the ledger reverses the order's manne payment (its opposite
  postings); a producer who already spent them makes the ledger refuse, and nothing changes.
- ``key`` comes from the form: a double click or a replayed POST returns the first result;
  a second tab has its own key and meets the same ceiling.
- Mannes are given back first (local, may be refused), then the card is refunded: a refusal
  leaves everything as it was. A card refund Stripe did not answer stays pending and the same
  key retries it (Stripe's own idempotency key is ours).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from marche.core.admin_access import territory_scope
from marche.errors import DomainError, NotFound
from marche.orders.models import Order
from marche.orders.notifications import order_notification_enqueue
from marche.payments.mannes_tender import MANNE_METHOD
from marche.payments.models import Payment, PaymentStatus, Refund
from marche.payments.stripe_services import RefundTooLarge, payment_refund, refunded_amount

if TYPE_CHECKING:
    from marche.accounts.models import User

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
CARD_METHOD = "card"
KEY_MAX_LENGTH = 64


class OrderRefundNotFound(NotFound):
    code = "order_not_found"
    default_message = _("Cette commande n'existe pas.")


class RefundReasonRequired(DomainError):
    code = "refund_reason_required"
    default_message = _("Indiquez le motif du remboursement : le foyer le lira.")


class NothingToRefund(DomainError):
    code = "nothing_to_refund"
    status = 409
    default_message = _(
        "Rien à rembourser : indiquez un montant en euros ou rendez la monnaie locale payée."
    )


class NoCardPayment(DomainError):
    code = "no_card_payment"
    status = 409
    default_message = _(
        "Cette commande n'a pas été payée par carte : il n'y a pas d'euros à rembourser ici."
    )


class MannesAlreadyReturned(DomainError):
    code = "mannes_already_returned"
    status = 409
    default_message = _("La monnaie locale payée pour cette commande a déjà été rendue.")


class MannesNotReturnable(DomainError):
    code = "mannes_not_returnable"
    status = 409
    default_message = _(
        "Le registre refuse de reprendre cette monnaie locale (un producteur l'a déjà "
        "dépensée ou reconvertie) : rien n'a été remboursé."
    )


@dataclass(frozen=True)
class RefundableParts:
    """What an order can still get back: euros on its card, mannes on its ledger account."""

    card_paid: Decimal = ZERO
    card_refunded: Decimal = ZERO
    mannes_paid: Decimal = ZERO
    mannes_returned: Decimal = ZERO
    card_payment_id: int | None = None
    refunds: list[Refund] = field(default_factory=list)

    @property
    def card_left(self) -> Decimal:
        return max(self.card_paid - self.card_refunded, ZERO)

    @property
    def mannes_left(self) -> Decimal:
        return max(self.mannes_paid - self.mannes_returned, ZERO)


@dataclass(frozen=True)
class OrderRefundResult:
    card_refund: Refund | None
    mannes_returned: Decimal


def order_refundable(*, order: Order) -> RefundableParts:
    """The order's card and manne payments, what was refunded of them, and its refunds."""
    payments = list(
        Payment.objects.filter(
            order=order,
            method__in=[CARD_METHOD, MANNE_METHOD],
            status__in=[PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED],
        ).order_by("pk")
    )
    card = next((p for p in payments if p.method == CARD_METHOD), None)
    mannes = [p for p in payments if p.method == MANNE_METHOD]
    return RefundableParts(
        card_paid=card.amount if card else ZERO,
        card_refunded=refunded_amount(card) if card else ZERO,
        mannes_paid=sum((p.amount for p in mannes), ZERO),
        mannes_returned=sum((p.amount for p in mannes if p.status == PaymentStatus.REFUNDED), ZERO),
        card_payment_id=card.pk if card else None,
        refunds=list(Refund.objects.filter(payment__order=order).order_by("created_at", "pk")),
    )


def order_refund(
    *,
    order_id: int,
    by: User,
    amount: Decimal,
    mannes: bool,
    reason: str,
    key: str,
) -> OrderRefundResult:
    """Refund ``amount`` euros of the order's card payment and, if ``mannes``, its mannes.

    Raises a :class:`DomainError` and changes nothing when the reason is empty, there is
    nothing to refund, the card cannot take the amount back or the ledger refuses the mannes.
    """
    reason = (reason or "").strip()
    if not reason:
        raise RefundReasonRequired()
    if not key or len(key) > KEY_MAX_LENGTH:
        raise DomainError(_("Le formulaire a expiré : rechargez la page."))
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
        raise RefundTooLarge(_("Le montant à rembourser doit être positif."))
    order = (
        territory_scope(Order.objects.all(), user=by, lookup="cycle__territory")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise OrderRefundNotFound()
    replayed = _replayed(order=order, key=key, amount=amount)
    if replayed is not None:
        return replayed
    if amount == 0 and not mannes:
        raise NothingToRefund()
    parts = order_refundable(order=order)
    if amount > 0:
        if parts.card_payment_id is None:
            raise NoCardPayment()
        if amount > parts.card_left:
            raise RefundTooLarge()
    returned = _mannes_return(order=order, reason=reason, key=key) if mannes else ZERO
    refund = None
    if amount > 0:
        assert parts.card_payment_id is not None
        refund = payment_refund(
            payment_id=parts.card_payment_id, amount=amount, reason=reason, key=_card_key(key)
        )
    order_notification_enqueue(order_id=order.pk, event="refunded", ref=key)
    return OrderRefundResult(card_refund=refund, mannes_returned=returned)


def _card_key(key: str) -> str:
    return f"order-refund:{key}:card"


def _mannes_prefix(key: str) -> str:
    return f"order-refund:{key}:mannes:"


def _mannes_returned_by(key: str) -> bool:
    from marche.mannes.models import Transaction

    return Transaction.objects.filter(key__startswith=_mannes_prefix(key)).exists()


def _replayed(*, order: Order, key: str, amount: Decimal) -> OrderRefundResult | None:
    """The first result of this key, with a card refund Stripe did not answer retried."""
    refund = Refund.objects.filter(idempotency_key=_card_key(key), payment__order=order).first()
    if refund is not None and not refund.stripe_refund_id:
        refund = payment_refund(
            payment_id=refund.payment_id,
            amount=refund.amount,
            reason=refund.reason,
            key=refund.idempotency_key,
        )
    returned = _mannes_returned_by(key)
    if refund is None and not returned:
        return None
    mannes = order_refundable(order=order).mannes_returned if returned else ZERO
    # The e-mail again: the notification's key sends it once, whichever try queued it.
    order_notification_enqueue(order_id=order.pk, event="refunded", ref=key)
    return OrderRefundResult(card_refund=refund, mannes_returned=mannes)


@dataclass(frozen=True)
class RefundNotice:
    """What one refund (one form's key) gave back, for the household's e-mail."""

    card: Decimal
    mannes: Decimal
    reason: str


def order_refund_notice(*, order: Order, key: str) -> RefundNotice:
    from marche.mannes.models import Transaction

    refund = Refund.objects.filter(idempotency_key=_card_key(key), payment__order=order).first()
    reversals = list(Transaction.objects.filter(key__startswith=_mannes_prefix(key)))
    reversed_payments = [int(t.key.rsplit(":", 1)[-1]) for t in reversals]
    mannes = sum(
        (p.amount for p in Payment.objects.filter(order=order, pk__in=reversed_payments)), ZERO
    )
    reason = refund.reason if refund is not None else (reversals[0].memo if reversals else "")
    return RefundNotice(card=refund.amount if refund else ZERO, mannes=mannes, reason=reason)


def _mannes_return(*, order: Order, reason: str, key: str) -> Decimal:
    """Reverse the order's manne payments, all or none; raise if none is left to return."""
    from marche.mannes.services import manne_order_payment_refund

    with transaction.atomic():
        paid = list(
            Payment.objects.select_for_update()
            .filter(order=order, method=MANNE_METHOD, status=PaymentStatus.SUCCEEDED)
            .order_by("pk")
        )
        if not paid:
            if _mannes_returned_by(key):  # the same form sent twice at once: the first did it
                return order_refundable(order=order).mannes_returned
            if Payment.objects.filter(
                order=order, method=MANNE_METHOD, status=PaymentStatus.REFUNDED
            ).exists():
                raise MannesAlreadyReturned()
            raise NothingToRefund(_("Cette commande n'a pas été payée en monnaie locale."))
        returned = ZERO
        for payment in paid:
            try:
                with transaction.atomic():
                    manne_order_payment_refund(
                        transaction_id=int(
                            payment.provider_payment_id.removeprefix("transaction:")
                        ),
                        key=f"{_mannes_prefix(key)}{payment.pk}",
                        reason=reason,
                    )
            except DomainError as error:
                logger.warning("Manne refund refused for order %s: %s", order.pk, error.code)
                raise MannesNotReturnable() from error
            Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.REFUNDED)
            returned += payment.amount
    return returned
