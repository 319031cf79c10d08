"""Coordinators' edits of a draft delivery plan: moves checked by the engine's checker,
locked routes, unserved decisions, publishing; each write checks the plan's version.

Every service here follows the same order: the caller's right to edit the plan (read
without a lock), then, in one transaction, the plan row locked with ``select_for_update``
and its ``version`` compared under that lock with the one the coordinator's page was read
at. Two coordinators submitting at once are thus serialised: the second finds the version
the first one wrote and is refused with ``plan_conflict``, nothing changed. Each write
increments the version.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from logistics.editing_errors import (
    InvalidDecision,
    InvalidPosition,
    MoveRefused,
    NotAllowed,
    PlanAlreadyPublished,
    PlanNotComputed,
    PlanNotFound,
    PlanSolving,
    PlanVersionConflict,
    RouteLocked,
    RouteNotFound,
    StopNotFound,
    StopNotMovable,
    UnservedUndecided,
    UnservedUnknown,
    VehicleUnavailable,
)
from logistics.errors import MissingCoordinates, RoutingFailed
from logistics.models import (
    DeliveryPlan,
    Depot,
    PlanRoute,
    PlanStatus,
    PlanStop,
    SolveState,
    StopKind,
)
from logistics.selectors import (
    PlanningProblem,
    cycle_consolidate,
    load_on_board,
    moment,
    plan_problem_build,
)
from logistics.stability import place_names, place_of
from logistics.vrp import model as vrp
from logistics.vrp.checker import CheckReport, check_routes
from logistics.vrp.errors import VrpError
from logistics.vrp.timing import RouteTimer, RouteTiming
from marche.core.locking import locking_atomic
from marche.core.mail import email_enqueue, render_text
from marche.core.numbers import InvalidId, parse_id
from marche.orders.models import Order, OrderStatus
from marche.orders.selectors import user_can_see_territory, user_is_coordinator
from marche.territories.selectors import territory_from_email

KM = Decimal("0.001")
MOVABLE = (StopKind.DELIVERY, StopKind.PICKUP)
# Positions are renumbered in two steps (out of the way, then in place) so that the unique
# (route, position) never sees two rows on one position, whatever the order of the updates.
ASIDE = 10000


def decision_labels() -> dict[str, str]:
    """The decisions a coordinator takes on an unserved destination, with their French label."""
    return {
        "other_vehicle": _("un autre véhicule"),
        "other_day": _("un autre jour"),
        "hub_pickup": _("retrait au dépôt"),
    }


# --- permission, lock, version ---------------------------------------------------------------


def _allowed(*, plan_id: Any, by: Any) -> DeliveryPlan:
    """The plan, if ``by`` coordinates its territory (or is a superuser, or the system).

    The rule of the preparation pages: a coordinator bound to a territory edits its plans
    only, an unbound one those of every territory.
    """
    pk = _id(plan_id, PlanNotFound)
    plan = DeliveryPlan.objects.select_related("cycle__territory").filter(pk=pk).first()
    if plan is None:
        raise PlanNotFound()
    if by is None:
        return plan
    if (
        getattr(by, "is_authenticated", False)
        and by.is_active
        and user_is_coordinator(user=by)
        and user_can_see_territory(user=by, territory_id=plan.cycle.territory_id)
    ):
        return plan
    raise NotAllowed()


def _locked(
    plan: DeliveryPlan, version: Any, *, draft: bool = True, solving: bool = False
) -> DeliveryPlan:
    """The plan row locked until the end of the transaction, checked under the lock."""
    locked = (
        DeliveryPlan.objects.select_for_update(of=("self",))
        .select_related("cycle__territory")
        .get(pk=plan.pk)
    )
    if draft and locked.status == PlanStatus.PUBLISHED:
        raise PlanAlreadyPublished()
    try:
        seen = int(version)
    except (TypeError, ValueError):
        raise PlanVersionConflict() from None
    if seen != locked.version:
        raise PlanVersionConflict()
    if not solving and locked.solve_state in (SolveState.QUEUED, SolveState.RUNNING):
        raise PlanSolving()
    return locked


def _bump(plan: DeliveryPlan, **fields: Any) -> DeliveryPlan:
    DeliveryPlan.objects.filter(pk=plan.pk).update(version=F("version") + 1, **fields)
    plan.refresh_from_db()
    return plan


# --- moving a stop ---------------------------------------------------------------------------


def plan_stop_move(
    *, plan_id: int, stop_id: int, route_id: int, position: int, version: int, by: Any
) -> Any:
    """Move a stop to another route or position; refused with the checker's reason.

    The two routes concerned are rebuilt as an engine problem from the stored stops (their
    manifests, windows and coordinates: what the driver will carry) and the vehicles of the
    cycle's problem (capacities, the shift of the day, range, cold box), then checked by the
    engine's independent checker. A refusal names the rule and changes nothing; otherwise
    both routes are re-timed (ETA, load after each stop, km, duration, CO2, loading order)
    in the same transaction as the version check.
    """
    plan = _allowed(plan_id=plan_id, by=by)
    stop_pk = _id(stop_id, StopNotFound)
    route_pk = _id(route_id, RouteNotFound)
    index = _int(position, InvalidPosition)
    with locking_atomic():
        plan = _locked(plan, version)
        routes = {r.pk: r for r in plan.routes.select_related("vehicle", "vehicle__depot")}
        target = routes.get(route_pk)
        if target is None:
            raise RouteNotFound()
        stop = PlanStop.objects.filter(pk=stop_pk, route__plan=plan).first()
        if stop is None:
            raise StopNotFound()
        if stop.kind not in MOVABLE:
            raise StopNotMovable()
        source = routes[stop.route_id]
        if source.locked or target.locked:
            raise RouteLocked()
        affected = [source] if source.pk == target.pk else [source, target]
        rows = _route_stops(affected)
        before = {route.pk: _visits(rows[route.pk]) for route in affected}
        after = {pk: [s for s in visits if s.pk != stop.pk] for pk, visits in before.items()}
        limit = len(after[target.pk]) + 1
        if not 1 <= index <= limit:
            raise InvalidPosition(
                _("La position doit être comprise entre 1 et %(limit)d.") % {"limit": limit}
            )
        moving = next(s for s in before[source.pk] if s.pk == stop.pk)
        after[target.pk].insert(index - 1, moving)
        if [s.pk for s in after[source.pk]] == [s.pk for s in before[source.pk]] and (
            source.pk == target.pk
        ):
            return plan  # the same place: nothing to do
        try:
            built = plan_problem_build(consolidation=cycle_consolidate(cycle=plan.cycle))
            engine = _engine(built, affected, before, rows)
            orders = [(route, after[route.pk]) for route in affected]
            report = check_routes(
                engine.problem,
                [(route.vehicle.slug, 0, engine.expand(visits)) for route, visits in orders],
                built.provider,
            )
            timer = RouteTimer(engine.problem, built.provider)
            timings = {
                route.pk: timer.time(route.vehicle.slug, engine.expand(visits))
                for route, visits in orders
            }
        except VrpError as error:  # the distances' server is down, for instance
            raise RoutingFailed(
                _("Le déplacement n'a pas pu être vérifié : %(reason)s")
                % {"reason": error.message},
                code=error.code,
            ) from error
        if not report.ok:
            raise MoveRefused(_refusal(report, engine, timings, built, plan))
        PlanStop.objects.filter(route__in=affected).update(position=F("position") + ASIDE)
        for route, visits in orders:
            _route_write(route, rows[route.pk], visits, timings[route.pk], engine, built)
        totals = plan.routes.aggregate(km=Sum("km"), co2=Sum("co2_kg"))
        return _bump(
            plan,
            total_km=totals["km"] or Decimal("0"),
            total_co2_kg=totals["co2"] or Decimal("0"),
        )


def _int(value: Any, error: type[Exception]) -> int:
    if isinstance(value, bool):
        raise error()
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise error() from None


def _id(value: Any, error: type[Exception]) -> int:
    """A row id as people or forms send it; anything else is the row not found."""
    try:
        return parse_id(value)
    except InvalidId:
        raise error() from None


def _route_stops(routes: Sequence[PlanRoute]) -> dict[int, list[PlanStop]]:
    rows: dict[int, list[PlanStop]] = {route.pk: [] for route in routes}
    for stop in PlanStop.objects.filter(route__in=routes).order_by("route_id", "position"):
        rows[stop.route_id].append(stop)
    return rows


def _visits(stops: Iterable[PlanStop]) -> list[PlanStop]:
    return [s for s in stops if s.kind in MOVABLE]


@dataclass
class _Engine:
    """The engine problem of some stored routes: PlanStops become engine stops.

    A delivery is one engine stop for what is loaded at the hub plus one per share of a
    farm's goods collected on the route before it (``from_farms`` in its manifest); a pickup
    is one engine stop per share it collects (``collect``), each paired with its drop so
    that the checker keeps them on one route, pickup first. What each delivery takes from
    the hub is read from its route's loading order, as the plan computation wrote it.
    """

    problem: vrp.Problem
    ids: dict[int, list[str]] = field(default_factory=dict)
    owner: dict[str, PlanStop] = field(default_factory=dict)
    pair_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    loading: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Per delivery PlanStop loaded at the hub, its entry of the loading order."""
    kg: dict[str, Decimal] = field(default_factory=dict)
    """Per engine stop id, the goods' own kg (its demand is whole kg rounded up)."""

    def expand(self, visits: Sequence[PlanStop]) -> list[str]:
        return [sid for stop in visits for sid in self.ids[stop.pk]]


