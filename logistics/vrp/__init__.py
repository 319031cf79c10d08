"""The routing core: plan delivery rounds from plain dataclasses.

The public API, to import from ``logistics.vrp`` (the modules behind it may change):

- ``solve(problem, provider, options, progress)`` plans the routes; ``warm_up()``
  compiles the ruin-and-recreate kernel ahead of the first ``solve`` of a process;
- the model: ``Problem`` and its parts, ``SolveOptions``, ``Solution`` and its parts;
- the travel providers: ``GreatCircleProvider``, ``MatrixProvider``, ``OsrmHttpProvider``,
  ``OsrmBindingsProvider``, and the ``TravelProvider`` protocol they follow;
- ``check_solution``, the independent checker, and its ``CheckReport``;
- the errors: ``VrpError`` and its ``InvalidProblem`` and ``ProviderError``.

See logistics/README.md.
"""

from logistics.vrp.checker import CheckReport, Violation, check_solution
from logistics.vrp.errors import InvalidProblem, ProviderError, VrpError
from logistics.vrp.model import (
    CARGO_BIKE,
    VAN,
    Depot,
    PickupDelivery,
    Problem,
    Route,
    SearchStats,
    Solution,
    SolveOptions,
    SpeedProfile,
    Stop,
    TimeWindow,
    Unserved,
    Vehicle,
    Visit,
)
from logistics.vrp.providers import (
    GreatCircleProvider,
    MatrixProvider,
    OsrmBindingsProvider,
    OsrmHttpProvider,
    Point,
    TravelMatrix,
    TravelProvider,
)
from logistics.vrp.sisr import warm_up
from logistics.vrp.solver import solve

__all__ = [
    "CARGO_BIKE",
    "VAN",
    "CheckReport",
    "Depot",
    "GreatCircleProvider",
    "InvalidProblem",
    "MatrixProvider",
    "OsrmBindingsProvider",
    "OsrmHttpProvider",
    "PickupDelivery",
    "Point",
    "Problem",
    "ProviderError",
    "Route",
    "SearchStats",
    "Solution",
    "SolveOptions",
    "SpeedProfile",
    "Stop",
    "TimeWindow",
    "TravelMatrix",
    "TravelProvider",
    "Unserved",
    "Vehicle",
    "Violation",
    "Visit",
    "VrpError",
    "check_solution",
    "solve",
    "warm_up",
]
