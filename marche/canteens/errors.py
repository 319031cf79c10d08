"""Refusals of the canteen services: a stable code for programs, a French message for people.

A refused command changes nothing: every service checks before it writes, and writes in one
transaction, so a refusal raised half-way rolls back what came before it.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from marche.errors import DomainError, NotFound


class NotCanteenManager(DomainError):
    code = "not_canteen_manager"
    status = 403
    default_message = _("Vous ne gérez pas cette cantine : vous ne pouvez pas commander pour elle.")


class CanteenInactive(DomainError):
    code = "canteen_inactive"
    status = 409
    default_message = _("Cette cantine n'est plus active : elle ne peut plus commander.")


class CanteenNotFound(NotFound):
    code = "canteen_not_found"
    default_message = _("Cette cantine n'existe pas.")


class CanteenOrderNotFound(NotFound):
    code = "canteen_order_not_found"
    default_message = _("Cette commande de cantine n'existe pas.")


class StandingOrderNotFound(NotFound):
    code = "standing_order_not_found"
    default_message = _("Cette commande régulière n'existe pas.")


class CanteenLineNotFound(NotFound):
    code = "canteen_line_not_found"
    default_message = _("Cette ligne de commande de cantine n'existe pas.")


class CycleClosed(DomainError):
    code = "cycle_closed"
    status = 409
    default_message = _(
        "Ce cycle de commande n'est pas ouvert : la commande ne peut plus être passée ni modifiée."
    )


class NotADeliveryDay(DomainError):
    code = "not_a_delivery_day"
    status = 409
    default_message = _("La cantine n'a pas de créneau de livraison le jour de livraison du cycle.")


class SchoolHoliday(DomainError):
    code = "school_holiday"
    status = 409
    default_message = _("Le jour de livraison tombe pendant les vacances scolaires.")


class WeekSkipped(DomainError):
    code = "week_skipped"
    status = 409
    default_message = _("Cette semaine est sautée : la commande régulière n'y est pas livrée.")


class WeekHasOrder(DomainError):
    code = "week_has_order"
    status = 409
    default_message = _(
        "La commande %(reference)s est déjà passée pour cette semaine (livraison le %(day)s) : "
        "annulez-la d'abord, tant que les commandes sont ouvertes, puis sautez la semaine."
    )


class NotSoldToCanteens(DomainError):
    code = "not_sold_to_canteens"
    status = 409
    default_message = _("Ce produit n'est pas vendu aux cantines dans ce cycle.")


class BelowWholesaleMinimum(DomainError):
    code = "below_wholesale_minimum"
    default_message = _("Cette quantité est sous le minimum du producteur pour une cantine.")


class InsufficientStock(DomainError):
    code = "insufficient_stock"
    status = 409
    default_message = _("Stock insuffisant pour cette quantité.")


class ProducerInactive(DomainError):
    code = "producer_inactive"
    status = 409
    default_message = _("Ce producteur ou ce produit n'est plus en activité.")


class NotProducerMember(DomainError):
    code = "not_producer_member"
    status = 403
    default_message = _("Vous n'êtes pas membre du producteur de cette ligne.")


class AnswerAboveOrdered(DomainError):
    code = "answer_above_ordered"
    default_message = _("Vous ne pouvez pas confirmer plus que la quantité commandée.")


class AnswerTooLate(DomainError):
    code = "answer_too_late"
    status = 409
    default_message = _(
        "Le cycle est clos : la ligne est confirmée telle que commandée, elle ne peut plus changer."
    )


class OrderEmpty(DomainError):
    code = "canteen_order_empty"
    default_message = _("Indiquez au moins une quantité.")


class OrderCancelled(DomainError):
    code = "canteen_order_cancelled"
    status = 409
    default_message = _("Cette commande est annulée.")


class OrderNotCancellable(DomainError):
    code = "canteen_order_not_cancellable"
    status = 409
    default_message = _("Cette commande est déjà livrée : elle ne peut plus être annulée.")


class InvalidDates(DomainError):
    code = "invalid_dates"
    default_message = _("La date de fin doit venir après la date de début.")