def _seconds(origin: datetime, value: datetime | None) -> int | None:
    return None if value is None else int((value - origin).total_seconds())


def _windows(stop: PlanStop, origin: datetime) -> tuple[vrp.TimeWindow, ...]:
    start, end = _seconds(origin, stop.window_start), _seconds(origin, stop.window_end)
    if start is None and end is None:
        return ()
    return (vrp.TimeWindow(start or 0, end if end is not None else 48 * 3600),)


def _coordinates(stop: PlanStop, built: PlanningProblem) -> tuple[float, float]:
    if stop.latitude is not None and stop.longitude is not None:
        return float(stop.latitude), float(stop.longitude)
    for candidate in built.problem.stops:
        if place_of(candidate.id) == stop.place and candidate.lat is not None:
            return float(candidate.lat), float(candidate.lon or 0)
    raise MissingCoordinates(
        _("%(place)s n'a pas de coordonnées : renseignez sa latitude et sa longitude.")
        % {"place": stop.name or stop.place}
    )


def _cold_litres() -> int:
    return int(getattr(settings, "LOGISTICS_COLD_LITRES_PER_ITEM", 3))


def _demand(kg: Any, crates: int, cold_items: int) -> tuple[dict[str, int], frozenset[str]]:
    """Engine demand of a stored quantity: whole kg rounded up, crates, cold box litres."""
    weight = Decimal(str(kg or 0))
    demand = {"kg": max(0, math.ceil(weight))}
    if crates:
        demand["crates"] = crates
    if cold_items > 0:
        demand["cold_l"] = cold_items * _cold_litres()
        return demand, frozenset({"cold"})
    return demand, frozenset()


