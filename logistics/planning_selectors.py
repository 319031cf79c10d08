"""Reads of the coordinators' planning pages (/logistique/): the cycles to plan, one plan
with its routes, stops and map, and the small state the page polls while a plan is solved
or its rounds are driven.

Nothing here writes. Every read is a fixed number of queries, whatever the number of routes
and stops (the page is tested for it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Prefetch, Q
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from logistics.editing import decision_labels
from logistics.models import (
    DeliveryPlan,
    Depot,
    PlanRoute,
    PlanStatus,
    PlanStop,
    SolveState,
    StopKind,
    StopStatus,
)
from logistics.route_sheets import route_load_kg
from logistics.selectors import plan_co2_per_basket, plan_km_saved
from marche.accounts.models import User
from marche.canteens.models import Canteen, CanteenOrderStatus
from marche.cycles.models import OrderCycle
from marche.errors import NotFound
from marche.orders.selectors import HANDED_OVER, user_can_see_territory, user_is_coordinator
from marche.producers.models import Producer
from marche.relays.models import RelayPoint

# A cancelled canteen order is not delivered.
CANTEEN_CANCELLED = CanteenOrderStatus.CANCELLED

# Route colours on the map and beside each route's table: distinct, readable on white, the
# same order as ``PALETTE`` in js/planning.js and ``.route-cN`` in css/planning.css.
PALETTE_SIZE = 8
SOLVING = (SolveState.QUEUED, SolveState.RUNNING)
MOVABLE = (StopKind.DELIVERY, StopKind.PICKUP)
PLACE_KINDS = {
    "depot": gettext_lazy("dépôt"),
    "relay": gettext_lazy("point relais"),
    "farm": gettext_lazy("ferme"),
    "canteen": gettext_lazy("cantine"),
}


def decisions() -> dict[str, str]:
    """The decisions on an unserved stop the editing service takes, labelled for a form."""
    return {key: capfirst(label) for key, label in decision_labels().items()}


class PlanMissing(NotFound):
    code = "plan_missing"
    default_message = gettext_lazy(
        "Ce cycle n'a pas encore de plan de livraison : calculez d'abord les tournées."
    )


# --- who may plan -----------------------------------------------------------------------------


def user_may_plan(*, user: User) -> bool:
    """Coordinators and superusers open the planning pages."""
    return bool(user.is_authenticated and user_is_coordinator(user=user))


def user_may_plan_cycle(*, user: User, cycle: OrderCycle) -> bool:
    """The preparation pages' rule, as the editing services apply it: a coordinator bound to a
    territory plans its cycles, an unbound one every territory's, superusers all."""
    if not user_may_plan(user=user):
        return False
    return user_can_see_territory(user=user, territory_id=cycle.territory_id)


# --- the list of cycles -----------------------------------------------------------------------


@dataclass(frozen=True)
class CycleRow:
    cycle: OrderCycle
    orders_count: int
    plan: DeliveryPlan | None
    routes_count: int
    closed: bool
    past: bool = False


def cycles_for_planning(*, user: User, now: datetime, limit: int = 24) -> list[CycleRow]:
    """Cycles past their cutoff (closed, or due to close), latest delivery first; two queries.

    A coordinator bound to a territory sees its cycles; superusers and unbound ones, all.
    """
    cycles = (
        OrderCycle.objects.filter(Q(closes_at__lte=now) | Q(logistics_closing__isnull=False))
        .select_related("territory", "logistics_closing")
        .annotate(
            planned_orders=Count("orders", filter=Q(orders__status__in=HANDED_OVER), distinct=True),
            planned_canteen_orders=Count(
                "canteen_orders",
                filter=~Q(canteen_orders__status=CANTEEN_CANCELLED),
                distinct=True,
            ),
        )
        .order_by("-delivery_date", "-pk")
    )
    if not user.is_superuser and user.territory_id is not None:
        cycles = cycles.filter(territory_id=user.territory_id)
    rows = list(cycles[:limit])
    plans = {
        plan.cycle_id: plan
        for plan in DeliveryPlan.objects.filter(cycle__in=[c.pk for c in rows]).annotate(
            routes_count=Count("routes")
        )
    }
    return [
        CycleRow(
            cycle=cycle,
            # Households' and canteens' orders: both are delivered by the rounds.
            orders_count=cycle.planned_orders + cycle.planned_canteen_orders,
            plan=plans.get(cycle.pk),
            routes_count=getattr(plans.get(cycle.pk), "routes_count", 0),
            closed=_has_closing(cycle),
            past=cycle.delivery_date < now.astimezone(ZoneInfo(cycle.territory.timezone)).date(),
        )
        for cycle in rows
    ]


