"""Card payments after Checkout: fulfil, fail, refund, Connect transfers, webhook events.

``checkout_fulfil`` is the single fulfil function: the webhook and the return page both call
it, as often as they like, in any order. It locks the payment row, so two deliveries of the
same event confirm once; a payment that arrives after its order expired is refunded in full
(the stock went back on sale: money is never kept for goods that are not reserved).
Stripe is only called outside transactions; rows written before a call carry the
idempotency key the call uses, so a retry after a crash sends the same request again.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marche.core.locking import locking_atomic
from marche.core.numbers import parse_id_or_none
from marche.errors import DomainError, NotFound
from marche.orders.errors import OrderNotPending
from marche.orders.locking import order_lock
from marche.orders.models import Order, OrderStatus
from marche.orders.services import order_confirm, order_payment_failed
from marche.payments import stripe_gateway
from marche.payments.allocation import order_producer_tenders, split_proportionally
from marche.payments.models import (
    ConnectedAccount,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    StripeEvent,
    Transfer,
)
from marche.producers.models import Producer

ZERO = Decimal("0")
PAID = {"paid", "no_payment_required"}


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    default_message = _("Ce paiement n'existe pas.")


class RefundTooLarge(DomainError):
    code = "refund_too_large"
    status = 409
    default_message = _("Le remboursement dépasse ce qui reste à rembourser sur ce paiement.")


class RefundNotPossible(DomainError):
    code = "refund_not_possible"
    status = 409
    default_message = _("Seul un paiement par carte réussi peut être remboursé.")


class TransferNotDue(DomainError):
    code = "transfer_not_due"
    status = 409
    default_message = _("Les producteurs sont payés une fois la commande retirée.")


def _get(obj: Any, key: str, default: Any = None) -> Any:
    try:
        value = obj[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def _card_payment_for(session: Any) -> Payment | None:
    payment = Payment.objects.filter(method="card", reference=_get(session, "id", "")).first()
    if payment is None:
        # parse_id, not str.isdigit: "²" is a digit to isdigit and not to int.
        order_id = parse_id_or_none(_get(_get(session, "metadata", {}), "order_id"))
        if order_id is not None:
            payment = (
                Payment.objects.filter(method="card", order_id=order_id).order_by("-pk").first()
            )
    return payment


def checkout_fulfil(*, session: Any) -> str:
    """Confirm the order of a paid Checkout Session (idempotent); returns what happened."""
    payment = _card_payment_for(session)
    if payment is None:
        return "unknown_session"
    if _get(session, "payment_status") not in PAID:
        return "awaiting_payment"
    late = False
    with locking_atomic():
        # The order before its payments (marche/orders/locking.py), as every other service.
        order_lock(payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status in {PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED}:
            return "already_fulfilled"
        payment.status = PaymentStatus.SUCCEEDED
        payment.provider_payment_id = _get(session, "payment_intent", "")
        payment.recorded_at = timezone.now()
        payment.save(update_fields=["status", "provider_payment_id", "recorded_at", "updated_at"])
        try:
            with transaction.atomic():
                order_confirm(order_id=payment.order_id)
        except OrderNotPending:
            late = True
    if late:
        payment_refund(
            payment_id=payment.pk,
            amount=payment.amount,
            reason=str(_("Paiement reçu après l'expiration de la commande")),
            key=f"late-payment-{payment.pk}",
        )
        return "refunded_late"
    return "fulfilled"


def checkout_failed(*, session: Any) -> str:
    """The Checkout Session expired or its payment failed: release stock and holds."""
    payment = _card_payment_for(session)
    if payment is None:
        return "unknown_session"
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != PaymentStatus.PENDING:
            return "ignored"
        payment.status = PaymentStatus.FAILED
        payment.save(update_fields=["status", "updated_at"])
    order_payment_failed(order_id=payment.order_id)
    return "released"


def payment_refund(*, payment_id: int, amount: Decimal, reason: str, key: str) -> Refund:
    """Refund part or all of a card payment; replaying the key returns the first refund."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise RefundTooLarge(_("Le montant à rembourser doit être positif."))
    existing = Refund.objects.filter(idempotency_key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
                if payment is None:
                    raise PaymentNotFound()
                if payment.method != "card" or payment.status not in {
                    PaymentStatus.SUCCEEDED,
                    PaymentStatus.REFUNDED,
                }:
                    raise RefundNotPossible()
                if amount > payment.amount - refunded_amount(payment):
                    raise RefundTooLarge()
                existing = Refund.objects.create(
                    payment=payment, amount=amount, reason=reason, idempotency_key=key
                )
        except IntegrityError:
            existing = Refund.objects.get(idempotency_key=key)
    if existing.stripe_refund_id:
        return existing
    payment = existing.payment
    result = stripe_gateway.refund_create(
        payment_intent=payment.provider_payment_id,
        amount=existing.amount,
        key=key,
        reason=f"{key} {existing.reason}",
    )
    return _refund_record(refund=existing, stripe_refund=result)


def payment_refund_rest(*, payment_id: int, reason: str, key: str) -> Refund | None:
    """Refund whatever is left of a card payment (an order cancelled after paying)."""
    existing = Refund.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return payment_refund(payment_id=payment_id, amount=existing.amount, reason=reason, key=key)
    payment = Payment.objects.get(pk=payment_id)
    rest = payment.amount - refunded_amount(payment)
    if rest <= 0:
        return None
    return payment_refund(payment_id=payment_id, amount=rest, reason=reason, key=key)


def order_card_overpaid_refund(*, order_id: int, key: str, reason: str) -> Refund | None:
    """Refund what the card paid beyond the order's current total (after packing).

    The card's share is the order total less its other tenders (mannes); what it paid
    above that, net of refunds, goes back. Nothing happens when the card paid nothing or
    not more; replaying the key returns the first refund.
    """
    from marche.payments.methods import payment_amount_left

    existing = Refund.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    card = Payment.objects.filter(
        order_id=order_id, method="card", status__in=[PaymentStatus.SUCCEEDED]
    ).first()
    if card is None:
        return None
    due = payment_amount_left(order=card.order, method_code="card")
    overpaid = card.amount - refunded_amount(card) - due
    if overpaid <= 0:
        return None
    return payment_refund(payment_id=card.pk, amount=overpaid, reason=reason, key=key)


def refunded_amount(payment: Payment, *, statuses: tuple[str, ...] | None = None) -> Decimal:
    """What the payment's refunds add up to: those not failed, or only ``statuses``."""
    refunds = payment.refunds.all()
    refunds = (
        refunds.filter(status__in=statuses)
        if statuses
        else refunds.exclude(status=RefundStatus.FAILED)
    )
    return refunds.aggregate(s=Sum("amount"))["s"] or ZERO


def _refund_record(*, refund: Refund, stripe_refund: Any) -> Refund:
    status = {
        "succeeded": RefundStatus.SUCCEEDED,
        "failed": RefundStatus.FAILED,
        "canceled": RefundStatus.FAILED,
    }.get(_get(stripe_refund, "status", ""), RefundStatus.PENDING)
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        refund.stripe_refund_id = _get(stripe_refund, "id")
        refund.status = status
        refund.save(update_fields=["stripe_refund_id", "status", "updated_at"])
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        if refunded_amount(payment, statuses=(RefundStatus.SUCCEEDED,)) >= payment.amount:
            payment.status = PaymentStatus.REFUNDED
            payment.save(update_fields=["status", "updated_at"])
    return refund


def refund_sync(*, stripe_refund: Any) -> str:
    """Record a refund seen in a webhook, including one made in the Stripe dashboard."""
    refund_id = _get(stripe_refund, "id")
    refund = Refund.objects.filter(stripe_refund_id=refund_id).first()
    if refund is None:
        reason = _get(_get(stripe_refund, "metadata", {}), "reason", "")
        key = reason.split(" ", 1)[0] if reason else ""
        refund = Refund.objects.filter(idempotency_key=key).first() if key else None
    if refund is None:
        payment = Payment.objects.filter(
            method="card", provider_payment_id=_get(stripe_refund, "payment_intent", "")
        ).first()
        if payment is None:
            return "unknown_payment"
        refund, _created = Refund.objects.get_or_create(
            idempotency_key=f"stripe-{refund_id}",
            defaults={
                "payment": payment,
                "amount": Decimal(_get(stripe_refund, "amount", 0)) / 100,
                "reason": str(_("Remboursement fait dans le tableau de bord Stripe")),
            },
        )
    _refund_record(refund=refund, stripe_refund=stripe_refund)
    return "refund_recorded"


# --- Connect ----------------------------------------------------------------------------


def producer_onboarding_link(*, producer: Producer, refresh_url: str, return_url: str) -> str:
    """A Stripe onboarding link for the producer's connected account (created once)."""
    account = ConnectedAccount.objects.filter(producer=producer).first()
    if account is None:
        created = stripe_gateway.connected_account_create(
            email=producer.email if hasattr(producer, "email") else "",
            name=producer.name,
            key=f"connect-account-{producer.pk}",
        )
        account, _created = ConnectedAccount.objects.get_or_create(
            producer=producer, defaults={"stripe_account_id": created.id}
        )
    link = stripe_gateway.account_link_create(
        account_id=account.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )
    return str(link.url)


def connected_account_sync(*, account: Any) -> str:
    """Keep the onboarding state of a connected account up to date (account.updated)."""
    updated = ConnectedAccount.objects.filter(stripe_account_id=_get(account, "id")).update(
        details_submitted=bool(_get(account, "details_submitted", False)),
        payouts_enabled=bool(_get(account, "payouts_enabled", False)),
    )
    return "account_updated" if updated else "unknown_account"


def order_card_share_by_producer(*, order: Order) -> dict[int, Decimal]:
    """Each producer's part of what the card paid for the order, net of refunds."""
    paid = Payment.objects.filter(
        order=order, method="card", status__in=[PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED]
    ).first()
    if paid is None:
        return {}
    card_net = paid.amount - refunded_amount(paid, statuses=(RefundStatus.SUCCEEDED,))
    # The card paid the euro part: split it by each producer's share less what the
    # household paid that producer in mannes (valued at the territory's rate).
    tenders = order_producer_tenders(order=order)
    return split_proportionally(card_net, {pid: t.euros for pid, t in tenders.items()})


def order_transfers_create(*, order_id: int) -> list[Transfer]:
    """One transfer per producer for a collected order; deterministic keys, idempotent."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound()
    if order.status != OrderStatus.COLLECTED:
        raise TransferNotDue()
    accounts = {
        account.producer_id: account
        for account in ConnectedAccount.objects.filter(producer__order_lines__order=order)
    }
    transfers = []
    for producer_id, amount in sorted(order_card_share_by_producer(order=order).items()):
        account = accounts.get(producer_id)
        if account is None or amount <= 0:
            continue
        key = f"transfer-{order.reference}-{producer_id}"
        transfer, _created = Transfer.objects.get_or_create(
            idempotency_key=key,
            defaults={"order": order, "producer_id": producer_id, "amount": amount},
        )
        if not transfer.stripe_transfer_id:
            result = stripe_gateway.transfer_create(
                amount=transfer.amount,
                destination=account.stripe_account_id,
                transfer_group=order.reference,
                source_charge="",
                key=key,
            )
            Transfer.objects.filter(pk=transfer.pk).update(stripe_transfer_id=result.id)
            transfer.refresh_from_db()
        transfers.append(transfer)
    return transfers


# --- webhooks ---------------------------------------------------------------------------

SESSION_PAID = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
SESSION_FAILED = {"checkout.session.async_payment_failed", "checkout.session.expired"}
REFUND_EVENTS = {"refund.created", "refund.updated", "charge.refund.updated"}


def stripe_event_process(*, event: Mapping[str, Any]) -> str:
    """Record a verified event once and act on it; a replayed event id does nothing."""
    try:
        with transaction.atomic():
            record = StripeEvent.objects.create(
                event_id=event["id"],
                type=event["type"],
                livemode=bool(_get(event, "livemode", False)),
                payload=_plain(event),
            )
    except IntegrityError:
        return "duplicate"
    try:
        outcome = _dispatch(event)
    except Exception:
        # Forget the event so that Stripe's next delivery of it is processed again.
        StripeEvent.objects.filter(pk=record.pk).delete()
        raise
    StripeEvent.objects.filter(pk=record.pk).update(outcome=outcome)
    return outcome


def _dispatch(event: Mapping[str, Any]) -> str:
    obj = event["data"]["object"]
    kind = event["type"]
    if kind in SESSION_PAID:
        outcome = checkout_fulfil(session=obj)
    elif kind in SESSION_FAILED:
        outcome = checkout_failed(session=obj)
    elif kind in REFUND_EVENTS:
        outcome = refund_sync(stripe_refund=obj)
    elif kind == "account.updated":
        outcome = connected_account_sync(account=obj)
    else:
        outcome = "ignored"
    return outcome


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
