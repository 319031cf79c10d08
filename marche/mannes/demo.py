"""The manne part of a demo territory: the demo household has earned 20 mannes. Idempotent.

The mannes are earned, never bought: a reward for a lent garden, declared by the household
and validated by the coordination, through the real services (fixed idempotency keys make
a rerun return the first request and posting).
"""

from __future__ import annotations

from decimal import Decimal

from marche.accounts.models import Role, User
from marche.demo.spec import DemoSpec
from marche.mannes.models import RewardActivity
from marche.mannes.services import (
    manne_account_for_producer,
    manne_issuer_account,
    manne_reward_declare,
    manne_reward_validate,
)
from marche.territories.models import Territory

DEMO_HOUSEHOLD = "foyer@demo.test"
DEMO_REWARD = Decimal("20.00")
# What the demo territory rewards, and the mannes an hour earns (8 h of garden = 20).
DEMO_ACTIVITIES = (
    ("Jardin prêté", "2.50"),
    ("Bénévolat au marché", "2.00"),
    ("Coup de main à une association", "2.00"),
)


def demo_load_mannes(*, spec: DemoSpec, territory: Territory) -> None:
    """Open the demo manne accounts and reward the demo household for its lent garden."""
    if not territory.local_currency_enabled:
        return
    manne_issuer_account(territory=territory)
    for position, (name, rate) in enumerate(DEMO_ACTIVITIES):
        RewardActivity.objects.get_or_create(
            territory=territory,
            name=name,
            defaults={"mannes_per_hour": Decimal(rate), "position": position},
        )
    for producer in territory.producers.filter(accepts_local_currency=True).order_by("pk"):
        manne_account_for_producer(producer=producer)
    household = User.objects.filter(email=DEMO_HOUSEHOLD).first()
    coordinator = (
        User.objects.filter(role=Role.COORDINATOR, territory=territory).order_by("pk").first()
        or User.objects.filter(role=Role.COORDINATOR).order_by("pk").first()
    )
    if household is None or coordinator is None:
        return
    prefix = f"demo:{territory.slug}:mannes"
    request = manne_reward_declare(
        household=household,
        territory=territory,
        amount=DEMO_REWARD,
        hours=Decimal("8"),
        reason="Jardin prêté",
        key=f"{prefix}:reward:garden",
    )
    manne_reward_validate(
        request_id=request.pk, coordinator=coordinator, key=f"{prefix}:reward:garden:validate"
    )