def _kg(value: Any) -> Decimal:
    return max(Decimal("0"), Decimal(str(value or 0)))


def _number(entry: dict[str, Any], key: str) -> Any:
    value = entry.get(key)
    return value if isinstance(value, int | float | str) else 0


def _engine(
    built: PlanningProblem,
    routes: Sequence[PlanRoute],
    visits: dict[int, list[PlanStop]],
    rows: dict[int, list[PlanStop]],
) -> _Engine:
    service = int(settings.LOGISTICS_STOP_SERVICE_S)
    vehicles = {v.id: v for v in built.problem.vehicles}
    used = []
    for route in routes:
        vehicle = vehicles.get(route.vehicle.slug)
        if vehicle is None:
            raise VehicleUnavailable(
                _(
                    "Le véhicule « %(vehicle)s » n'est plus disponible ce jour-là : "
                    "recalculez le plan."
                )
                % {"vehicle": route.vehicle.name}
            )
        used.append(vehicle)
    engine = _Engine(problem=built.problem)
    stops: list[vrp.Stop] = []
    pairs: list[vrp.PickupDelivery] = []
    for route in routes:
        loading = _loading_order(rows[route.pk])
        # Shares collected so far on this route and not dropped yet: (farm, destination).
        waiting: dict[tuple[str, str], list[tuple[str, PlanStop]]] = {}
        for stop in visits[route.pk]:
            lat, lon = _coordinates(stop, built)
            windows = _windows(stop, built.origin)
            manifest = stop.manifest or {}
            ids: list[str] = []
            if stop.kind == StopKind.PICKUP:
                collect = [c for c in manifest.get("collect") or [] if isinstance(c, dict)]
                if not collect:
                    collect = [{"destination": "", "kg": _number(manifest, "kg")}]
                for n, share in enumerate(collect):
                    demand, needs = _demand(
                        _number(share, "kg"), 0, int(_number(share, "cold_items") or 0)
                    )
                    sid = f"p{stop.pk}.{n}"
                    engine.kg[sid] = _kg(_number(share, "kg"))
                    first = service if n == 0 else 0
                    stops.append(vrp.Stop(sid, lat, lon, demand, windows, first, "pickup", needs))
                    destination = str(share.get("destination") or "")
                    waiting.setdefault((stop.place, destination), []).append((sid, stop))
                    ids.append(sid)
            else:
                received = _received(stop, waiting)
                entry = loading.pop(stop.place, None)
                if entry is not None:
                    engine.loading[stop.pk] = entry
                    kg, cold = _number(entry, "kg"), int(_number(entry, "cold_items") or 0)
                else:
                    kg = max(
                        Decimal("0"),
                        Decimal(str(_number(manifest, "kg")))
                        - sum(Decimal(str(_number(s, "kg"))) for _i, s, _p in received),
                    )
                    cold = int(_number(manifest, "cold_items") or 0) - sum(
                        int(_number(s, "cold_items") or 0) for _i, s, _p in received
                    )
                crates = int(_number(manifest, "crates") or 0)
                demand, needs = _demand(kg, crates, cold)
                main = f"d{stop.pk}"
                engine.kg[main] = _kg(kg)
                stops.append(vrp.Stop(main, lat, lon, demand, windows, service, "delivery", needs))
                ids.append(main)
                for pickup_id, share, farm in received:
                    part, part_needs = _demand(
                        _number(share, "kg"), 0, int(_number(share, "cold_items") or 0)
                    )
                    sid = f"d{stop.pk}<{pickup_id}"
                    engine.kg[sid] = _kg(_number(share, "kg"))
                    stops.append(vrp.Stop(sid, lat, lon, part, windows, 0, "delivery", part_needs))
                    pairs.append(vrp.PickupDelivery(pickup_id, sid))
                    names = (farm.name or farm.place, stop.name or stop.place)
                    engine.pair_names[sid] = engine.pair_names[pickup_id] = names
                    ids.append(sid)
            engine.ids[stop.pk] = ids
            for sid in ids:
                engine.owner[sid] = stop
    engine.problem = vrp.Problem(
        depots=built.problem.depots,
        vehicles=tuple(used),
        stops=tuple(stops),
        pairs=tuple(pairs),
    )
    return engine


