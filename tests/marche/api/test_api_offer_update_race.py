"""A farmer lowers an offer's quantity while buyers hold it: never oversold, never a 500.

Without the conditional UPDATE the farmer's write could land after a hold and break the
``offer_never_oversold`` CHECK (an IntegrityError, a server error); with it, the farmer gets
either the new quantity or a clear ``quantity_below_committed``.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections

from marche.cycles.errors import OutOfStock
from marche.cycles.models import Offer
from marche.cycles.offers import QuantityBelowCommitted, offer_update
from marche.cycles.services import stock_hold
from marche.producers.models import ProducerMembership
from tests.factories import OfferFactory, UserFactory

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

BUYERS = 8
ROUNDS = 5


def race(offer: Offer, farmer) -> dict[str, int]:
    barrier = threading.Barrier(BUYERS + 1)
    outcome: dict[str, int] = {"held": 0, "refused": 0, "updated": 0, "below": 0, "error": 0}
    lock = threading.Lock()

    def count(result: str) -> None:
        with lock:
            outcome[result] += 1

    def buyer(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            stock_hold(offer_id=offer.pk, quantity=Decimal("1"), key=f"{offer.pk}-{index}")
            count("held")
        except OutOfStock:
            count("refused")
        except Exception:
            count("error")
        finally:
            connections.close_all()

    def farmer_lowers() -> None:
        try:
            barrier.wait(timeout=30)
            offer_update(user=farmer, offer_id=offer.pk, quantity_available=Decimal("5"))
            count("updated")
        except QuantityBelowCommitted:
            count("below")
        except Exception:
            count("error")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(BUYERS)]
    threads.append(threading.Thread(target=farmer_lowers))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_lowering_the_quantity_during_holds_never_oversells(round_: int) -> None:
    offer = OfferFactory(quantity_available=Decimal("10"))
    farmer = UserFactory(role="farmer")
    ProducerMembership.objects.create(producer=offer.product.producer, user=farmer)
    outcome = race(offer, farmer)
    offer.refresh_from_db()
    assert outcome["error"] == 0
    assert outcome["held"] + outcome["refused"] == BUYERS
    assert offer.quantity_held == outcome["held"]
    if outcome["updated"]:
        assert offer.quantity_available == Decimal("5")
        assert outcome["held"] <= 5
    else:
        assert outcome["below"] == 1
        assert offer.quantity_available == Decimal("10")
        assert outcome["held"] == BUYERS
