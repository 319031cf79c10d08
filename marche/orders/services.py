"""Cart and order services: fill a cart, place, confirm, cancel and expire orders.

Placing an order is one transaction: the order and its lines are written, every line's
stock is held (conditional UPDATEs, see ``marche.cycles.services``) and a pickup slot is
booked; any refusal (out of stock, full relay point or slot) rolls all of it back, so a
refused checkout changes nothing. The payment method is started only after the commit.
Confirming, cancelling and expiring lock the order row first, so they never both apply.
Every one of them takes its row locks in the single order of ``marche/orders/locking.py``
(the order, then its holds and offers by primary key, never in cart order, then the pickup
slot) and under a lock timeout: a checkout that waits too long is refused with
``ServiceBusy``, never a 500 or a deadlock.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from marche.accounts.models import User
from marche.catalog.models import Product, ProductVariant, Unit
from marche.catalog.selectors import product_labels_valid_on
from marche.core.locking import locking_atomic
from marche.core.numbers import parse_decimal
from marche.cycles.errors import (
    CycleClosed,
    CycleNotFound,
    InvalidQuantity,
    OfferNotFound,
    OfferWithdrawn,
    OutOfStock,
)
from marche.cycles.locking import offers_lock
from marche.cycles.models import Basket, Offer, OrderCycle
from marche.cycles.selectors import cycle_for_customer
from marche.cycles.services import (
    offer_order_total_check,
    stock_confirm,
    stock_hold,
    stock_release,
    stock_return,
)
from marche.errors import DomainError
from marche.money import round_money
from marche.orders.display import quantity_label
from marche.orders.errors import (
    BasketNotFound,
    CancellationTooLate,
    CartEmpty,
    MinimumOrderNotReached,
    OrderNotCancellable,
    OrderNotFound,
    OrderNotPending,
    QuantityBelowMinimum,
    VariantNotFound,
    WholeNumberRequired,
)
from marche.orders.locking import cart_lock, order_lock, order_stock_lock
from marche.orders.models import (
    LINE_QUANTITY_MAX,
    Cart,
    CartItem,
    LineKind,
    Order,
    OrderLine,
    OrderStatus,
)
from marche.orders.notifications import order_notification_enqueue
from marche.payments.methods import PaymentStart, payment_method_find, payment_method_get
from marche.relays.errors import RelayPointNotFound
from marche.relays.models import RelayPoint
from marche.relays.services import pickup_slot_book, pickup_slot_release

HUNDRED = Decimal("100")
DIVISIBLE_UNITS = {Unit.KG, Unit.LITRE}
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# --- pricing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuoteComponent:
    offer: Offer
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """One priced line of a cart, as it would be ordered now."""

    kind: str
    name: str
    count: Decimal
    quantity: Decimal
    unit_price: Decimal
    total: Decimal
    vat_rate: Decimal
    unit: str = ""
    offer: Offer | None = None
    variant: ProductVariant | None = None
    basket: Basket | None = None
    is_solidarity_price: bool = False
    price_per_kg: Decimal | None = None
    estimated_weight_kg: Decimal | None = None
    components: tuple[QuoteComponent, ...] = ()
    cart_item_id: int | None = None


@dataclass(frozen=True, slots=True)
class CartProblem:
    """A cart item that cannot be ordered as it is stored (its count is refused now)."""

    cart_item_id: int
    name: str
    count: Decimal
    message: str


@dataclass(frozen=True, slots=True)
class Quote:
    lines: list[QuoteLine] = field(default_factory=list)
    problems: list[CartProblem] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0"))

    @property
    def has_estimates(self) -> bool:
        return any(line.price_per_kg is not None for line in self.lines)


def _check_count(count: Decimal, *, divisible: bool) -> None:
    """A count a household may order: positive, whole unless sold by weight, bounded.

    The bounds are the number parser's (``weight``: to the gram; ``count``: whole), so a
    count from the API or stored long ago is held to what a form would accept: ``1E-9`` kg
    or 100 000 pieces are refused, never stored, and never priced.
    """
    if not isinstance(count, Decimal) or not count.is_finite() or count <= 0:
        raise InvalidQuantity()
    if not divisible and count != count.to_integral_value():
        raise WholeNumberRequired()
    parse_decimal(count, "weight" if divisible else "count")


def _check_minimum_weight(count: Decimal, *, unit: str) -> None:
    """Refuse less than ``MARCHE_ORDER_MIN_WEIGHT`` of a product sold by kg or litre."""
    minimum = Decimal(str(settings.MARCHE_ORDER_MIN_WEIGHT))
    if count < minimum:
        raise QuantityBelowMinimum(
            _("Commandez au moins %(minimum)s de ce produit.")
            % {"minimum": quantity_label(minimum, unit)},
            minimum=str(minimum),
        )


def variant_item_price(*, offer: Offer, variant: ProductVariant) -> Decimal:
    """Price of one item of a variant: the offer's unit price times content, less discount."""
    gross = offer.unit_price * variant.content
    return round_money(gross * (HUNDRED - variant.discount_percent) / HUNDRED)