def _has_closing(cycle: OrderCycle) -> bool:
    try:
        return cycle.logistics_closing is not None
    except OrderCycle.logistics_closing.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        return False


# --- places -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    key: str
    kind: str
    name: str
    latitude: float | None
    longitude: float | None


def _split(key: str) -> tuple[str, str]:
    kind, _sep, slug = key.partition(":")
    return kind, slug


def places_lookup(*, territory_id: int, keys: Iterable[str]) -> dict[str, Place]:
    """Names and coordinates of place keys (``relay:<slug>`` ...); one query per kind present."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        kind, slug = _split(key)
        if slug:
            wanted[kind].add(slug)
    models = {"relay": RelayPoint, "farm": Producer, "canteen": Canteen, "depot": Depot}
    found: dict[str, Place] = {}
    for kind, slugs in wanted.items():
        model = models.get(kind)
        if model is None:
            continue
        rows = model.objects.filter(territory_id=territory_id, slug__in=slugs).values_list(
            "slug", "name", "latitude", "longitude"
        )
        for slug, name, lat, lon in rows:
            found[f"{kind}:{slug}"] = Place(
                key=f"{kind}:{slug}",
                kind=kind,
                name=name,
                latitude=_coordinate(lat),
                longitude=_coordinate(lon),
            )
    return found


def _coordinate(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _located(lat: float | None, lon: float | None) -> bool:
    """(0, 0) is the database's placeholder for a place nobody located."""
    return lat is not None and lon is not None and not (lat == 0 and lon == 0)


# --- one plan ---------------------------------------------------------------------------------


@dataclass
class StopView:
    stop: PlanStop
    name: str
    place_kind: str
    latitude: float | None
    longitude: float | None
    movable: bool
    summary: str
    detail: list[str]


@dataclass
class RouteView:
    route: PlanRoute
    colour: int
    stops: list[StopView]
    load_kg: Decimal
    capacity_kg: int
    done: int
    problems: int
    total: int

    @property
    def progress_label(self) -> str:
        return progress_label(done=self.done, total=self.total)

    @property
    def duration(self) -> str:
        return duration_text(self.route.duration_min)

    @property
    def overloaded(self) -> bool:
        return self.load_kg > self.capacity_kg


@dataclass
class UnservedView:
    place: str
    name: str
    code: str
    reason: str
    decision: str | None
    decision_label: str | None
    latitude: float | None
    longitude: float | None


@dataclass
class ChangeItem:
    heading: str
    text: str
    moved_in: list[str]
    moved_out: list[str]
    reordered: bool


@dataclass
class ChangeView:
    """What changed for one driver (one vehicle), from the stable rounds and the re-plan."""

    who: str
    items: list[ChangeItem]


