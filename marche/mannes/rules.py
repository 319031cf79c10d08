"""The rules of each kind of transfer: who may send to whom, minimum, daily maximum, fee,
coordinator approval.

A territory may override any kind with a :class:`~marche.mannes.models.TransferRule` row
(editable in the admin); the defaults below apply otherwise. Reconversion is further bound
by the territory's own settings: allowed or not, and its fee (``Territory.local_currency_*``).

The daily maximum counts, per calendar day in the territory's time zone, what one member
account sent (or, for transfers from the issuer, received) in transfers of that kind.
A fee is a percentage of the amount, rounded to the cent: the sender is debited the amount,
the recipient credited the amount less the fee, and the fee goes to the issuer account.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marche.mannes.models import AccountKind, TransferKind, TransferRule
from marche.territories.models import Territory

ISSUER = AccountKind.ISSUER.value
HOUSEHOLD = AccountKind.HOUSEHOLD.value
PRODUCER = AccountKind.PRODUCER.value
MERCHANT = AccountKind.MERCHANT.value
ASSOCIATION = AccountKind.ASSOCIATION.value


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    sender_kinds: frozenset[str]
    recipient_kinds: frozenset[str]
    minimum: Decimal = Decimal("0.01")
    daily_maximum: Decimal | None = None
    fee_percent: Decimal = Decimal("0")
    requires_approval: bool = False
    is_enabled: bool = True


DEFAULT_RULES: dict[str, Rule] = {
    rule.kind: rule
    for rule in (
        # Time given (volunteering, a lent garden): declared, then validated by a coordinator.
        Rule(
            kind=TransferKind.REWARD.value,
            sender_kinds=frozenset({ISSUER, ASSOCIATION}),
            recipient_kinds=frozenset({HOUSEHOLD}),
            minimum=Decimal("1.00"),
            daily_maximum=Decimal("50.00"),
            requires_approval=True,
        ),
        Rule(
            kind=TransferKind.ORDER_PAYMENT.value,
            sender_kinds=frozenset({HOUSEHOLD, ASSOCIATION, MERCHANT}),
            recipient_kinds=frozenset({PRODUCER, MERCHANT}),
        ),
        Rule(
            kind=TransferKind.REFUND.value,
            sender_kinds=frozenset({PRODUCER, MERCHANT}),
            recipient_kinds=frozenset({HOUSEHOLD, ASSOCIATION, MERCHANT}),
        ),
        Rule(
            kind=TransferKind.SERVICE_EXCHANGE.value,
            sender_kinds=frozenset({HOUSEHOLD}),
            recipient_kinds=frozenset({HOUSEHOLD, ASSOCIATION}),
            minimum=Decimal("1.00"),
            daily_maximum=Decimal("100.00"),
        ),
        # Only through manne_reconversion_batch; allowed and charged per territory settings.
        Rule(
            kind=TransferKind.RECONVERSION.value,
            sender_kinds=frozenset({PRODUCER}),
            recipient_kinds=frozenset({ISSUER}),
            minimum=Decimal("1.00"),
        ),
    )
}


def transfer_rule(*, territory: Territory, kind: str) -> Rule | None:
    """The rule of a kind of transfer in a territory (its override, else the default)."""
    row = TransferRule.objects.filter(territory=territory, kind=kind).first()
    if row is not None:
        return Rule(
            kind=kind,
            sender_kinds=frozenset(row.sender_kinds),
            recipient_kinds=frozenset(row.recipient_kinds),
            minimum=row.minimum,
            daily_maximum=row.daily_maximum,
            fee_percent=row.fee_percent,
            requires_approval=row.requires_approval,
            is_enabled=row.is_enabled,
        )
    return DEFAULT_RULES.get(kind)