def _offer_withdrawn(offer: Offer) -> OfferWithdrawn:
    return OfferWithdrawn(
        _("%(product)s a été retiré de la vente par son producteur.")
        % {"product": offer.product.name},
        product=str(offer.product.name),
    )


def _basket_check_components(*, basket: Basket, count: Decimal, stock: bool) -> None:
    """Refuse a basket whose component offer was withdrawn (or, with ``stock``, is short).

    A basket holds each component's offer when ordered: one component withdrawn or sold out
    makes the whole basket unavailable, and the refusal names that component.
    """
    for item in basket.items.all():
        offer = item.offer
        if offer.is_withdrawn:
            raise OfferWithdrawn(
                _(
                    "Le panier « %(basket)s » n'est plus disponible : %(product)s a été retiré "
                    "de la vente par son producteur."
                )
                % {"basket": basket.name, "product": offer.product.name},
                product=str(offer.product.name),
            )
        remaining = offer.quantity_remaining
        if stock and remaining is not None and item.quantity * count > remaining:
            message = (
                _("Le panier « %(basket)s » n'est plus disponible : %(product)s est épuisé.")
                if remaining < item.quantity
                else _(
                    "Le panier « %(basket)s » : il ne reste pas assez de %(product)s "
                    "pour cette quantité."
                )
            )
            raise OutOfStock(
                message % {"basket": basket.name, "product": offer.product.name},
                product=str(offer.product.name),
            )


def basket_unavailable_reason(*, basket: Basket) -> str | None:
    """Why one of this basket cannot be ordered now (a component withdrawn or sold out).

    Reads the basket's prefetched items and offers: no query with ``basket_list_for_shop``.
    """
    try:
        _basket_check_components(basket=basket, count=Decimal(1), stock=True)
    except DomainError as error:
        return error.message
    return None


def _quote_offer(
    *, offer: Offer, variant: ProductVariant | None, count: Decimal, item_id: int | None
) -> QuoteLine:
    if offer.is_withdrawn:
        raise _offer_withdrawn(offer)
    product = offer.product
    if variant is not None:
        _check_count(count, divisible=False)
        if count * variant.content > LINE_QUANTITY_MAX:
            # A large crate ordered many times: refused here, never by the database's CHECK.
            raise InvalidQuantity()
        price = variant_item_price(offer=offer, variant=variant)
        return QuoteLine(
            kind=LineKind.ITEM,
            name=f"{product.name} — {variant.name}",
            count=count,
            quantity=count * variant.content,
            unit_price=price,
            total=round_money(count * price),
            vat_rate=product.vat_rate,
            unit=product.unit,
            offer=offer,
            variant=variant,
            cart_item_id=item_id,
        )
    if product.is_variable_weight:
        _check_count(count, divisible=False)
        assert product.estimated_weight_kg is not None  # guaranteed by a CHECK constraint
        weight = count * product.estimated_weight_kg
        return QuoteLine(
            kind=LineKind.ITEM,
            name=str(product.name),
            count=count,
            quantity=count,
            unit_price=round_money(product.estimated_weight_kg * offer.unit_price),
            total=round_money(weight * offer.unit_price),
            vat_rate=product.vat_rate,
            unit=product.unit,
            offer=offer,
            price_per_kg=offer.unit_price,
            estimated_weight_kg=weight,
            cart_item_id=item_id,
        )
    divisible = product.unit in DIVISIBLE_UNITS
    _check_count(count, divisible=divisible)
    if divisible:
        _check_minimum_weight(count, unit=product.unit)
    return QuoteLine(
        kind=LineKind.ITEM,
        name=str(product.name),
        count=count,
        quantity=count,
        unit_price=offer.unit_price,
        total=round_money(count * offer.unit_price),
        vat_rate=product.vat_rate,
        unit=product.unit,
        offer=offer,
        cart_item_id=item_id,
    )