@dataclass
class PlanPage:
    cycle: OrderCycle
    plan: DeliveryPlan | None
    routes: list[RouteView] = field(default_factory=list)
    unserved: list[UnservedView] = field(default_factory=list)
    changes: list[ChangeView] = field(default_factory=list)
    orders_count: int = 0
    baskets: int = 0
    km_saved: Decimal | None = None
    co2_per_order_g: Decimal | None = None
    map_data: dict[str, Any] = field(default_factory=dict)

    @property
    def is_draft(self) -> bool:
        return self.plan is not None and self.plan.status == PlanStatus.DRAFT

    @property
    def is_published(self) -> bool:
        return self.plan is not None and self.plan.status == PlanStatus.PUBLISHED

    @property
    def editable(self) -> bool:
        """Stops can be moved, routes locked, decisions taken: a draft not being computed."""
        return self.is_draft and not self.solving

    @property
    def solving(self) -> bool:
        return self.plan is not None and self.plan.solve_state in SOLVING

    @property
    def undecided(self) -> list[UnservedView]:
        return [u for u in self.unserved if not u.decision]

    @property
    def publish_blocked(self) -> str:
        """Why the plan cannot be published yet, in French; empty when it can."""
        plan = self.plan
        if plan is None or plan.solve_state != SolveState.DONE or not self.routes:
            if self.solving:
                return _("Le calcul des tournées est en cours : attendez qu'il se termine.")
            return _("Calculez d'abord les tournées.")
        if self.undecided:
            names = ", ".join(u.name for u in self.undecided)
            return ngettext(
                "Décidez d'abord ce que devient l'étape non desservie : %(names)s.",
                "Décidez d'abord ce que deviennent les %(count)s étapes non desservies : "
                "%(names)s.",
                len(self.undecided),
            ) % {"count": len(self.undecided), "names": names}
        return ""


def progress_label(*, done: int, total: int) -> str:
    """ "3/7 étapes livrées" """
    return ngettext(
        "%(done)s/%(total)s étape livrée",
        "%(done)s/%(total)s étapes livrées",
        total,
    ) % {"done": done, "total": total}


def duration_text(minutes: int) -> str:
    """ "45 min", "2 h 05" """
    hours, rest = divmod(max(int(minutes), 0), 60)
    if not hours:
        return _("%(minutes)s min") % {"minutes": rest}
    return _("%(hours)s h %(minutes)02d") % {"hours": hours, "minutes": rest}


def plan_for_cycle(*, cycle: OrderCycle) -> DeliveryPlan:
    """The cycle's plan, or ``PlanMissing``."""
    plan = DeliveryPlan.objects.filter(cycle=cycle).first()
    if plan is None:
        raise PlanMissing()
    return plan


def plan_page(*, cycle: OrderCycle) -> PlanPage:
    """Everything the planning page shows for a cycle, in a fixed number of queries.

    Stops show the name and coordinates copied on them when the plan was stored; a stop
    stored without them (and the unserved places, which have no stop) take them from the
    place itself.
    """
    zone = ZoneInfo(cycle.territory.timezone)
    plan = DeliveryPlan.objects.select_related("published_by").filter(cycle=cycle).first()
    page = PlanPage(cycle=cycle, plan=plan)
    page.orders_count = (
        cycle.orders.filter(status__in=HANDED_OVER).count()
        + cycle.canteen_orders.exclude(status=CANTEEN_CANCELLED).count()
    )
    if plan is None:
        return page
    routes = list(
        plan.routes.select_related("vehicle__depot", "driver")
        .prefetch_related(Prefetch("stops", queryset=PlanStop.objects.order_by("position")))
        .order_by("position")
    )
    unserved_rows = [u for u in plan.unserved if isinstance(u, dict)]
    keys = {stop.place for route in routes for stop in route.stops.all() if not _snapshot(stop)}
    keys |= {str(u.get("place", "")) for u in unserved_rows}
    changes = plan.changes if isinstance(plan.changes, list) else []
    keys |= _change_places(changes)
    places = places_lookup(territory_id=cycle.territory_id, keys=keys)
    for index, route in enumerate(routes):
        page.routes.append(_route_view(route, index, places, zone))
    page.unserved = [_unserved_view(u, places) for u in unserved_rows]
    names = {key: place.name for key, place in places.items()}
    names.update({s.stop.place: s.name for r in page.routes for s in r.stops})
    names.update({u.place: u.name for u in page.unserved})
    page.changes = _changes_view(changes, page.routes, names)
    page.baskets = sum(
        int(s.stop.manifest.get("baskets", 0) or 0)
        for r in page.routes
        for s in r.stops
        if s.stop.kind == StopKind.DELIVERY and isinstance(s.stop.manifest, dict)
    )
    if plan.baseline_km:
        page.km_saved = plan_km_saved(plan=plan)
    per_basket = plan_co2_per_basket(plan=plan)
    if per_basket is not None:
        page.co2_per_order_g = (per_basket * 1000).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    page.map_data = _map_data(page)
    return page


