"""Stock services: hold at checkout, confirm at payment, release on expiry or cancellation.

Invariant: for every offer with a published quantity, held + sold <= available, whatever the
interleaving of buyers. Holds move the counter with one conditional UPDATE whose WHERE
clause carries the stock test; PostgreSQL re-evaluates that clause on the latest row version
after waiting for a concurrent writer, so two buyers can never both take the last unit. A
CHECK constraint in the database backs it up. Hold rows are locked before their counters
move, so confirm and release cannot both apply to the same hold. The lock helpers, and why
several offers are always locked in primary-key order, are in ``marche/cycles/locking.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from marche.accounts.models import User
from marche.catalog.models import Product, Unit
from marche.cycles.errors import (
    CycleClosed,
    CycleNotFound,
    HoldExpired,
    InvalidMaxPerOrder,
    InvalidPrice,
    InvalidQuantity,
    MaxPerOrderExceeded,
    NotYourProducer,
    OfferAlreadyPublished,
    OfferNotFound,
    OfferWithdrawn,
    OutOfStock,
    PriceUnusual,
    ProductNotFound,
    QuantityBelowCommitted,
)
from marche.cycles.locking import stock_hold_lock
from marche.cycles.models import (
    PER_ORDER_MAX,
    PRICE_MAX,
    STOCK_MAX,
    HoldStatus,
    Offer,
    OrderCycle,
    StockHold,
)
from marche.cycles.selectors import offer_usual_price
from marche.errors import DomainError
from marche.producers.models import ProducerMembership

DEFAULT_HOLD_TTL = timedelta(minutes=30)


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    status = 409


def _reserve(*, offer_id: int, quantity: Decimal) -> bool:
    """Add ``quantity`` to the held counter if the offer allows it; True when it did.

    The offer allows it when it is not withdrawn and either its published stock covers the
    quantity, or it is on demand and the quantity is within its maximum per order (and the
    counters stay within the database's bounds). All of it is in the UPDATE's WHERE clause,
    so a farmer withdrawing the offer or lowering the maximum at the same moment either
    comes first and is obeyed, or comes after.
    """
    enough = Q(
        quantity_available__isnull=True, max_per_order__gte=quantity, after__lte=STOCK_MAX
    ) | Q(quantity_available__gte=F("after"))
    updated = (
        Offer.objects.filter(pk=offer_id, withdrawn_at__isnull=True)
        .alias(after=F("quantity_held") + F("quantity_sold") + quantity)
        .filter(enough)
        .update(quantity_held=F("quantity_held") + quantity, updated_at=timezone.now())
    )
    return updated == 1


def _refusal(*, offer_id: int, quantity: Decimal) -> DomainError:
    """Why _reserve refused: withdrawn, over the maximum per order, or not enough stock."""
    offer = Offer.objects.select_related("product").get(pk=offer_id)
    if offer.withdrawn_at is not None:
        return OfferWithdrawn()
    if offer.quantity_available is None and quantity > offer.max_per_order:
        return _max_per_order_exceeded(offer)
    return OutOfStock()


def offer_order_total_check(*, offer: Offer, quantity: Decimal) -> None:
    """Refuse an order whose lines together ask more of an on-demand offer than its maximum.

    Each stock hold checks its own line; an order with several lines of one offer (the
    product and its variants, a basket holding it) is checked on their sum here.
    """
    if offer.quantity_available is None and quantity > offer.max_per_order:
        raise _max_per_order_exceeded(offer)


def _max_per_order_exceeded(offer: Offer) -> DomainError:
    return MaxPerOrderExceeded(
        _(
            "%(product)s : %(max)s %(unit)s au plus par commande (ce produit est préparé "
            "à la demande)."
        )
        % {
            "product": offer.product.name,
            "max": _format_quantity(offer.max_per_order),
            "unit": offer.product.get_unit_display(),
        },
        max_per_order=str(offer.max_per_order),
    )


def stock_hold(
    *,
    offer_id: int,
    quantity: Decimal,
    key: str,
    now: datetime | None = None,
    ttl: timedelta = DEFAULT_HOLD_TTL,
) -> StockHold:
    """Set stock aside for a buyer; replaying the same key returns the first hold."""
    now = now or timezone.now()
    if (
        not isinstance(quantity, Decimal)
        or not quantity.is_finite()
        or quantity <= 0
        or quantity > STOCK_MAX
    ):
        raise InvalidQuantity()
    existing = StockHold.objects.filter(key=key).first()
    if existing is not None:
        return _same_hold(existing, offer_id=offer_id, quantity=quantity)
    offer = Offer.objects.select_related("cycle").filter(pk=offer_id).first()
    if offer is None:
        raise OfferNotFound()
    if not offer.cycle.is_open(now):
        raise CycleClosed()
    try:
        with transaction.atomic():
            if not _reserve(offer_id=offer_id, quantity=quantity):
                raise _refusal(offer_id=offer_id, quantity=quantity)
            return StockHold.objects.create(
                offer_id=offer_id, key=key, quantity=quantity, expires_at=now + ttl
            )
    except IntegrityError:
        # A concurrent replay of the same key won the insert; its hold is the answer.
        winner = StockHold.objects.filter(key=key).first()
        if winner is None:
            raise
        return _same_hold(winner, offer_id=offer_id, quantity=quantity)


def _same_hold(hold: StockHold, *, offer_id: int, quantity: Decimal) -> StockHold:
    if hold.offer_id != offer_id or hold.quantity != quantity:
        raise IdempotencyConflict(
            "Cette clé d'idempotence a déjà servi pour une autre réservation."
        )
    return hold


@transaction.atomic
def stock_confirm(
    *, hold_id: int, now: datetime | None = None, allow_late: bool = False
) -> StockHold:
    """Turn a live hold into a sale (at payment). Idempotent; an expired hold is refused.

    With ``allow_late``, a hold past its expiry that no one has released yet is confirmed:
    its quantity is still counted as held, so confirming it cannot oversell. The order
    services use it for a payment that lands just after the deadline.
    """
    now = now or timezone.now()
    hold = stock_hold_lock(hold_id=hold_id)
    if hold.status == HoldStatus.CONFIRMED:
        return hold
    if hold.status != HoldStatus.HELD or (hold.expires_at <= now and not allow_late):
        raise HoldExpired()
    Offer.objects.filter(pk=hold.offer_id).update(
        quantity_held=F("quantity_held") - hold.quantity,
        quantity_sold=F("quantity_sold") + hold.quantity,
        updated_at=now,
    )
    hold.status = HoldStatus.CONFIRMED
    hold.save(update_fields=["status", "updated_at"])
    return hold


@transaction.atomic
def stock_release(*, hold_id: int) -> StockHold:
    """Give a held quantity back to the offer (cart abandoned, payment failed). Idempotent."""
    hold = stock_hold_lock(hold_id=hold_id)
    if hold.status != HoldStatus.HELD:
        return hold
    Offer.objects.filter(pk=hold.offer_id).update(
        quantity_held=F("quantity_held") - hold.quantity, updated_at=timezone.now()
    )
    hold.status = HoldStatus.RELEASED
    hold.save(update_fields=["status", "updated_at"])
    return hold


@transaction.atomic
def stock_return(*, hold_id: int) -> StockHold:
    """Put a confirmed (sold) quantity back on sale: an order cancelled before the cutoff.

    Also releases a hold that was still only held. Idempotent.
    """
    hold = stock_hold_lock(hold_id=hold_id)
    if hold.status == HoldStatus.HELD:
        return stock_release(hold_id=hold_id)
    if hold.status != HoldStatus.CONFIRMED:
        return hold
    Offer.objects.filter(pk=hold.offer_id).update(
        quantity_sold=F("quantity_sold") - hold.quantity, updated_at=timezone.now()
    )
    hold.status = HoldStatus.RETURNED
    hold.save(update_fields=["status", "updated_at"])
    return hold


def stock_holds_expire(*, now: datetime | None = None) -> int:
    """Release every hold past its expiry; returns how many were released."""
    now = now or timezone.now()
    expired = StockHold.objects.filter(status=HoldStatus.HELD, expires_at__lte=now)
    released = 0
    for hold_id in expired.order_by("pk").values_list("pk", flat=True):
        if stock_release(hold_id=hold_id).status == HoldStatus.RELEASED:
            released += 1
    return released


# Farmers' offers ------------------------------------------------------------------------
#
# Two doors: the dashboard and its CSV import (offer_save, offer_withdraw), and the API
# (offer_publish, offer_update). They share the checks below and one conditional UPDATE
# (offer_write); each service's docstring says where it differs from the others.
#
# Every door refuses a price far from the product's usual price unless the farmer confirms
# it (``confirm_price``): a "2,80" read as 280 must never reach the shop unnoticed. That
# check comes after every other one, so a confirmed price is saved at once.

DIVISIBLE_UNITS = {Unit.KG, Unit.LITRE}


def offer_quantity_places(product: Product) -> int:
    """Decimals a quantity of the product may have: 3 for kg and litres, none for pieces."""
    if product.unit in DIVISIBLE_UNITS and not product.is_variable_weight:
        return 3
    return 0


def offer_check_price(unit_price: object) -> Decimal:
    """The price as a Decimal if it is positive and to the cent; refuses anything else."""
    if (
        not isinstance(unit_price, Decimal)
        or not unit_price.is_finite()
        or unit_price <= 0
        or unit_price > PRICE_MAX
        or unit_price != unit_price.quantize(Decimal("0.01"))
    ):
        raise InvalidPrice()
    return unit_price


def offer_check_quantity(quantity: object, *, product: Product | None = None) -> Decimal | None:
    """The quantity offered: None for "on demand", else positive with at most 3 decimals.

    With ``product``, a product sold by the piece (or the bunch, the dozen) takes whole
    numbers only.
    """
    if quantity is None:
        return None
    if (
        not isinstance(quantity, Decimal)
        or not quantity.is_finite()
        or quantity <= 0
        or quantity > STOCK_MAX
        or quantity != quantity.quantize(Decimal("0.001"))
    ):
        raise InvalidQuantity(
            _(
                "La quantité doit être strictement positive (au plus 3 décimales), "
                "ou « à la demande »."
            )
        )
    whole = product is not None and offer_quantity_places(product) == 0
    if whole and quantity != quantity.to_integral_value():
        raise InvalidQuantity(
            _("%(product)s se vend à l'unité : la quantité est un nombre entier.")
            % {"product": product.name}  # type: ignore[union-attr]
        )
    return quantity


def offer_check_max_per_order(value: object, *, product: Product | None = None) -> Decimal:
    """The maximum per order of an on-demand offer: positive, at most 10,000, whole by piece."""
    if (
        not isinstance(value, Decimal)
        or not value.is_finite()
        or value <= 0
        or value > PER_ORDER_MAX
        or value != value.quantize(Decimal("0.001"))
        or (
            product is not None
            and offer_quantity_places(product) == 0
            and value != value.to_integral_value()
        )
    ):
        raise InvalidMaxPerOrder()
    return value


def offer_price_factor() -> Decimal:
    """How far from its usual price a price may move before it must be confirmed (setting)."""
    return Decimal(str(settings.MARCHE_OFFER_PRICE_FACTOR))


def offer_check_price_usual(
    *,
    product: Product,
    cycle_id: int,
    unit_price: Decimal,
    current_price: Decimal | None = None,
    confirmed: bool = False,
    confirm_label: str | None = None,
) -> None:
    """Refuses (``price_unusual``) a price far from the product's usual one, unless confirmed.

    Far means more than ``MARCHE_OFFER_PRICE_FACTOR`` times above or below the usual price
    (see ``offer_usual_price``). A price that does not change is never questioned again.
    ``confirm_label`` is the box the message tells the farmer to tick, as their page labels
    it ("Je confirme ce prix" on the dashboard's form).
    """
    if confirmed or unit_price == current_price:
        return
    usual = offer_usual_price(product=product, exclude_cycle_id=cycle_id)
    factor = offer_price_factor()
    if unit_price <= usual * factor and unit_price * factor >= usual:
        return
    raise PriceUnusual(
        _(
            "%(product)s : %(price)s € est très loin du prix habituel (%(usual)s €). "
            "Vérifiez la virgule, puis cochez « %(confirm)s » pour l'enregistrer."
        )
        % {
            "confirm": confirm_label or _("Je confirme ce prix"),
            "product": product.name,
            "price": number_format(unit_price, decimal_pos=2),
            "usual": number_format(usual, decimal_pos=2),
        },
        price=str(unit_price),
        usual_price=str(usual),
        factor=str(factor),
    )


def offer_check_member(*, user: User, producer_id: int) -> None:
    """Refuses a user who is not a member of the producer."""
    if not ProducerMembership.objects.filter(user=user, producer_id=producer_id).exists():
        raise NotYourProducer()


def offer_editable_cycle(
    *, cycle_id: int, territory_id: int, now: datetime, open_only: bool = False
) -> OrderCycle:
    """The cycle, if it is of the producer's territory and has not closed yet.

    With ``open_only`` (the API's rule) it must also have opened already.
    """
    cycle = OrderCycle.objects.filter(pk=cycle_id, territory_id=territory_id).first()
    if cycle is None:
        raise CycleNotFound()
    _offer_check_cycle(cycle=cycle, now=now, open_only=open_only)
    return cycle


def _offer_check_cycle(*, cycle: OrderCycle, now: datetime, open_only: bool) -> None:
    """Refuses a closed cycle, and with ``open_only`` one that has not opened yet."""
    if cycle.closes_at <= now:
        raise CycleClosed(_("Ce cycle de commande est clos : ses offres ne peuvent plus changer."))
    if open_only and not cycle.is_open(now):
        raise CycleClosed()


def _offer_target(
    *, user: User, cycle_id: int, product_id: int, now: datetime, open_only: bool
) -> tuple[Product, OrderCycle]:
    """The product and the cycle of an offer to publish, once the user may publish it there.

    The product must be in the catalogue (active, of an active producer) and the user one of
    its producer's members.
    """
    product = (
        Product.objects.select_related("producer")
        .filter(pk=product_id, is_active=True, producer__is_active=True)
        .first()
    )
    if product is None:
        raise ProductNotFound()
    offer_check_member(user=user, producer_id=product.producer_id)
    cycle = offer_editable_cycle(
        cycle_id=cycle_id, territory_id=product.producer.territory_id, now=now, open_only=open_only
    )
    return product, cycle


def _offer_create(
    *,
    product: Product,
    cycle: OrderCycle,
    unit_price: Decimal,
    quantity_available: Decimal | None,
    max_per_order: Decimal | None,
    confirm_price: bool,
) -> tuple[Offer, bool]:
    """Create the product's offer in the cycle, or return the one that exists (not created).

    The values are checked by the caller. When a concurrent request creates the same offer
    first, get_or_create's savepoint turns the unique constraint into "not created".
    """
    existing = Offer.objects.filter(cycle=cycle, product=product).first()
    if existing is not None:
        return existing, False
    offer_check_price_usual(
        product=product, cycle_id=cycle.pk, unit_price=unit_price, confirmed=confirm_price
    )
    defaults: dict[str, Decimal | None] = {
        "unit_price": unit_price,
        "quantity_available": quantity_available,
    }
    if max_per_order is not None:
        defaults["max_per_order"] = max_per_order
    return Offer.objects.get_or_create(cycle=cycle, product=product, defaults=defaults)


def _offer_editable(*, user: User, offer_id: int, now: datetime, open_only: bool) -> Offer:
    """The offer, if the user is a member of its producer and its cycle may still change."""
    offer = Offer.objects.select_related("cycle", "product").filter(pk=offer_id).first()
    if offer is None:
        raise OfferNotFound()
    offer_check_member(user=user, producer_id=offer.product.producer_id)
    _offer_check_cycle(cycle=offer.cycle, now=now, open_only=open_only)
    return offer


def offer_write(*, offer_id: int, **changes: object) -> Offer:
    """Write an offer's new price, quantity or maximum; refuses a quantity below held + sold.

    Every change of an offer's price or quantity goes through here (offer_withdraw aside: it
    sets the quantity to held + sold in SQL, which cannot fall below them). The new quantity
    races with buyers holding stock, so the test held + sold <= quantity is in the UPDATE's
    WHERE clause, not read before it: PostgreSQL re-evaluates that clause on the latest row
    version after waiting for a concurrent hold, so a hold either counts or waits, the farmer
    gets a clear ``quantity_below_committed`` and the CHECK constraint
    ``offer_never_oversold`` never fires. Nothing is written when it refuses.
    """
    rows = Offer.objects.filter(pk=offer_id)
    quantity = changes.get("quantity_available")
    if quantity is not None:
        rows = rows.alias(committed=F("quantity_held") + F("quantity_sold")).filter(
            committed__lte=quantity
        )
    if not rows.update(**changes, updated_at=timezone.now()):
        raise _below_committed(_committed(offer_id))
    return Offer.objects.get(pk=offer_id)


def offer_check_not_below_committed(offer: Offer, quantity: Decimal | None) -> None:
    """An early, friendly refusal before the price warning; offer_write's WHERE decides."""
    if quantity is not None and quantity < offer.quantity_held + offer.quantity_sold:
        raise _below_committed(offer.quantity_held + offer.quantity_sold)


def _committed(offer_id: int) -> Decimal:
    offer = Offer.objects.only("quantity_held", "quantity_sold").get(pk=offer_id)
    return offer.quantity_held + offer.quantity_sold


def _below_committed(committed: Decimal) -> QuantityBelowCommitted:
    return QuantityBelowCommitted(
        _(
            "La quantité ne peut pas être inférieure à %(committed)s, "
            "déjà réservé ou vendu dans ce cycle."
        )
        % {"committed": _format_quantity(committed)},
        committed=str(committed),
    )


def _format_quantity(quantity: Decimal) -> str:
    text = f"{quantity.normalize():f}"
    return text.replace(".", ",")


@transaction.atomic
def offer_save(
    *,
    user: User,
    cycle_id: int,
    product_id: int,
    unit_price: Decimal,
    quantity_available: Decimal | None,
    max_per_order: Decimal | None = None,
    confirm_price: bool = False,
    now: datetime | None = None,
) -> Offer:
    """Publish or update a producer's offer of a product in a cycle not yet closed.

    For the dashboard and the CSV import. ``quantity_available`` None means "on demand";
    ``max_per_order`` None keeps the offer's maximum (the default one for a new offer).
    Unlike the API's offer_publish and offer_update, an upcoming cycle is accepted (farmers
    prepare their offers before it opens), and saving an offer that exists replaces its
    price and quantity and puts it back on sale if it was withdrawn. The quantity may not
    fall below what buyers hold or bought; an unusual price needs ``confirm_price``.
    """
    product, cycle = _offer_target(
        user=user,
        cycle_id=cycle_id,
        product_id=product_id,
        now=now or timezone.now(),
        open_only=False,
    )
    unit_price = offer_check_price(unit_price)
    quantity_available = offer_check_quantity(quantity_available, product=product)
    if max_per_order is not None:
        max_per_order = offer_check_max_per_order(max_per_order, product=product)
    offer, created = _offer_create(
        product=product,
        cycle=cycle,
        unit_price=unit_price,
        quantity_available=quantity_available,
        max_per_order=max_per_order,
        confirm_price=confirm_price,
    )
    if created:
        return offer
    offer_check_not_below_committed(offer, quantity_available)
    offer_check_price_usual(
        product=product,
        cycle_id=cycle.pk,
        unit_price=unit_price,
        current_price=offer.unit_price,
        confirmed=confirm_price,
    )
    changes: dict[str, object] = {
        "unit_price": unit_price,
        "quantity_available": quantity_available,
        "withdrawn_at": None,
    }
    if max_per_order is not None:
        changes["max_per_order"] = max_per_order
    return offer_write(offer_id=offer.pk, **changes)


def offer_publish(
    *,
    user: User,
    product_id: int,
    cycle_id: int,
    unit_price: Decimal,
    quantity_available: Decimal | None,
    max_per_order: Decimal | None = None,
    confirm_price: bool = False,
    now: datetime | None = None,
) -> Offer:
    """Offer one of the farmer's products in an open cycle (``None`` quantity: on demand).

    For the API. Stricter than offer_save: the cycle must be open, not only upcoming, and a
    product already offered in the cycle is refused (``offer_exists``, with the offer's id)
    instead of updated, so a replayed POST creates and changes nothing. An unusual price
    needs ``confirm_price`` (``price_unusual`` otherwise).
    """
    product, cycle = _offer_target(
        user=user,
        cycle_id=cycle_id,
        product_id=product_id,
        now=now or timezone.now(),
        open_only=True,
    )
    unit_price = offer_check_price(unit_price)
    quantity_available = offer_check_quantity(quantity_available, product=product)
    if max_per_order is not None:
        max_per_order = offer_check_max_per_order(max_per_order, product=product)
    offer, created = _offer_create(
        product=product,
        cycle=cycle,
        unit_price=unit_price,
        quantity_available=quantity_available,
        max_per_order=max_per_order,
        confirm_price=confirm_price,
    )
    if not created:
        raise OfferAlreadyPublished(offer_id=offer.pk)
    return offer


def offer_update(
    *,
    user: User,
    offer_id: int,
    unit_price: Decimal | None = None,
    quantity_available: Decimal | None = None,
    on_demand: bool = False,
    max_per_order: Decimal | None = None,
    confirm_price: bool = False,
    now: datetime | None = None,
) -> Offer:
    """Change an offer's price, quantity (``on_demand``: no limit) or maximum per order.

    For the API's PATCH: only what is given changes; a new quantity (or on demand) puts a
    withdrawn offer back on sale. Like offer_publish, and unlike offer_save, the cycle must
    be open. The quantity may not go below what is already held or sold; an unusual price
    needs ``confirm_price``.
    """
    if on_demand and quantity_available is not None:
        raise InvalidQuantity()
    offer = _offer_editable(user=user, offer_id=offer_id, now=now or timezone.now(), open_only=True)
    changes: dict[str, object] = {}
    if unit_price is not None:
        changes["unit_price"] = offer_check_price(unit_price)
    if on_demand or quantity_available is not None:
        changes["quantity_available"] = offer_check_quantity(
            quantity_available, product=offer.product
        )
        changes["withdrawn_at"] = None
    if max_per_order is not None:
        changes["max_per_order"] = offer_check_max_per_order(max_per_order, product=offer.product)
    if not changes:
        return offer
    offer_check_not_below_committed(offer, changes.get("quantity_available"))  # type: ignore[arg-type]
    if unit_price is not None:
        offer_check_price_usual(
            product=offer.product,
            cycle_id=offer.cycle_id,
            unit_price=unit_price,
            current_price=offer.unit_price,
            confirmed=confirm_price,
        )
    return offer_write(offer_id=offer.pk, **changes)


@transaction.atomic
def offer_withdraw(*, user: User, offer_id: int, now: datetime | None = None) -> Offer:
    """Stop selling an offer: it leaves the shop, its quantity becomes what is held or sold.

    What buyers already hold or bought stays theirs. A withdrawn offer stays withdrawn until
    the farmer saves it again with a quantity. Idempotent: withdrawing again changes nothing.
    """
    now = now or timezone.now()
    _offer_editable(user=user, offer_id=offer_id, now=now, open_only=False)
    Offer.objects.filter(pk=offer_id).update(
        quantity_available=F("quantity_held") + F("quantity_sold"),
        withdrawn_at=Coalesce("withdrawn_at", Value(now)),
        updated_at=timezone.now(),
    )
    return Offer.objects.get(pk=offer_id)
