"""Refusals of the local-currency ledger, each with a stable code and a French message.

A refused command changes nothing: no balance, no entry, no request moves.
"""

from django.utils.translation import gettext_lazy as _

from marche.errors import DomainError, NotFound


class LocalCurrencyDisabled(DomainError):
    code = "local_currency_disabled"
    status = 409
    default_message = _("La monnaie locale n'est pas active sur ce territoire.")


class InvalidAmount(DomainError):
    code = "invalid_amount"
    default_message = _("Le montant doit être un nombre strictement positif, au centime près.")


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"
    status = 409
    default_message = _("Ces deux comptes ne sont pas dans la même monnaie.")


class InsufficientBalance(DomainError):
    code = "insufficient_balance"
    status = 409
    default_message = _("Solde insuffisant : ce compte n'a pas assez de mannes disponibles.")


class TransferNotAllowed(DomainError):
    code = "transfer_not_allowed"
    status = 403
    default_message = _("Ce type de virement n'est pas permis entre ces deux comptes.")


class BelowMinimum(DomainError):
    code = "below_minimum"
    default_message = _("Le montant est inférieur au minimum permis pour ce type de virement.")


class DailyMaximumExceeded(DomainError):
    code = "daily_maximum_exceeded"
    status = 409
    default_message = _("Le plafond journalier de ce type de virement serait dépassé.")


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    status = 409
    default_message = _("Cette clé d'idempotence a déjà servi pour une autre demande.")


class NotCoordinator(DomainError):
    code = "not_coordinator"
    status = 403
    default_message = _("Seule la coordination du territoire peut faire cette opération.")


class RequestNotPending(DomainError):
    code = "request_not_pending"
    status = 409
    default_message = _("Cette demande a déjà été traitée.")


class RequestNotFound(NotFound):
    code = "manne_request_not_found"
    default_message = _("Demande de mannes introuvable.")


class ReasonRequired(DomainError):
    code = "reason_required"
    default_message = _("Indiquez un motif.")


class TransactionNotFound(NotFound):
    code = "manne_transaction_not_found"
    default_message = _("Opération introuvable.")


class AlreadyReversed(DomainError):
    code = "already_reversed"
    status = 409
    default_message = _("Cette opération a déjà été annulée par une écriture inverse.")


class NotReversible(DomainError):
    code = "not_reversible"
    status = 409
    default_message = _("Cette opération ne peut pas être annulée par une écriture inverse.")


class HoldNotFound(NotFound):
    code = "manne_hold_not_found"
    default_message = _("Réservation de mannes introuvable.")


class HoldNotLive(DomainError):
    code = "manne_hold_not_live"
    status = 409
    default_message = _("Cette réservation de mannes a expiré, a été libérée ou déjà encaissée.")


class ReconversionNotAllowed(DomainError):
    code = "reconversion_not_allowed"
    status = 403
    default_message = _("La reconversion en euros n'est pas permise sur ce territoire.")


class ImmutableLedger(DomainError):
    """A programming error: ledger rows are written once and never changed or deleted."""

    code = "immutable_ledger"
    status = 500
    default_message = _("Les écritures du grand livre ne peuvent être ni modifiées ni effacées.")


class NotAccountHolder(DomainError):
    code = "not_account_holder"
    status = 403
    default_message = _("Vous ne pouvez pas débiter ce compte : il n'est pas à vous.")


class HouseholdWithoutTerritory(DomainError):
    code = "household_without_territory"
    default_message = _("Ce foyer n'est rattaché à aucun territoire.")


class RewardActivityNotFound(DomainError):
    code = "reward_activity_not_found"
    default_message = _("Choisissez une activité de la liste.")


class GivenOnInvalid(DomainError):
    code = "given_on_invalid"
    default_message = _(
        "La date doit être celle d'un jour passé (ou d'aujourd'hui), dans l'année écoulée."
    )
