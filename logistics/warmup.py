"""A routing worker compiles the search kernel before it takes its first task.

The ruin-and-recreate kernel (``logistics.vrp.sisr``) is compiled by Numba at its first
use: 8 to 16 s on an idle 2-core machine with an empty cache (a new machine, deploy or
container), over a minute on a busy one, then 0.2 to 0.5 s to load from the cache. ``solve``
does it with its clock stopped, so the plan does not suffer, but the first cycle's plan
would wait for it. A worker that consumes the ``routing`` queue
(``celery -A marche worker -Q routing``) therefore does it when it starts: on
``celeryd_after_setup``, in the main process, after ``-Q`` is applied and before the pool's
processes fork (they inherit the compiled kernel) and before any task is received.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from celery.signals import celeryd_after_setup

logger = logging.getLogger(__name__)

ROUTING_QUEUE = "routing"


def consumes_routing(queue_names: Iterable[str]) -> bool:
    """Whether a worker consuming these queues takes the plan computations."""
    return ROUTING_QUEUE in set(queue_names)


def warm_up_kernel() -> float:
    """Compile (or load) the routing kernel in this process; returns the seconds it took."""
    # imported here: the web processes that connect this module never load Numba
    from logistics.vrp import sisr

    return sisr.warm_up()


def warm_up_routing_worker(sender: str, instance: Any, **kwargs: Any) -> None:
    """Warm the kernel up when this worker consumes the routing queue."""
    queues = instance.app.amqp.queues.consume_from
    if not consumes_routing(queues):
        return
    seconds = warm_up_kernel()
    logger.info("routing kernel ready in %.1f s on %s", seconds, sender)


celeryd_after_setup.connect(warm_up_routing_worker, weak=False)