def _snapshot(stop: PlanStop) -> bool:
    return bool(stop.name) and stop.latitude is not None and stop.longitude is not None


def _route_view(
    route: PlanRoute, index: int, places: dict[str, Place], zone: ZoneInfo
) -> RouteView:
    stops = [_stop_view(stop, route, places, zone) for stop in route.stops.all()]
    counted = [s for s in stops if s.stop.kind in MOVABLE]
    return RouteView(
        route=route,
        colour=index % PALETTE_SIZE,
        stops=stops,
        # The loading list's total, as the driver's page and the route sheet show it.
        load_kg=route_load_kg([s.stop for s in stops]),
        capacity_kg=route.vehicle.capacity_kg,
        done=sum(1 for s in counted if s.stop.status == StopStatus.DELIVERED),
        problems=sum(1 for s in counted if s.stop.status == StopStatus.PROBLEM),
        total=len(counted),
    )


def _stop_view(
    stop: PlanStop, route: PlanRoute, places: dict[str, Place], zone: ZoneInfo
) -> StopView:
    kind, _slug = _split(stop.place)
    place = places.get(stop.place)
    name = stop.name or (place.name if place else stop.place)
    lat = float(stop.latitude) if stop.latitude is not None else None
    lon = float(stop.longitude) if stop.longitude is not None else None
    if not _located(lat, lon):
        if place is not None:
            lat, lon = place.latitude, place.longitude
        elif kind == "depot" and stop.place == f"depot:{route.vehicle.depot.slug}":
            depot = route.vehicle.depot
            lat, lon = float(depot.latitude), float(depot.longitude)
    if not _located(lat, lon):
        lat = lon = None
    summary, detail = _manifest_text(stop)
    return StopView(
        stop=stop,
        name=name,
        place_kind=kind,
        latitude=lat,
        longitude=lon,
        movable=stop.kind in MOVABLE and not route.locked,
        summary=summary,
        detail=detail,
    )