def _loading_order(rows: list[PlanStop]) -> dict[str, dict[str, Any]]:
    """Per place, the entry of the route's loading order (what the hub loads for it)."""
    start = next((s for s in rows if s.kind == StopKind.DEPOT_START), None)
    entries = ((start.manifest or {}).get("load_in_order") or []) if start else []
    return {
        str(entry["place"]): entry
        for entry in entries
        if isinstance(entry, dict) and entry.get("place")
    }


def _received(
    stop: PlanStop, waiting: dict[tuple[str, str], list[tuple[str, PlanStop]]]
) -> list[tuple[str, dict[str, Any], PlanStop]]:
    """The farm shares dropped at this delivery: (pickup share id, share, pickup stop)."""
    manifest = stop.manifest or {}
    listed = manifest.get("from_farms")
    farms = (
        [str(f.get("farm") or "") for f in listed if isinstance(f, dict)]
        if isinstance(listed, list)
        else [farm for farm, destination in waiting if destination == stop.place]
    )
    out = []
    for farm in farms:
        queue = waiting.get((farm, stop.place))
        if not queue:
            continue
        pickup_id, pickup = queue.pop(0)
        collect = (pickup.manifest or {}).get("collect") or []
        index = int(pickup_id.rsplit(".", 1)[1])
        share = collect[index] if index < len(collect) and isinstance(collect[index], dict) else {}
        out.append((pickup_id, share, pickup))
    return out


# --- refusals in words -----------------------------------------------------------------------


def _clock(origin: datetime, seconds: int, zone: ZoneInfo) -> str:
    at = moment(origin, seconds).astimezone(zone)
    return _("%(hour)d h %(minute)02d") % {"hour": at.hour, "minute": at.minute}


