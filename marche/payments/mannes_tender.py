"""The manne part of a split tender: held at checkout, captured when the order is confirmed.

The household chooses how many mannes to use (checkout option ``mannes``), at most its
available balance and at most the part of the order from producers who accept mannes.
The amount is split among those producers (``manne_order_allocation``) and one ledger hold
is taken per producer, each recorded as a pending ``Payment`` in the territory's local
currency. ``on_confirm`` captures every hold inside the transaction that confirms the
order, so the order and the manne payment commit together or not at all; a failed,
expired or cancelled order releases the holds. The euro rest goes to the other tender
(card or pay at pickup). Euros and mannes are never added: the manne amount is converted
once at the territory's rate (what one unit is worth in euros, 1 in the demo) and its value
taken off the euro total, through ``marche.money.tender_split``; the most mannes a cart or
an order may take is its eligible euro part converted back, rounded down
(``marche.money.local_currency_for``), so the cart, the order, the amount due at pickup and
the card payment agree to the cent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from marche.core.numbers import InvalidNumber, parse_decimal
from marche.errors import DomainError
from marche.money import format_money, local_currency_for, round_money
from marche.orders.models import LineKind
from marche.payments.models import Payment, PaymentStatus

if TYPE_CHECKING:
    from marche.accounts.models import User
    from marche.cycles.models import OrderCycle
    from marche.orders.models import Order
    from marche.orders.services import Quote

logger = logging.getLogger(__name__)

MANNE_METHOD = "mannes"
ZERO = Decimal("0")
# Holds outlive the order's own deadline so that the order's expiry (which releases them)
# always comes first and a payment landing just in time can still capture them.
HOLD_MARGIN = timedelta(minutes=30)


class InvalidManneAmount(DomainError):
    code = "invalid_manne_amount"
    default_message = _("Le nombre de mannes doit être un montant positif, au centime près.")


class ManneAmountTooHigh(DomainError):
    code = "manne_amount_too_high"
    default_message = _(
        "Vous ne pouvez pas utiliser autant de mannes : au plus %(usable)s pour cette commande "
        "(votre solde disponible et la part des producteurs qui acceptent la manne)."
    )

    def __init__(self, *, usable: Decimal, currency: str = "mannes") -> None:
        # Written as people read it ("4,40 mannes" in French); the code keeps "4.40".
        super().__init__(
            str(self.default_message) % {"usable": format_money(usable, currency)},
            usable=str(usable),
        )


class LocalCurrencyUnavailable(DomainError):
    code = "local_currency_unavailable"
    default_message = _("La monnaie locale n'est pas en service sur ce territoire.")


def manne_amount_option(options: Mapping[str, str]) -> Decimal:
    """The manne amount asked at checkout (0 when none), or a clear refusal.

    Read by the one parser of typed numbers: "10,5" is 10.50, and exponents, more than two
    decimals or absurd magnitudes are refused in French before anything is written.
    """
    raw = options.get("mannes", "")
    if raw is None or not str(raw).strip():
        return ZERO
    try:
        return parse_decimal(raw, "mannes")
    except InvalidNumber as error:
        raise InvalidManneAmount(error.message, **error.params) from error


def quote_manne_eligible_total(*, quote: Quote) -> Decimal:
    """The part of a cart that producers accepting mannes would receive.

    Same rule as ``marche.mannes.selectors.manne_order_eligible_total`` on the placed order:
    an à la carte line counts when its producer accepts mannes; a composed basket counts
    only when every component's producer does.
    """
    total = ZERO
    for line in quote.lines:
        if (
            line.kind == LineKind.ITEM
            and line.offer is not None
            and line.offer.product.producer.accepts_local_currency
        ) or (
            line.kind == LineKind.BASKET
            and line.components
            and all(c.offer.product.producer.accepts_local_currency for c in line.components)
        ):
            total += line.total
    return round_money(total)


def manne_usable_for_quote(*, customer: User, cycle: OrderCycle, quote: Quote) -> Decimal:
    """How many mannes the household may put on this cart (0 if the scheme is off)."""
    from marche.mannes.selectors import manne_available_for_user

    territory = cycle.territory
    if not territory.local_currency_enabled:
        return ZERO
    eligible = local_currency_for(
        quote_manne_eligible_total(quote=quote), territory.local_currency_euro_rate
    )
    available = manne_available_for_user(user=customer, territory=territory)
    return max(ZERO, min(available, eligible))


def manne_part_validate(
    *, customer: User, cycle: OrderCycle, quote: Quote, options: Mapping[str, str]
) -> Decimal:
    """Check the manne amount before anything is written; returns it."""
    amount = manne_amount_option(options)
    if not amount:
        return ZERO
    if not cycle.territory.local_currency_enabled:
        raise LocalCurrencyUnavailable()
    usable = manne_usable_for_quote(customer=customer, cycle=cycle, quote=quote)
    if amount > usable:
        territory = cycle.territory
        raise ManneAmountTooHigh(
            usable=usable,
            currency=territory.local_currency_plural or territory.local_currency_code,
        )
    return amount


def manne_part_hold(*, order: Order, amount: Decimal) -> list[Payment]:
    """Hold the manne part of a placed order, one hold and one payment per producer."""
    if not amount:
        return []
    from marche.mannes.selectors import manne_order_allocation
    from marche.mannes.services import manne_account_for_user, manne_hold

    territory = order.cycle.territory
    account = manne_account_for_user(user=order.customer, territory=territory)
    payments = []
    with transaction.atomic():
        for producer_id, part in manne_order_allocation(order=order, amount=amount):
            if part <= 0:
                continue
            hold = manne_hold(
                account=account,
                amount=part,
                key=f"order:{order.pk}:mannes:{producer_id}",
                expires_at=order.expires_at + HOLD_MARGIN,
            )
            payment, _created = Payment.objects.get_or_create(
                order=order,
                method=MANNE_METHOD,
                currency=territory.local_currency_code,
                producer_id=producer_id,
                status=PaymentStatus.PENDING,
                defaults={"amount": part, "reference": f"hold:{hold.pk}"},
            )
            payments.append(payment)
    return payments


def manne_part_capture(*, order: Order) -> None:
    """Pay each producer its held mannes; runs inside the order-confirming transaction.

    Locks in the order of ``marche/orders/locking.py``: the manne payments, then every hold
    and every account the postings will touch, at once and by primary key
    (``marche.mannes.locking``), so that paying several producers cannot deadlock with a
    transfer between two of them.
    """
    from marche.mannes.locking import manne_capture_lock
    from marche.mannes.models import TransferKind
    from marche.mannes.rules import transfer_rule
    from marche.mannes.services import (
        manne_account_for_producer,
        manne_hold_capture,
        manne_issuer_account,
    )
    from marche.producers.models import Producer

    pending = list(
        Payment.objects.select_for_update()
        .filter(order=order, method=MANNE_METHOD, status=PaymentStatus.PENDING)
        .order_by("pk")
    )
    if not pending:
        return
    producers = Producer.objects.in_bulk({payment.producer_id for payment in pending})
    to_accounts = {
        producer_id: manne_account_for_producer(producer=producer)
        for producer_id, producer in producers.items()
    }
    recipients = [account.pk for account in to_accounts.values()]
    territory = order.cycle.territory
    rule = transfer_rule(territory=territory, kind=TransferKind.ORDER_PAYMENT)
    if rule is not None and rule.fee_percent:
        recipients.append(manne_issuer_account(territory=territory).pk)
    manne_capture_lock(hold_ids=[_hold_id(p) for p in pending], to_account_ids=recipients)
    for payment in pending:
        posting = manne_hold_capture(
            hold_id=_hold_id(payment),
            to_account=to_accounts[payment.producer_id],
            key=f"order:{order.pk}:mannes-capture:{payment.pk}",
        )
        payment.status = PaymentStatus.SUCCEEDED
        payment.provider_payment_id = f"transaction:{posting.pk}"
        payment.save(update_fields=["status", "provider_payment_id", "updated_at"])


def _hold_id(payment: Payment) -> int:
    return int(payment.reference.removeprefix("hold:"))


def manne_part_release(*, order: Order) -> None:
    """Give back the mannes held for an order that will not be paid (idempotent)."""
    from marche.mannes.services import manne_hold_release

    pending = Payment.objects.filter(order=order, method=MANNE_METHOD, status=PaymentStatus.PENDING)
    for payment in pending.order_by("pk"):
        manne_hold_release(hold_id=_hold_id(payment))
        Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.CANCELLED)


def manne_part_refund(*, order: Order) -> None:
    """Give the household back the mannes a cancelled order paid (opposite postings)."""
    from marche.mannes.services import manne_order_payment_refund

    paid = Payment.objects.filter(order=order, method=MANNE_METHOD, status=PaymentStatus.SUCCEEDED)
    for payment in paid.order_by("pk"):
        try:
            manne_order_payment_refund(
                transaction_id=int(payment.provider_payment_id.removeprefix("transaction:")),
                key=f"order:{order.pk}:mannes-refund:{payment.pk}",
                reason=str(_("Commande %(ref)s annulée") % {"ref": order.reference}),
            )
        except DomainError:
            # The producer has already spent or reconverted these mannes: the ledger refuses
            # to take them back. The payment stays "paid" and is logged for the coordinator.
            logger.warning("Manne refund refused for order %s payment %s", order.pk, payment.pk)
            continue
        Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.REFUNDED)
