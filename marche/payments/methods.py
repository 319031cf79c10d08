"""The pluggable payment step: the order code asks a method to start, the method reports.

A method is a class named in ``settings.MARCHE_PAYMENT_METHODS``. ``start`` is called after
the order and its stock holds are committed (never inside a transaction or a lock) and
answers either "confirmed now" (pay at pickup: the household commits to pay at the relay
point) or "go there" (a card payment page); a method that confirms later calls
``marche.orders.services.order_confirm`` itself, which is idempotent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db.models import Q, Sum
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from marche.money import EUR, tender_split
from marche.orders.errors import PaymentMethodUnavailable

if TYPE_CHECKING:
    from collections.abc import Mapping

    from django.utils.functional import Promise

    from marche.accounts.models import User
    from marche.cycles.models import OrderCycle
    from marche.orders.models import Order
    from marche.orders.services import Quote


ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class PaymentStart:
    """What the checkout does next: the order is confirmed, or the buyer goes to a page."""

    confirmed: bool
    redirect_url: str | None = None


class PaymentMethod(ABC):
    code: ClassVar[str]
    label: ClassVar[Promise | str]
    description: ClassVar[Promise | str] = ""

    def is_available(self) -> bool:
        """Whether households may choose this method now (configured, enabled)."""
        return True

    def validate(  # noqa: B027 - optional hook
        self, *, customer: User, cycle: OrderCycle, quote: Quote, options: Mapping[str, str]
    ) -> None:
        """Refuse, before anything is written, options this method cannot honour."""

    @abstractmethod
    def start(self, *, order: Order, options: Mapping[str, str]) -> PaymentStart:
        """Begin paying ``order`` (already committed, stock held); never inside a lock."""

    def on_confirm(self, *, order: Order) -> None:  # noqa: B027 - optional hook
        """Called inside the transaction that confirms the order (capture what was held)."""

    def cancel(self, *, order: Order) -> None:  # noqa: B027 - optional hook
        """The order is cancelled or expired: undo or refund what this method took."""


def payment_amount_left(*, order: Order, method_code: str) -> Decimal:
    """The euros left for one tender once the order's other live payments are counted.

    Other tenders are mannes or a card payment already made. Euros and mannes are never
    added: the manne payments are summed in mannes, converted once at the territory's rate
    (``marche.money.tender_split``), and the euro payments are taken off the euro part that
    is left. The result is never negative.
    """
    from marche.payments.models import Payment, PaymentStatus

    other = Payment.objects.filter(
        order=order, status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED]
    ).exclude(method=method_code)
    sums = other.aggregate(
        euros=Sum("amount", filter=Q(currency=EUR)), mannes=Sum("amount", filter=~Q(currency=EUR))
    )
    euros, mannes = sums["euros"] or ZERO, sums["mannes"] or ZERO
    euro_part, _manne_value = tender_split(
        order.total, mannes, order.cycle.territory.local_currency_euro_rate
    )
    return max(euro_part - euros, ZERO)


class ManneSplitMixin:
    """Lets a method take part of the order in mannes (checkout option ``mannes``)."""

    def validate(
        self, *, customer: User, cycle: OrderCycle, quote: Quote, options: Mapping[str, str]
    ) -> None:
        from marche.payments.mannes_tender import manne_part_validate

        manne_part_validate(customer=customer, cycle=cycle, quote=quote, options=options)

    def hold_mannes(self, *, order: Order, options: Mapping[str, str]) -> None:
        from marche.payments.mannes_tender import manne_amount_option, manne_part_hold

        manne_part_hold(order=order, amount=manne_amount_option(options))

    def on_confirm(self, *, order: Order) -> None:
        from marche.payments.mannes_tender import manne_part_capture

        manne_part_capture(order=order)

    def cancel_mannes(self, *, order: Order) -> None:
        from marche.payments.mannes_tender import manne_part_refund, manne_part_release

        manne_part_release(order=order)
        if order.status == "cancelled":
            manne_part_refund(order=order)


class PayAtPickup(ManneSplitMixin, PaymentMethod):
    """Cash or cheque at the relay point, recorded there; the order is confirmed at once."""

    code = "pickup"
    label = _("Paiement au retrait")
    description = _("En espèces ou par chèque, au point relais, au moment du retrait.")

    def start(self, *, order: Order, options: Mapping[str, str]) -> PaymentStart:
        from marche.payments.models import Payment, PaymentStatus

        self.hold_mannes(order=order, options=options)
        rest = payment_amount_left(order=order, method_code=self.code)
        if rest > 0:
            Payment.objects.get_or_create(
                order=order,
                method=self.code,
                currency="EUR",
                status=PaymentStatus.PENDING,
                defaults={"amount": rest},
            )
        return PaymentStart(confirmed=True)

    def cancel(self, *, order: Order) -> None:
        from marche.payments.models import Payment, PaymentStatus

        Payment.objects.filter(order=order, method=self.code, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.CANCELLED
        )
        self.cancel_mannes(order=order)


@cache
def _registry() -> dict[str, PaymentMethod]:
    methods = [import_string(path)() for path in settings.MARCHE_PAYMENT_METHODS]
    return {method.code: method for method in methods}


def payment_method_list() -> list[PaymentMethod]:
    """Every configured method, available or not (the checkout shows why one is not)."""
    return list(_registry().values())


def payment_method_get(code: str) -> PaymentMethod:
    """The configured, available method with this code, or a clear refusal."""
    method = _registry().get(code)
    if method is None or not method.is_available():
        raise PaymentMethodUnavailable()
    return method


def payment_method_find(code: str) -> PaymentMethod | None:
    """The configured method with this code, even if it is not offered any more."""
    return _registry().get(code)