def _quote_basket(
    *, basket: Basket, count: Decimal, customer: User, item_id: int | None
) -> QuoteLine:
    _check_count(count, divisible=False)
    _basket_check_components(basket=basket, count=count, stock=False)
    solidarity = basket.solidarity_price is not None and customer.is_solidarity_eligible(
        basket.cycle.delivery_date
    )
    price = basket.solidarity_price if solidarity and basket.solidarity_price else basket.price
    return QuoteLine(
        kind=LineKind.BASKET,
        name=basket.name,
        count=count,
        quantity=count,
        unit_price=price,
        total=round_money(count * price),
        vat_rate=basket.vat_rate,
        basket=basket,
        is_solidarity_price=solidarity,
        components=tuple(
            QuoteComponent(offer=item.offer, quantity=item.quantity * count)
            for item in basket.items.all()
        ),
        cart_item_id=item_id,
    )


def cart_quote(*, cart: Cart, lenient: bool = False) -> Quote:
    """Price every item of a cart at today's offer prices (round each line, then sum).

    An item that cannot be priced as stored (a count refused now) raises its DomainError, so
    checkout refuses it; with ``lenient`` it is set aside in ``Quote.problems`` instead, so
    the shop and the cart always show, with the problem and a way to remove the item.
    """
    items = cart.items.select_related(
        "offer__product__producer", "variant", "basket__cycle"
    ).prefetch_related("basket__items__offer__product__producer")
    lines: list[QuoteLine] = []
    problems: list[CartProblem] = []
    for item in items:
        try:
            lines.append(_quote_item(item=item, customer=cart.customer))
        except DomainError as error:
            if not lenient:
                raise
            problems.append(
                CartProblem(
                    cart_item_id=item.pk,
                    name=_item_name(item),
                    count=item.count,
                    message=error.message,
                )
            )
    return Quote(lines=lines, problems=problems)


def _quote_item(*, item: CartItem, customer: User) -> QuoteLine:
    if item.basket is not None:
        return _quote_basket(
            basket=item.basket, count=item.count, customer=customer, item_id=item.pk
        )
    assert item.offer is not None  # guaranteed by a CHECK constraint
    return _quote_offer(offer=item.offer, variant=item.variant, count=item.count, item_id=item.pk)


def _item_name(item: CartItem) -> str:
    if item.basket is not None:
        return item.basket.name
    assert item.offer is not None  # guaranteed by a CHECK constraint
    name = str(item.offer.product.name)
    return f"{name} — {item.variant.name}" if item.variant is not None else name


# --- cart -----------------------------------------------------------------------------------


def _open_cycle(*, customer: User, cycle_id: int, now: datetime) -> OrderCycle:
    """The customer's territory's cycle, open now; another territory's is not found."""
    cycle = cycle_for_customer(customer=customer, cycle_id=cycle_id)
    if cycle is None and OrderCycle.objects.filter(pk=cycle_id).exists():
        raise CycleNotFound()
    if cycle is None or not cycle.is_open(now):
        raise CycleClosed()
    return cycle