def _number(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return Decimal("0")


def _kg(value: Any) -> str:
    return _("%(kg)s kg") % {"kg": number_format(_number(value).quantize(Decimal("0.1")), 1)}


def _manifest_text(stop: PlanStop) -> tuple[str, list[str]]:
    """A one-line summary of what a stop carries and, one line each, its orders or goods."""
    manifest = stop.manifest if isinstance(stop.manifest, dict) else {}
    if stop.kind == StopKind.DELIVERY:
        orders = [o for o in manifest.get("orders", []) if isinstance(o, dict)]
        count = int(manifest.get("order_count", len(orders)) or 0)
        crates = int(manifest.get("crates", 0) or 0)
        parts = [
            ngettext("%(n)s commande", "%(n)s commandes", count) % {"n": count},
            ngettext("%(n)s caisse", "%(n)s caisses", crates) % {"n": crates},
            _kg(manifest.get("kg", 0)),
        ]
        canteen = manifest.get("canteen_order")
        detail: list[str] = []
        if isinstance(canteen, dict):
            # A canteen's order: its lines, not households' orders.
            lines = [line for line in canteen.get("lines", []) or [] if isinstance(line, dict)]
            parts[0] = ngettext(
                "Cantine, commande %(ref)s : %(n)s ligne",
                "Cantine, commande %(ref)s : %(n)s lignes",
                len(lines),
            ) % {"ref": canteen.get("reference", ""), "n": len(lines)}
            detail = [
                " · ".join(
                    str(p)
                    for p in (
                        line.get("quantity_label"),
                        line.get("name"),
                        line.get("producer"),
                        _("froid") if line.get("cold") is True else "",
                    )
                    if p
                )
                for line in lines
            ]
        cold = int(manifest.get("cold_items", 0) or 0)
        if cold:
            parts.append(
                ngettext("%(n)s article frais", "%(n)s articles frais", cold) % {"n": cold}
            )
        detail += [
            " · ".join(
                str(p) for p in (o.get("reference"), o.get("customer"), _kg(o.get("kg", 0))) if p
            )
            for o in orders
        ]
        # Farms' goods collected on the round and dropped here (``from_farms``).
        farms = [f for f in manifest.get("from_farms", []) or [] if isinstance(f, dict)]
        detail += [
            _("Produits de %(name)s : %(kg)s")
            % {"name": f.get("name") or f.get("farm", ""), "kg": _kg(f.get("kg", 0))}
            for f in farms
        ]
        if farms:
            farm_kg = _kg(sum((_number(f.get("kg", 0)) for f in farms), Decimal("0")))
            if not count and not crates:
                return _("Produits des fermes à déposer : %(kg)s") % {"kg": farm_kg}, detail
            # The orders' kg above is the depot's share: say so, and add the farms' goods.
            parts[2] = _("%(kg)s du dépôt") % {"kg": parts[2]}
            parts.append(_("%(kg)s des fermes") % {"kg": farm_kg})
        return " · ".join(parts), detail
    if stop.kind == StopKind.PICKUP:
        collect = [c for c in manifest.get("collect", []) if isinstance(c, dict)]
        detail = [
            _("%(kg)s pour %(name)s")
            % {"kg": _kg(c.get("kg", 0)), "name": c.get("name") or c.get("destination", "")}
            for c in collect
        ]
        return _("À collecter : %(kg)s") % {"kg": _kg(manifest.get("kg", 0))}, detail
    if stop.kind == StopKind.DEPOT_START:
        loading = manifest.get("load_in_order", [])
        detail = []
        for item in loading:
            if isinstance(item, dict):
                crates = int(_number(item.get("crates", 0)))
                detail.append(
                    ngettext(
                        "%(name)s : %(crates)s caisse, %(kg)s",
                        "%(name)s : %(crates)s caisses, %(kg)s",
                        crates,
                    )
                    % {
                        "name": item.get("name") or item.get("place", ""),
                        "crates": crates,
                        "kg": _kg(item.get("kg", 0)),
                    }
                )
            else:
                detail.append(str(item))
        summary = _("Chargement, du premier au dernier chargé") if detail else ""
        return summary, detail
    return "", []


def _unserved_view(row: dict[str, Any], places: dict[str, Place]) -> UnservedView:
    key = str(row.get("place", ""))
    place = places.get(key)
    decision = row.get("decision") or None
    lat = place.latitude if place else None
    lon = place.longitude if place else None
    located = _located(lat, lon)
    return UnservedView(
        place=key,
        name=place.name if place else key,
        code=str(row.get("code", "")),
        reason=str(row.get("reason_fr") or row.get("code") or ""),
        decision=str(decision) if decision else None,
        decision_label=decisions().get(str(decision), str(decision)) if decision else None,
        latitude=lat if located else None,
        longitude=lon if located else None,
    )


CHANGE_HEADINGS = {
    "stability": gettext_lazy("Par rapport aux tournées habituelles"),
    "replan": gettext_lazy("Par rapport au calcul précédent"),
}


def _changes_view(
    changes: list[Any], routes: list[RouteView], names: dict[str, str]
) -> list[ChangeView]:
    """``plan.changes`` grouped per vehicle, titled with its driver's and vehicle's names."""
    by_slug = {r.route.vehicle.slug: r.route for r in routes}
    grouped: dict[str, ChangeView] = {}
    for change in changes:
        if not isinstance(change, dict):
            continue
        slug = str(change.get("vehicle") or "")
        route = by_slug.get(slug)
        if route is not None:
            driver = route.driver.get_full_name() if route.driver else ""
            who = f"{driver} — {route.vehicle.name}" if driver else route.vehicle.name
        else:
            parts = (change.get("driver"), change.get("vehicle_name") or slug)
            who = " — ".join(str(p) for p in parts if p) or str(_("Tournée"))
        view = grouped.setdefault(slug or who, ChangeView(who=who, items=[]))
        kind = str(change.get("kind") or "")
        summary = change.get("summary_fr")
        view.items.append(
            ChangeItem(
                heading=str(CHANGE_HEADINGS.get(kind, "")),
                text=str(summary or change.get("why_fr") or ""),
                # A re-plan's summary already names what was added and removed.
                moved_in=[] if summary else _names(change.get("moved_in"), names),
                moved_out=[] if summary else _names(change.get("moved_out"), names),
                reordered=bool(change.get("reordered")) and not summary,
            )
        )
    return list(grouped.values())


def _names(places: Any, names: dict[str, str]) -> list[str]:
    if not isinstance(places, list):
        return []
    return [names.get(str(p), str(p)) for p in places]


def _change_places(changes: list[Any]) -> set[str]:
    keys: set[str] = set()
    for change in changes:
        if isinstance(change, dict):
            for field_name in ("moved_in", "moved_out"):
                value = change.get(field_name)
                if isinstance(value, list):
                    keys |= {str(p) for p in value}
    return keys


def _map_data(page: PlanPage) -> dict[str, Any]:
    """What js/planning.js draws: every located place once, each route's line, in order."""
    kinds = {k: str(v) for k, v in PLACE_KINDS.items()}
    places: dict[str, dict[str, Any]] = {}
    routes = []
    for route in page.routes:
        points = []
        for s in route.stops:
            if s.latitude is None or s.longitude is None:
                continue
            points.append([s.latitude, s.longitude])
            label = (
                f"{s.name} ({kinds.get(s.place_kind, s.place_kind)})"
                if s.stop.kind not in MOVABLE
                else _("%(position)s. %(name)s (%(kind)s) — %(vehicle)s, arrivée %(eta)s")
                % {
                    "position": s.stop.position,
                    "name": s.name,
                    "kind": kinds.get(s.place_kind, s.place_kind),
                    "vehicle": route.route.vehicle.name,
                    "eta": _local_hm(s.stop.eta, page.cycle.territory.timezone),
                }
            )
            entry = places.setdefault(
                s.stop.place,
                {
                    "key": s.stop.place,
                    "kind": s.place_kind,
                    "name": s.name,
                    "lat": s.latitude,
                    "lon": s.longitude,
                    "colour": None if s.stop.kind not in MOVABLE else route.colour,
                    "labels": [],
                    "unserved": False,
                },
            )
            if label not in entry["labels"]:
                entry["labels"].append(label)
        routes.append(
            {
                "id": route.route.pk,
                "colour": route.colour,
                "label": route.route.vehicle.name,
                "points": points,
            }
        )
    for u in page.unserved:
        if u.latitude is None or u.longitude is None or u.place in places:
            continue
        places[u.place] = {
            "key": u.place,
            "kind": _split(u.place)[0],
            "name": u.name,
            "lat": u.latitude,
            "lon": u.longitude,
            "colour": None,
            "labels": [
                _("%(name)s : non desservi — %(reason)s") % {"name": u.name, "reason": u.reason}
            ],
            "unserved": True,
        }
    return {"places": list(places.values()), "routes": routes}


def _local_hm(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M")


# --- the polled state -------------------------------------------------------------------------


def plan_state(*, cycle: OrderCycle) -> dict[str, Any]:
    """The small JSON the planning page polls: solve state and progress, rounds under way.

    Two queries (three once published): the plan, its routes with their stops counted by
    status, and each stop's status while the rounds are driven.
    """
    plan = DeliveryPlan.objects.filter(cycle=cycle).first()
    if plan is None:
        return {
            "plan": None,
            "state": SolveState.IDLE.value,
            "state_label": str(SolveState.IDLE.label),
            "solving": False,
            "routes": [],
        }
    progress = plan.progress if isinstance(plan.progress, dict) else {}
    error = plan.solve_error if isinstance(plan.solve_error, dict) else {}
    routes = list(
        plan.routes.order_by("position").annotate(
            stops_total=Count("stops", filter=Q(stops__kind__in=MOVABLE)),
            stops_done=Count(
                "stops", filter=Q(stops__kind__in=MOVABLE, stops__status=StopStatus.DELIVERED)
            ),
            stops_problem=Count(
                "stops", filter=Q(stops__kind__in=MOVABLE, stops__status=StopStatus.PROBLEM)
            ),
        )
    )
    shown = progress_view(progress)
    if plan.solve_state == SolveState.DONE:
        # The engine counts a farm's goods as a pickup and a drop, and each visit apart: once
        # the plan is stored, count places as the page lists them, unserved ones included.
        placed = sum(route.stops_total for route in routes)
        left = len(plan.unserved) if isinstance(plan.unserved, list) else 0
        shown["stops"] = _("%(planned)s / %(total)s") % {"planned": placed, "total": placed + left}
        shown["stops_counted"] = str(_("lieux"))
    elif shown["stops"]:
        shown["stops_counted"] = str(_("arrêts du calcul (enlèvement et livraison comptés à part)"))
    stops = []
    if plan.status == PlanStatus.PUBLISHED:
        labels = dict(StopStatus.choices)
        stops = [
            {"id": pk, "status": status, "label": str(labels.get(status, status))}
            for pk, status in PlanStop.objects.filter(route__plan=plan, kind__in=MOVABLE)
            .order_by("pk")
            .values_list("pk", "status")
        ]
    return {
        "plan": plan.pk,
        "version": plan.version,
        "status": plan.status,
        "state": plan.solve_state,
        "state_label": str(SolveState(plan.solve_state).label)
        if plan.solve_state in SolveState.values
        else plan.solve_state,
        "solving": plan.solve_state in SOLVING,
        "progress": shown,
        "error": str(error.get("message") or "") if plan.solve_state == SolveState.FAILED else "",
        "routes": [
            {
                "id": route.pk,
                "done": route.stops_done,
                "problems": route.stops_problem,
                "total": route.stops_total,
                "label": progress_label(done=route.stops_done, total=route.stops_total),
            }
            for route in routes
        ],
        "stops": stops,
    }


def progress_view(progress: Any) -> dict[str, Any]:
    """The solve's progress with French numbers: best cost, stops planned, time left."""
    if not isinstance(progress, dict):
        progress = {}

    def num(key: str) -> Decimal | None:
        value = progress.get(key)
        if value is None or isinstance(value, bool):
            return None
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            return None
        return number if number.is_finite() else None

    cost = num("best_cost")
    limit = num("time_limit_s")
    elapsed = num("elapsed_s")
    planned = num("stops_planned")
    total = num("stops_total")
    left = max(limit - elapsed, Decimal("0")) if limit is not None and elapsed is not None else None
    return {
        "best_cost": number_format(cost.quantize(Decimal("0.01")), 2) if cost is not None else "",
        "stops": (
            _("%(planned)s / %(total)s") % {"planned": int(planned), "total": int(total)}
            if planned is not None and total is not None
            else ""
        ),
        "time_left": (
            _("%(seconds)s s") % {"seconds": int(left.to_integral_value(ROUND_HALF_UP))}
            if left is not None
            else ""
        ),
    }


def plan_version_is(*, cycle: OrderCycle, version: int | None) -> bool:
    """Whether the cycle's plan is at ``version`` (``None``: the page showed no plan)."""
    current = DeliveryPlan.objects.filter(cycle=cycle).values_list("version", flat=True).first()
    return current == version