def _decimal(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def _capacity_message(name: str, dimension: str, load: int, capacity: int) -> str:
    values = {"vehicle": name, "load": load, "capacity": capacity}
    if dimension == "kg":
        return (
            _(
                "Le véhicule « %(vehicle)s » dépasserait sa charge utile "
                "(%(load)d kg pour %(capacity)d kg)."
            )
            % values
        )
    if dimension == "crates":
        return (
            _(
                "Le véhicule « %(vehicle)s » transporterait trop de caisses "
                "(%(load)d caisses pour %(capacity)d)."
            )
            % values
        )
    if dimension == "cold_l":
        if not capacity:
            return (
                _(
                    "Le véhicule « %(vehicle)s » n'a pas de caisson réfrigéré pour les "
                    "produits frais."
                )
                % values
            )
        return (
            _(
                "Le véhicule « %(vehicle)s » dépasserait le volume de son caisson réfrigéré "
                "(%(load)d L pour %(capacity)d L)."
            )
            % values
        )
    return (
        _("Le véhicule « %(vehicle)s » dépasserait sa capacité (%(load)d pour %(capacity)d).")
        % values
    )


def _late_message(stop: PlanStop, arrival: str, closes: str) -> str:
    values = {"name": stop.name or stop.place, "at": arrival, "end": closes}
    if stop.kind == StopKind.PICKUP:
        return (
            _(
                "La ferme « %(name)s » serait visitée à %(at)s, après la fin de son créneau "
                "d'enlèvement à %(end)s."
            )
            % values
        )
    if stop.place.startswith("relay:"):
        return (
            _("Le point relais « %(name)s » serait livré à %(at)s, après l'ouverture à %(end)s.")
            % values
        )
    if stop.place.startswith("canteen:"):
        return (
            _(
                "La cantine « %(name)s » serait livrée à %(at)s, après la fin de son créneau "
                "de livraison à %(end)s."
            )
            % values
        )
    return (
        _("« %(name)s » serait atteint à %(at)s, après la fin de son créneau à %(end)s.") % values
    )


# A refused move names at most this many places per broken rule, then says how many more.
REFUSAL_PLACES = 3


def _refusal(
    report: CheckReport,
    engine: _Engine,
    timings: dict[int, RouteTiming],
    built: PlanningProblem,
    plan: DeliveryPlan,
) -> str:
    """The broken rules in words: one sentence per rule and place, most concrete first.

    A stop stands for several engine stops (a farm's shares, the drops of each farm), each
    of which may break the same rule: the sentence is said once per place, and a rule broken
    at many places names the first :data:`REFUSAL_PLACES` and counts the others.
    """
    zone = ZoneInfo(plan.cycle.territory.timezone)
    codes = set(report.codes())
    names = {r.vehicle.slug: r.vehicle.name for r in plan.routes.select_related("vehicle")}
    stops = {s.id: s for s in engine.problem.stops}
    pairs = {p.delivery: p.pickup for p in engine.problem.pairs}
    # (rule, place, sentence): the first sentence of each rule and place is kept.
    found: list[tuple[str, str, str]] = []
    for timing in timings.values():
        vehicle = timing.vehicle
        name = names.get(vehicle.id, vehicle.id)
        route = timing.route
        if "capacity_exceeded" in codes:
            dims = set(vehicle.capacity) | set(timing.start_load)
            for dim in sorted(dims, key=lambda d: (d != "kg", d != "crates", d)):
                load, cap = timing.max_load(dim), vehicle.capacity.get(dim, 0)
                if dim == "cold_l" and not cap and "incompatible_vehicle" in codes:
                    continue  # said below, with the place that needs the cold box
                if load > cap:
                    found.append(
                        (f"capacity:{dim}", vehicle.id, _capacity_message(name, dim, load, cap))
                    )
        if "incompatible_vehicle" in codes:
            for visit in route.visits:
                missing = stops[visit.stop_id].requires - vehicle.features
                if missing:
                    owner = engine.owner[visit.stop_id]
                    values = {"vehicle": name, "name": owner.name or owner.place}
                    if missing == {"cold"}:
                        text = _(
                            "Le véhicule « %(vehicle)s » n'a pas de caisson réfrigéré pour les "
                            "produits frais de « %(name)s »."
                        )
                    else:
                        text = _("Le véhicule « %(vehicle)s » n'est pas équipé pour « %(name)s ».")
                    found.append(("incompatible", f"{vehicle.id}|{owner.pk}", text % values))
        if "time_window_violated" in codes:
            for visit in route.visits:
                stop = stops[visit.stop_id]
                if stop.windows and not any(w.start <= visit.start <= w.end for w in stop.windows):
                    closes = max((w.end for w in stop.windows if w.end < visit.start), default=0)
                    owner = engine.owner[visit.stop_id]
                    found.append(
                        (
                            "late",
                            str(owner.pk),
                            _late_message(
                                owner,
                                _clock(built.origin, visit.start, zone),
                                _clock(built.origin, closes, zone),
                            ),
                        )
                    )
        if "shift_violated" in codes and route.end_time > vehicle.shift.end:
            found.append(
                (
                    "shift",
                    vehicle.id,
                    _(
                        "Le véhicule « %(vehicle)s » rentrerait au dépôt à %(at)s, après la fin "
                        "de son service à %(end)s."
                    )
                    % {
                        "vehicle": name,
                        "at": _clock(built.origin, route.end_time, zone),
                        "end": _clock(built.origin, vehicle.shift.end, zone),
                    },
                )
            )
        if (
            "range_exceeded" in codes
            and vehicle.max_distance_m is not None
            and route.distance_m > vehicle.max_distance_m
        ):
            found.append(
                (
                    "range",
                    vehicle.id,
                    _(
                        "Le véhicule « %(vehicle)s » parcourrait %(km)s km pour une autonomie "
                        "de %(range)s km."
                    )
                    % {
                        "vehicle": name,
                        "km": _decimal(route.distance_m / 1000),
                        "range": _decimal(vehicle.max_distance_m / 1000),
                    },
                )
            )
    if codes & {"pair_split", "pair_order"}:
        found += _pair_sentences(engine, pairs, timings)
    explained = {
        "capacity_exceeded",
        "incompatible_vehicle",
        "time_window_violated",
        "shift_violated",
        "range_exceeded",
        "pair_split",
        "pair_order",
    }
    found += [(v.code, v.message, v.message) for v in report.violations if v.code not in explained]
    messages = _at_most(found, REFUSAL_PLACES)
    return " ".join(messages) if messages else str(MoveRefused.default_message)


def _pair_sentences(
    engine: _Engine, pairs: dict[str, str], timings: dict[int, RouteTiming]
) -> list[tuple[str, str, str]]:
    """One sentence per farm whose shares would be split from their drops or dropped first,
    naming the first destinations concerned and counting the others."""
    by_farm: dict[str, list[str]] = {}
    for delivery, pickup in pairs.items():
        if _pair_broken(delivery, pickup, timings):
            farm, destination = engine.pair_names.get(delivery, ("?", "?"))
            listed = by_farm.setdefault(farm, [])
            if destination not in listed:
                listed.append(destination)
    out = []
    for farm, destinations in by_farm.items():
        shown = ", ".join(f"« {d} »" for d in destinations[:REFUSAL_PLACES])
        more = len(destinations) - REFUSAL_PLACES
        if more > 0:
            shown = ngettext(
                "%(places)s et %(count)d autre", "%(places)s et %(count)d autres", more
            ) % {"places": shown, "count": more}
        out.append(
            (
                "pair",
                farm,
                _(
                    "Les produits enlevés à « %(farm)s » pour %(destinations)s doivent rester "
                    "sur la même tournée, enlevés avant d'être livrés."
                )
                % {"farm": farm, "destinations": shown},
            )
        )
    return out


def _at_most(found: list[tuple[str, str, str]], limit: int) -> list[str]:
    """The sentences to say: the first per rule and place, at most ``limit`` places per rule,
    then how many more places break it."""
    seen: set[tuple[str, str]] = set()
    by_rule: dict[str, list[str]] = {}
    for rule, place, text in found:
        if (rule, place) in seen:
            continue
        seen.add((rule, place))
        texts = by_rule.setdefault(rule, [])
        if text not in texts:
            texts.append(text)
    out: list[str] = []
    for texts in by_rule.values():
        out += texts[:limit]
        more = len(texts) - limit
        if more > 0:
            out.append(
                ngettext(
                    "Et %(count)d autre étape dans le même cas.",
                    "Et %(count)d autres étapes dans le même cas.",
                    more,
                )
                % {"count": more}
            )
    return out


def _pair_broken(delivery: str, pickup: str, timings: dict[int, RouteTiming]) -> bool:
    where: dict[str, tuple[int, int]] = {}
    for pk, timing in timings.items():
        for at, visit in enumerate(timing.route.visits):
            where[visit.stop_id] = (pk, at)
    a, b = where.get(pickup), where.get(delivery)
    return a is None or b is None or a[0] != b[0] or a[1] > b[1]


# --- writing a re-timed route ----------------------------------------------------------------


def _load_entry(stop: PlanStop, engine: _Engine) -> dict[str, Any]:
    """The stop's entry of the loading order: as stored, or from its manifest."""
    if stop.pk in engine.loading:
        return engine.loading[stop.pk]
    manifest = stop.manifest or {}
    main = next(s for s in engine.problem.stops if s.id == engine.ids[stop.pk][0])
    return {
        "place": stop.place,
        "name": manifest.get("name") or stop.name,
        "crates": int(manifest.get("crates") or 0),
        "kg": main.demand.get("kg", 0),
        "cold_items": int(manifest.get("cold_items") or 0),
    }


def _hub_loaded(stop: PlanStop, engine: _Engine) -> bool:
    if stop.pk in engine.loading:
        return True
    main = next(s for s in engine.problem.stops if s.id == engine.ids[stop.pk][0])
    return any(main.demand.values())


def _route_write(
    route: PlanRoute,
    rows: list[PlanStop],
    visits: list[PlanStop],
    timing: RouteTiming,
    engine: _Engine,
    built: PlanningProblem,
) -> None:
    """Store the route's new order and timing (its rows' positions were set aside)."""
    by_id = {visit.stop_id: visit for visit in timing.route.visits}
    changed: list[PlanStop] = []
    # The kg on board from the goods' own weights, as the plan computation stores them
    # (``load_on_board``), not the engine's whole kg rounded up per share.
    calls = [engine.ids[stop.pk] for stop in visits]
    start_kg, after = load_on_board(
        calls=calls,
        kg=engine.kg,
        pickups={s.id for s in engine.problem.stops if s.kind == "pickup"},
        paired={pair.delivery for pair in engine.problem.pairs},
    )
    final_load = 0
    for position, (stop, load) in enumerate(zip(visits, after, strict=True), start=1):
        ids = engine.ids[stop.pk]
        stop.route_id = route.pk
        stop.position = position
        stop.eta = moment(built.origin, by_id[ids[0]].arrival)
        final_load = load
        stop.load_kg_after = final_load
        changed.append(stop)
    start = next((s for s in rows if s.kind == StopKind.DEPOT_START), None)
    end = next((s for s in rows if s.kind == StopKind.DEPOT_END), None)
    if start is not None:
        start.position = 0
        start.eta = moment(built.origin, timing.route.start_time)
        start.load_kg_after = start_kg
        # Loaded at the hub in reverse order of the drops: the last drop goes in first.
        start.manifest = {
            **(start.manifest or {}),
            "load_in_order": [
                _load_entry(stop, engine)
                for stop in reversed(visits)
                if stop.kind == StopKind.DELIVERY and _hub_loaded(stop, engine)
            ],
        }
        changed.append(start)
    if end is not None:
        end.position = len(visits) + 1
        end.eta = moment(built.origin, timing.route.end_time)
        end.load_kg_after = final_load if visits else 0
        changed.append(end)
    PlanStop.objects.bulk_update(changed, ["route", "position", "eta", "load_kg_after", "manifest"])
    km = (Decimal(timing.route.distance_m) / 1000).quantize(KM, rounding=ROUND_HALF_UP)
    PlanRoute.objects.filter(pk=route.pk).update(
        km=km,
        duration_min=round(timing.duration_s / 60),
        co2_kg=built.co2_kg(kind=route.vehicle.kind, km=km),
    )


# --- locking a route -------------------------------------------------------------------------


def plan_route_lock(*, plan_id: int, route_id: int, locked: bool, version: int, by: Any) -> Any:
    """Lock or unlock a route: a locked route is kept as it is when the plan is recomputed."""
    plan = _allowed(plan_id=plan_id, by=by)
    route_pk = _id(route_id, RouteNotFound)
    with locking_atomic():
        plan = _locked(plan, version)
        route = plan.routes.filter(pk=route_pk).first()
        if route is None:
            raise RouteNotFound()
        if route.locked == bool(locked):
            return plan
        PlanRoute.objects.filter(pk=route.pk).update(locked=bool(locked))
        return _bump(plan)


# --- unserved destinations -------------------------------------------------------------------


def plan_unserved_decide(*, plan_id: int, place: str, decision: str, version: int, by: Any) -> Any:
    """Record what happens to an unserved destination: other_vehicle, other_day, hub_pickup."""
    plan = _allowed(plan_id=plan_id, by=by)
    if decision not in decision_labels():
        raise InvalidDecision()
    with locking_atomic():
        plan = _locked(plan, version)
        unserved = [dict(entry) for entry in plan.unserved or []]
        matched = [
            entry
            for entry in unserved
            if place and place in (entry.get("place"), place_of(str(entry.get("place") or "")))
        ]
        if not matched:
            raise UnservedUnknown()
        for entry in matched:
            entry["decision"] = decision
        return _bump(plan, unserved=unserved)


def _undecided(plan: DeliveryPlan) -> list[str]:
    places = [
        place_of(str(entry.get("place") or ""))
        for entry in plan.unserved or []
        if entry.get("decision") not in decision_labels()
    ]
    return list(dict.fromkeys(places))


# --- publishing ------------------------------------------------------------------------------


def plan_publish(*, plan_id: int, version: int, by: Any) -> Any:
    """Publish a draft whose unserved stops are all decided; drivers then see their routes.

    Publishing a published plan returns it unchanged. The households of a destination left
    to ``hub_pickup`` or ``other_day`` are told by e-mail (through the outbox, once per order
    and plan) where and when to collect their basket, or that it comes another day.
    """
    plan = _allowed(plan_id=plan_id, by=by)
    with locking_atomic():
        current = DeliveryPlan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
        if current.status == PlanStatus.PUBLISHED:
            return current
        plan = _locked(plan, version, solving=True)
        if plan.solve_state != SolveState.DONE:
            raise PlanNotComputed()
        undecided = _undecided(plan)
        if undecided:
            names = place_names(undecided, territory_id=plan.cycle.territory_id)
            raise UnservedUndecided(
                _(
                    "Décidez d'abord du sort des étapes non desservies : %(places)s "
                    "(un autre véhicule, un autre jour ou retrait au dépôt)."
                )
                % {"places": ", ".join(names[p] for p in undecided)}
            )
        plan = _bump(
            plan,
            status=PlanStatus.PUBLISHED,
            published_at=timezone.now(),
            published_by=by if getattr(by, "pk", None) else None,
        )
        _unserved_notify(plan)
        return plan


def _hub_depot(plan: DeliveryPlan) -> Depot | None:
    route = plan.routes.select_related("vehicle__depot").order_by("position").first()
    if route is not None:
        return route.vehicle.depot
    return Depot.objects.filter(territory_id=plan.cycle.territory_id).order_by("name", "pk").first()


def unserved_notice_key(*, plan_id: int, decision: str, order_id: int) -> str:
    """The outbox key of the e-mail telling a household its relay is not served: one per
    order and plan (``hub-pickup`` keeps the key it always had)."""
    kind = "hub-pickup" if decision == "hub_pickup" else decision.replace("_", "-")
    return f"plan-{plan_id}-{kind}-{order_id}"


def _unserved_relays(plan: DeliveryPlan, decision: str) -> list[str]:
    """The relay slugs of the plan's unserved destinations left to ``decision``."""
    slugs = [
        place_of(str(entry.get("place") or "")).removeprefix("relay:")
        for entry in plan.unserved or []
        if isinstance(entry, dict)
        and entry.get("decision") == decision
        and place_of(str(entry.get("place") or "")).startswith("relay:")
    ]
    return list(dict.fromkeys(slugs))


def _unserved_notify(plan: DeliveryPlan) -> None:
    """E-mail each household of a relay left unserved what happens to its basket.

    ``hub_pickup``: where (the depot's name and address) and when (the order's own pickup
    slot, at the depot instead of the relay). ``other_day``: that it comes another day, which
    one the coordination will say. ``other_vehicle`` changes nothing for households. Once per
    order and plan (an outbox key); orders already collected are told nothing.
    """
    depot = _hub_depot(plan)
    contact = getattr(plan.cycle.territory, "contact_email", "") or ""
    sender = territory_from_email(territory=plan.cycle.territory)
    for decision in ("hub_pickup", "other_day"):
        slugs = _unserved_relays(plan, decision)
        if not slugs or (decision == "hub_pickup" and depot is None):
            continue
        orders = (
            Order.objects.filter(
                cycle=plan.cycle,
                status__in=(OrderStatus.CONFIRMED, OrderStatus.PACKED),
                relay_point__slug__in=slugs,
                relay_point__territory_id=plan.cycle.territory_id,
            )
            .select_related("customer", "relay_point", "pickup_slot")
            .order_by("pk")
        )
        for order in orders:
            context = {
                "order": order,
                "relay_name": order.relay_point.name,
                "delivery_date": plan.cycle.delivery_date,
                "slot": order.pickup_slot,
                "depot": depot,
                "depot_address": (depot.full_address or depot.name) if depot else "",
                "contact": contact,
            }
            template = f"logistics/email/unserved_{decision}"
            with translation.override(getattr(order.customer, "language", None) or "fr"):
                subject = render_text(f"{template}_subject.txt", context)
                body = render_text(f"{template}.txt", context)
            email_enqueue(
                subject=" ".join(subject.split()),
                body=body,
                to=order.customer.email,
                from_email=sender,
                key=unserved_notice_key(plan_id=plan.pk, decision=decision, order_id=order.pk),
            )