def cart_get(*, customer: User, cycle: OrderCycle) -> Cart:
    """The household's cart for a cycle, created empty the first time."""
    cart, _created = Cart.objects.get_or_create(customer=customer, cycle=cycle)
    return cart


@dataclass(frozen=True, slots=True)
class _Target:
    """What a cart item holds: an offer (optionally in a variant) or a composed basket."""

    offer: Offer | None = None
    variant: ProductVariant | None = None
    basket: Basket | None = None

    def lookup(self, cart: Cart) -> dict[str, object]:
        return {"cart": cart, "offer": self.offer, "variant": self.variant, "basket": self.basket}


def _cart_target(
    *, cycle: OrderCycle, offer_id: int | None, variant_id: int | None, basket_id: int | None
) -> _Target:
    if (offer_id is None) == (basket_id is None):
        raise OfferNotFound()
    if basket_id is not None:
        basket = (
            Basket.objects.filter(pk=basket_id, cycle=cycle, is_active=True)
            .select_related("cycle")
            .prefetch_related("items__offer__product")
            .first()
        )
        if basket is None:
            raise BasketNotFound()
        return _Target(basket=basket)
    offer = Offer.objects.filter(pk=offer_id, cycle=cycle).select_related("product").first()
    if offer is None:
        raise OfferNotFound()
    variant = None
    if variant_id is not None:
        variant = ProductVariant.objects.filter(
            pk=variant_id, product_id=offer.product_id, is_active=True
        ).first()
        if variant is None or offer.product.is_variable_weight:
            raise VariantNotFound()
    return _Target(offer=offer, variant=variant)


def _check_target(*, target: _Target, count: Decimal, customer: User) -> None:
    """Refuse a count the household could not order now: invalid, or beyond what is left."""
    if target.basket is not None:
        _quote_basket(basket=target.basket, count=count, customer=customer, item_id=None)
        _basket_check_components(basket=target.basket, count=count, stock=True)
        return
    assert target.offer is not None
    line = _quote_offer(offer=target.offer, variant=target.variant, count=count, item_id=None)
    _check_remaining(target.offer, line.quantity)


def cart_set_item(
    *,
    customer: User,
    cycle_id: int,
    count: Decimal,
    offer_id: int | None = None,
    variant_id: int | None = None,
    basket_id: int | None = None,
    now: datetime | None = None,
) -> CartItem | None:
    """Put ``count`` of an offer (or variant) or a basket in the cart; 0 removes it.

    The cart holds no stock, but a count beyond what is left now is refused at once so the
    household is not surprised at checkout.
    """
    now = now or timezone.now()
    cycle = _open_cycle(customer=customer, cycle_id=cycle_id, now=now)
    target = _cart_target(
        cycle=cycle, offer_id=offer_id, variant_id=variant_id, basket_id=basket_id
    )
    if not isinstance(count, Decimal) or not count.is_finite() or count < 0:
        raise InvalidQuantity()
    if count:
        _check_target(target=target, count=count, customer=customer)
    cart = cart_get(customer=customer, cycle=cycle)
    if not count:
        CartItem.objects.filter(**target.lookup(cart)).delete()
        return None
    item, _created = CartItem.objects.update_or_create(
        **target.lookup(cart), defaults={"count": count}
    )
    return item


