"""Farmers publish and edit their offers: price and quantity of a product in an open cycle.

A farmer may only touch the products of a producer they are a member of. Lowering an
offer's quantity races with buyers holding stock, so the new quantity is written with one
conditional UPDATE whose WHERE clause requires held + sold <= new quantity; PostgreSQL
re-evaluates it on the latest row version after a concurrent hold commits, so a hold can
never slip in between the check and the write (the CHECK constraint ``offer_never_oversold``
backs it up).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marche.accounts.models import User
from marche.catalog.models import Product
from marche.cycles.errors import CycleClosed, InvalidQuantity, OfferNotFound
from marche.cycles.models import Offer, OrderCycle
from marche.errors import DomainError, NotFound
from marche.producers.models import ProducerMembership

PRICE_MAX = Decimal("999999.99")
QUANTITY_MAX = Decimal("9999999.999")


class NotYourProducer(DomainError):
    code = "not_your_producer"
    status = 403
    default_message = _("Ce produit appartient à un producteur dont vous n'êtes pas membre.")


class ProductNotFound(NotFound):
    code = "product_not_found"
    default_message = _("Ce produit n'existe pas ou n'est plus proposé.")


class CycleNotFound(NotFound):
    code = "cycle_not_found"
    default_message = _("Ce cycle de commande n'existe pas sur votre territoire.")


class InvalidPrice(DomainError):
    code = "invalid_price"
    default_message = _("Le prix doit être strictement positif, au centime près.")


class OfferAlreadyPublished(DomainError):
    code = "offer_exists"
    status = 409
    default_message = _("Ce produit est déjà proposé dans ce cycle : modifiez l'offre existante.")


class QuantityBelowCommitted(DomainError):
    code = "quantity_below_committed"
    status = 409
    default_message = _("La quantité ne peut pas descendre sous ce qui est déjà réservé ou vendu.")


def _check_price(price: Decimal) -> None:
    if (
        not isinstance(price, Decimal)
        or not price.is_finite()
        or price <= 0
        or price > PRICE_MAX
        or price != price.quantize(Decimal("0.01"))
    ):
        raise InvalidPrice()


def _check_quantity(quantity: Decimal) -> None:
    if (
        not isinstance(quantity, Decimal)
        or not quantity.is_finite()
        or quantity <= 0
        or quantity > QUANTITY_MAX
    ):
        raise InvalidQuantity()


def _check_member(*, user: User, producer_id: int) -> None:
    if not ProducerMembership.objects.filter(user=user, producer_id=producer_id).exists():
        raise NotYourProducer()


def offer_publish(
    *,
    user: User,
    product_id: int,
    cycle_id: int,
    unit_price: Decimal,
    quantity_available: Decimal | None,
    now: datetime | None = None,
) -> Offer:
    """Offer one of the farmer's products in an open cycle (``None`` quantity: on demand)."""
    now = now or timezone.now()
    _check_price(unit_price)
    if quantity_available is not None:
        _check_quantity(quantity_available)
    product = (
        Product.objects.select_related("producer")
        .filter(pk=product_id, is_active=True, producer__is_active=True)
        .first()
    )
    if product is None:
        raise ProductNotFound()
    _check_member(user=user, producer_id=product.producer_id)
    cycle = OrderCycle.objects.filter(
        pk=cycle_id, territory_id=product.producer.territory_id
    ).first()
    if cycle is None:
        raise CycleNotFound()
    if not cycle.is_open(now):
        raise CycleClosed()
    try:
        with transaction.atomic():
            return Offer.objects.create(
                cycle=cycle,
                product=product,
                unit_price=unit_price,
                quantity_available=quantity_available,
            )
    except IntegrityError:
        existing = Offer.objects.filter(cycle=cycle, product=product).first()
        if existing is None:
            raise
        raise OfferAlreadyPublished(offer_id=existing.pk) from None


def offer_update(
    *,
    user: User,
    offer_id: int,
    unit_price: Decimal | None = None,
    quantity_available: Decimal | None = None,
    on_demand: bool = False,
    now: datetime | None = None,
) -> Offer:
    """Change an offer's price and/or quantity (``on_demand``: no limit) while its cycle is open.

    The quantity may not go below what is already held or sold; the conditional UPDATE makes
    that check and the write one step, so a concurrent hold cannot oversell the offer.
    """
    now = now or timezone.now()
    if unit_price is not None:
        _check_price(unit_price)
    if quantity_available is not None:
        if on_demand:
            raise InvalidQuantity()
        _check_quantity(quantity_available)
    offer = Offer.objects.select_related("cycle", "product").filter(pk=offer_id).first()
    if offer is None:
        raise OfferNotFound()
    _check_member(user=user, producer_id=offer.product.producer_id)
    if not offer.cycle.is_open(now):
        raise CycleClosed()
    changes: dict[str, object] = {}
    if unit_price is not None:
        changes["unit_price"] = unit_price
    if on_demand:
        changes["quantity_available"] = None
    elif quantity_available is not None:
        changes["quantity_available"] = quantity_available
    if not changes:
        return offer
    rows = Offer.objects.filter(pk=offer.pk)
    if quantity_available is not None:
        rows = rows.alias(committed=F("quantity_held") + F("quantity_sold")).filter(
            committed__lte=quantity_available
        )
    if rows.update(**changes, updated_at=now) != 1:
        offer.refresh_from_db(fields=["quantity_held", "quantity_sold"])
        committed = offer.quantity_held + offer.quantity_sold
        raise QuantityBelowCommitted(
            _(
                "La quantité ne peut pas descendre sous %(committed)s : "
                "c'est ce qui est déjà réservé ou vendu."
            )
            % {"committed": f"{committed.normalize():f}"},
            committed=str(committed),
        )
    offer.refresh_from_db()
    return offer