def cart_add_item(
    *,
    customer: User,
    cycle_id: int,
    count: Decimal,
    offer_id: int | None = None,
    variant_id: int | None = None,
    basket_id: int | None = None,
    now: datetime | None = None,
) -> CartItem:
    """Add ``count`` of an offer (or variant) or a basket to what the cart already holds.

    The cart row is locked while its item is read, added to and written, so two quick
    clicks on "Ajouter" always add up (never one lost update), and the new total is held to
    the same rules as a count that is set: whole unless sold by weight, bounded, in stock.
    """
    now = now or timezone.now()
    cycle = _open_cycle(customer=customer, cycle_id=cycle_id, now=now)
    target = _cart_target(
        cycle=cycle, offer_id=offer_id, variant_id=variant_id, basket_id=basket_id
    )
    if not isinstance(count, Decimal) or not count.is_finite() or count <= 0:
        raise InvalidQuantity()
    _check_target(target=target, count=count, customer=customer)
    cart = cart_get(customer=customer, cycle=cycle)
    with locking_atomic():
        cart_lock(cart.pk)
        item = CartItem.objects.filter(**target.lookup(cart)).first()
        total = count if item is None else item.count + count
        _check_target(target=target, count=total, customer=customer)
        if item is None:
            return CartItem.objects.create(**target.lookup(cart), count=total)
        item.count = total
        item.save(update_fields=["count"])
    return item


def cart_remove_item(*, customer: User, item_id: int) -> bool:
    """Take an item out of the household's cart, whatever its count; idempotent.

    It works even for an item stored with a count refused now, and after the cycle closed,
    so a cart can always be tidied.
    """
    deleted, _per_model = CartItem.objects.filter(pk=item_id, cart__customer=customer).delete()
    return deleted > 0


def _check_remaining(offer: Offer, quantity: Decimal) -> None:
    remaining = offer.quantity_remaining
    if remaining is not None and quantity > remaining:
        raise OutOfStock()


# --- orders ---------------------------------------------------------------------------------


def _new_reference(cycle: OrderCycle) -> str:
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{cycle.delivery_date:%y%m%d}-{code}"


def _order_key(customer: User, key: str) -> str:
    return f"{customer.pk}:{key}"


def order_place(
    *,
    customer: User,
    cycle_id: int,
    relay_point_id: int,
    pickup_slot_id: int,
    payment_method: str,
    idempotency_key: str,
    payment_options: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> tuple[Order, PaymentStart | None]:
    """Turn the household's cart into an order: hold stock, book the slot, start payment.

    Replaying the same idempotency key returns the first order (and no second payment).
    ``payment_options`` go to the payment method as they are (e.g. mannes to use).
    """
    options = dict(payment_options or {})
    now = now or timezone.now()
    scoped_key = _order_key(customer, idempotency_key)
    existing = Order.objects.filter(idempotency_key=scoped_key).first()
    if existing is not None:
        return existing, None
    cycle = _open_cycle(customer=customer, cycle_id=cycle_id, now=now)
    method = payment_method_get(payment_method)
    relay = RelayPoint.objects.filter(
        pk=relay_point_id, territory_id=cycle.territory_id, is_active=True
    ).first()
    if relay is None:
        raise RelayPointNotFound()
    cart = Cart.objects.filter(customer=customer, cycle=cycle).select_related("customer").first()
    quote = cart_quote(cart=cart) if cart is not None else Quote()
    if not quote.lines:
        raise CartEmpty()
    if quote.total < cycle.minimum_order_amount:
        raise MinimumOrderNotReached(minimum=cycle.minimum_order_amount, total=quote.total)
    method.validate(customer=customer, cycle=cycle, quote=quote, options=options)
    ttl = timedelta(minutes=settings.MARCHE_ORDER_HOLD_MINUTES)
    try:
        with locking_atomic():
            # Every offer of the cart at once, in primary-key order, before any counter
            # moves (marche/orders/locking.py): carts {X, Y} and {Y, X} cannot deadlock.
            offers_lock(offer_ids=_quote_offer_ids(quote))
            _check_offer_totals(quote)
            order = Order.objects.create(
                reference=_new_reference(cycle),
                cycle=cycle,
                customer=customer,
                relay_point=relay,
                pickup_slot_id=pickup_slot_id,
                payment_method=method.code,
                idempotency_key=scoped_key,
                total=quote.total,
                is_final=not quote.has_estimates,
                expires_at=now + ttl,
            )
            pickup_slot_book(
                relay_point_id=relay.pk, slot_id=pickup_slot_id, on=cycle.delivery_date
            )
            for quoted in quote.lines:
                _order_line_create(order=order, quoted=quoted, now=now, ttl=ttl)
            CartItem.objects.filter(cart=cart).delete()
    except IntegrityError:
        # A concurrent replay of the same key committed first: its order is the answer.
        winner = Order.objects.filter(idempotency_key=scoped_key).first()
        if winner is None:
            raise
        return winner, None
    start = method.start(order=order, options=options)
    if start.confirmed:
        order = order_confirm(order_id=order.pk, now=now)
    return order, start


def _check_offer_totals(quote: Quote) -> None:
    """Each offer's quantity over all the quote's lines, within its maximum per order."""
    totals: dict[int, Decimal] = {}
    offers: dict[int, Offer] = {}
    parts = [(line.offer, line.quantity) for line in quote.lines if line.offer is not None]
    parts += [(c.offer, c.quantity) for line in quote.lines for c in line.components]
    for offer, quantity in parts:
        totals[offer.pk] = totals.get(offer.pk, Decimal(0)) + quantity
        offers[offer.pk] = offer
    for offer_id in sorted(totals):
        offer_order_total_check(offer=offers[offer_id], quantity=totals[offer_id])


def _quote_offer_ids(quote: Quote) -> list[int]:
    """Every offer a quote would hold stock of: its items and its baskets' components."""
    ids = [line.offer.pk for line in quote.lines if line.offer is not None]
    ids += [component.offer.pk for line in quote.lines for component in line.components]
    return ids


def _order_line_create(
    *, order: Order, quoted: QuoteLine, now: datetime, ttl: timedelta
) -> OrderLine:
    product = quoted.offer.product if quoted.offer is not None else None
    line = OrderLine.objects.create(
        order=order,
        kind=quoted.kind,
        offer=quoted.offer,
        basket=quoted.basket,
        variant=quoted.variant,
        producer_id=product.producer_id if product else None,
        labels=_labels(product, order.cycle.delivery_date) if product else [],
        origin=product.origin if product else "",
        name=quoted.name,
        unit=quoted.unit,
        count=quoted.count,
        quantity=quoted.quantity,
        unit_price=quoted.unit_price,
        vat_rate=quoted.vat_rate,
        is_solidarity_price=quoted.is_solidarity_price,
        price_per_kg=quoted.price_per_kg,
        estimated_weight_kg=quoted.estimated_weight_kg,
        total=quoted.total,
    )
    if quoted.offer is not None:
        line.hold = stock_hold(
            offer_id=quoted.offer.pk,
            quantity=quoted.quantity,
            key=f"order-line:{line.pk}",
            now=now,
            ttl=ttl,
        )
        line.save(update_fields=["hold"])
    for component in quoted.components:
        product = component.offer.product
        child = OrderLine.objects.create(
            order=order,
            parent=line,
            kind=LineKind.COMPONENT,
            offer=component.offer,
            producer_id=product.producer_id,
            labels=_labels(product, order.cycle.delivery_date),
            origin=product.origin,
            name=product.name,
            unit=product.unit,
            count=component.quantity,
            quantity=component.quantity,
            unit_price=Decimal("0"),
            vat_rate=product.vat_rate,
            total=Decimal("0"),
        )
        child.hold = stock_hold(
            offer_id=component.offer.pk,
            quantity=component.quantity,
            key=f"order-line:{child.pk}",
            now=now,
            ttl=ttl,
        )
        child.save(update_fields=["hold"])
    return line


def _labels(product: Product, on: date) -> list[str]:
    """The product's labels valid on the delivery day, highest EGalim rank first."""
    return [label.value for label in product_labels_valid_on(product=product, on=on)]


@locking_atomic()
def order_confirm(*, order_id: int, now: datetime | None = None) -> Order:
    """Confirm a paid (or pay-at-pickup) order: its held stock becomes sold. Idempotent.

    This is the single fulfil function: every payment method calls it, as often as it
    likes. A cancelled or expired order is refused: its stock is already back on sale.
    """
    now = now or timezone.now()
    order = order_lock(order_id)
    if order.status in {OrderStatus.CONFIRMED, OrderStatus.PACKED, OrderStatus.COLLECTED}:
        return order
    if order.status != OrderStatus.PENDING:
        raise OrderNotPending()
    for line in order_stock_lock(order):
        assert line.hold_id is not None
        # The order row is locked and still pending, so nothing released its holds.
        stock_confirm(hold_id=line.hold_id, now=now, allow_late=True)
    order.status = OrderStatus.CONFIRMED
    order.confirmed_at = now
    order.save(update_fields=["status", "confirmed_at", "updated_at"])
    method = payment_method_find(order.payment_method)
    if method is not None:
        method.on_confirm(order=order)
    _notify(order.pk, "confirmed")
    return order


def _give_back(order: Order) -> None:
    for line in order_stock_lock(order):
        assert line.hold_id is not None
        stock_return(hold_id=line.hold_id)
    if not order.slot_released:
        pickup_slot_release(slot_id=order.pickup_slot_id)
        order.slot_released = True


def order_cancel(*, order_id: int, by: User, now: datetime | None = None) -> Order:
    """Cancel an order before the cycle's cutoff: stock and pickup room go back. Idempotent."""
    now = now or timezone.now()
    with locking_atomic():
        order = order_lock(order_id)
        if order.customer_id != by.pk and not by.is_staff:
            raise OrderNotFound()
        if order.status == OrderStatus.CANCELLED:
            return order
        if order.status not in {OrderStatus.PENDING, OrderStatus.CONFIRMED}:
            raise OrderNotCancellable()
        if now >= order.cycle.closes_at:
            raise CancellationTooLate()
        _give_back(order)
        order.status = OrderStatus.CANCELLED
        order.cancelled_at = now
        order.save(update_fields=["status", "cancelled_at", "slot_released", "updated_at"])
        _notify(order.pk, "cancelled")
    _payment_cancel(order)
    return order


def order_expire(*, order_id: int, now: datetime | None = None) -> Order:
    """Give back the stock and room of an order whose payment never came. Idempotent."""
    return _release_unpaid(order_id=order_id, now=now or timezone.now(), force=False)


def order_payment_failed(*, order_id: int, now: datetime | None = None) -> Order:
    """The payment failed or its page expired: give the stock and room back now. Idempotent.

    A confirmed order is left as it is (a late "expired" after "completed" changes nothing).
    """
    return _release_unpaid(order_id=order_id, now=now or timezone.now(), force=True)


def _release_unpaid(*, order_id: int, now: datetime, force: bool) -> Order:
    with locking_atomic():
        order = order_lock(order_id)
        if order.status != OrderStatus.PENDING or (not force and order.expires_at > now):
            return order
        for line in order_stock_lock(order):
            assert line.hold_id is not None
            stock_release(hold_id=line.hold_id)
        if not order.slot_released:
            pickup_slot_release(slot_id=order.pickup_slot_id)
            order.slot_released = True
        order.status = OrderStatus.EXPIRED
        order.save(update_fields=["status", "slot_released", "updated_at"])
    _payment_cancel(order)
    return order


def _payment_cancel(order: Order) -> None:
    method = payment_method_find(order.payment_method)
    if method is not None:
        method.cancel(order=order)


def orders_expire_pending(*, now: datetime | None = None) -> int:
    """Expire every order still unpaid past its deadline; returns how many expired."""
    now = now or timezone.now()
    due = Order.objects.filter(status=OrderStatus.PENDING, expires_at__lte=now)
    count = 0
    for order_id in due.order_by("pk").values_list("pk", flat=True):
        if order_expire(order_id=order_id, now=now).status == OrderStatus.EXPIRED:
            count += 1
    return count


def _notify(order_id: int, event: str) -> None:
    """Queue the e-mail in the current transaction (the outbox survives a broker outage)."""
    order_notification_enqueue(order_id=order_id, event=event)
