"""A driver's route as a sheet: what to load, where to go, what to drop; on screen, PDF and GPX.

The reads here (selectors) turn a stored route into plain values the page, the printable A4
sheet and the GPX track share. Stored manifests are JSON written by the plan computation;
they are read defensively (a missing or mistyped field shows as empty, never as an error),
because no stored state may break the page a driver depends on.

Privacy: a household's short name ("Camille D.") is shown to the route's own driver only,
who hands the baskets over; anyone else opening the sheet (a coordinator) sees references.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus.flowables import Flowable

from logistics.checkoffs import CHECKED_KINDS, user_may_follow_territory
from logistics.models import (
    DeliveryPlan,
    PlanRoute,
    PlanStatus,
    PlanStop,
    StopKind,
    StopStatus,
)
from marche.accounts.models import Role, User
from marche.canteens.models import CanteenOrderLine
from marche.catalog.models import Allergen
from marche.core.pdf import FONT, FONT_BOLD, NumberedCanvas, Table, sample_styles
from marche.orders.display import format_quantity

# A French number ("06 12 34 56 78", "+33 6 12 34 56 78") or another country's in international
# form ("+32 470 12 34 56"): what the places' phone field accepts, found inside a contact.
PHONE = re.compile(r"(?:\+33\s?|0)[1-9](?:[\s.-]?[0-9]{2}){4}|\+[1-9][0-9 .]{4,}[0-9]")
GPX_NS = "http://www.topografix.com/GPX/1/1"
GREEN = colors.HexColor("#2f6b3a")


# --- reading stored JSON without trusting it ---------------------------------------------------


def _text(value: object, limit: int = 200) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value)[:limit]


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float | str | Decimal):
        try:
            return max(int(Decimal(str(value))), 0)
        except (InvalidOperation, ValueError, OverflowError):
            return 0
    return 0


def _kg(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return Decimal("0")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return Decimal("0")
    if not number.is_finite() or number < 0 or number > 1_000_000:
        return Decimal("0")
    return number.quantize(Decimal("0.1"))


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _quantity(value: object) -> str:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return format_quantity(_kg(value)) if _kg(value) else _text(value)
    return _text(value, 60)


def kg_label(value: Decimal) -> str:
    """A weight as a French reader writes it: "12,5 kg"."""
    return f"{format_quantity(value)} kg"


# --- the sheet ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemLine:
    name: str
    quantity: str
    cold: bool


@dataclass(frozen=True)
class OrderDrop:
    """One household order to drop: its reference, and its short name for the driver only."""

    reference: str
    customer: str
    baskets: int
    lines: int
    kg: Decimal
    cold_items: int
    items: tuple[ItemLine, ...]
    delivered: int | None


@dataclass(frozen=True)
class LoadLine:
    """One destination's goods loaded at the depot, in loading order."""

    place: str
    name: str
    crates: int
    kg: Decimal
    cold_items: int


@dataclass(frozen=True)
class CollectLine:
    """Goods collected at a farm for one destination."""

    destination: str
    name: str
    kg: Decimal
    cold_items: int


@dataclass(frozen=True)
class CanteenLineDrop:
    """One line of a canteen's order to drop, with its allergens and what was recorded."""

    id: int
    producer: str
    name: str
    quantity: str
    due: Decimal
    unit: str
    cold: bool
    allergens: tuple[str, ...]
    delivered: Decimal | None = None
    reason: str = ""

    @property
    def allergens_label(self) -> str:
        """The allergens in French words, or that it holds none of the 14."""
        return ", ".join(self.allergens) if self.allergens else _("aucun des 14 allergènes")

    @property
    def value(self) -> str:
        """What the delivered field shows: the recorded quantity, else the one due."""
        return format_quantity(self.delivered if self.delivered is not None else self.due)


@dataclass(frozen=True)
class CanteenDrop:
    """A canteen order dropped at a stop, within its reception window."""

    order_id: int
    reference: str
    window: str
    lines: tuple[CanteenLineDrop, ...]
    received_by: str = ""
    recorded: bool = False


@dataclass(frozen=True)
class StopLine:
    id: int
    position: int
    number: int
    kind: str
    kind_label: str
    place: str
    name: str
    address: str
    contact: str
    phone_uri: str
    latitude: Decimal | None
    longitude: Decimal | None
    eta: datetime
    window_end: datetime | None
    status: str
    status_label: str
    checked_at: datetime | None
    note: str
    orders: tuple[OrderDrop, ...]
    collect: tuple[CollectLine, ...]
    crates: int
    baskets: int
    kg: Decimal
    cold_items: int
    # Farms' goods collected on the round and dropped here (name = the farm's).
    from_farms: tuple[CollectLine, ...] = ()
    window_start: datetime | None = None
    canteen: CanteenDrop | None = None

    @property
    def is_checkable(self) -> bool:
        return self.kind in CHECKED_KINDS

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def geo_uri(self) -> str:
        return f"geo:{self.latitude},{self.longitude}" if self.has_coordinates else ""

    @property
    def osm_url(self) -> str:
        if not self.has_coordinates:
            return ""
        lat, lon = self.latitude, self.longitude
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"

    @property
    def kg_label(self) -> str:
        return kg_label(self.kg)

    @property
    def phone(self) -> str:
        """The phone number found in the contact, as written there."""
        match = PHONE.search(self.contact)
        return match.group(0) if match else ""


@dataclass(frozen=True)
class RouteSheet:
    route: PlanRoute
    plan: DeliveryPlan
    delivery_date: date
    zone: ZoneInfo
    vehicle_name: str
    driver_name: str
    show_customers: bool
    stops: tuple[StopLine, ...]
    load_in_order: tuple[LoadLine, ...]

    @property
    def checkable(self) -> tuple[StopLine, ...]:
        return tuple(stop for stop in self.stops if stop.is_checkable)

    @property
    def pickups(self) -> tuple[StopLine, ...]:
        return tuple(stop for stop in self.stops if stop.kind == StopKind.PICKUP)

    @property
    def done(self) -> int:
        return sum(1 for stop in self.checkable if stop.status != StopStatus.PLANNED)

    @property
    def total(self) -> int:
        return len(self.checkable)

    @property
    def load_crates(self) -> int:
        return sum(line.crates for line in self.load_in_order)

    @property
    def load_kg(self) -> Decimal:
        return sum((line.kg for line in self.load_in_order), Decimal("0"))

    @property
    def load_cold(self) -> int:
        return sum(line.cold_items for line in self.load_in_order)


def _phone_uri(contact: str) -> str:
    match = PHONE.search(contact)
    if match is None:
        return ""
    digits = re.sub(r"[^0-9+]", "", match.group(0))
    return f"tel:{digits}"


def _orders(manifest: dict[str, Any], *, show_customers: bool, delivered: object) -> tuple:
    corrected = delivered if isinstance(delivered, dict) else {}
    drops = []
    for order in _dicts(manifest.get("orders")):
        reference = _text(order.get("reference"), 40)
        count = corrected.get(reference)
        drops.append(
            OrderDrop(
                reference=reference,
                customer=_text(order.get("customer"), 80) if show_customers else "",
                baskets=_int(order.get("baskets")),
                lines=_int(order.get("lines")),
                kg=_kg(order.get("kg")),
                cold_items=_int(order.get("cold_items")),
                items=tuple(
                    ItemLine(
                        name=_text(item.get("name"), 150),
                        quantity=_quantity(item.get("quantity")),
                        cold=item.get("cold") is True,
                    )
                    for item in _dicts(order.get("items"))
                ),
                delivered=count if isinstance(count, int) and not isinstance(count, bool) else None,
            )
        )
    return tuple(drops)


def _collect(manifest: dict[str, Any]) -> tuple[CollectLine, ...]:
    return tuple(
        CollectLine(
            destination=_text(line.get("destination"), 120),
            name=_text(line.get("name"), 150) or _text(line.get("destination"), 120),
            kg=_kg(line.get("kg")),
            cold_items=_int(line.get("cold_items")),
        )
        for line in _dicts(manifest.get("collect"))
    )


def _from_farms(manifest: dict[str, Any]) -> tuple[CollectLine, ...]:
    return tuple(
        CollectLine(
            destination=_text(line.get("farm"), 120),
            name=_text(line.get("name"), 150) or _text(line.get("farm"), 120),
            kg=_kg(line.get("kg")),
            cold_items=_int(line.get("cold_items")),
        )
        for line in _dicts(manifest.get("from_farms"))
    )


def load_lines(manifest: dict[str, Any], stops: list[PlanStop]) -> tuple[LoadLine, ...]:
    """The depot's loading order; an entry that is only a place key is filled from its stop.

    The one source of a route's load leaving the depot: the driver's loading list, the
    route sheet and the plan page (``route_load_kg``) all add these lines.
    """
    by_place = {stop.place: stop for stop in stops}
    lines = []
    entries = manifest.get("load_in_order") if isinstance(manifest, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str):
            stop = by_place.get(entry)
            data = stop.manifest if stop is not None and isinstance(stop.manifest, dict) else {}
            entry = {"place": entry, "name": stop.name if stop else "", **data}
        if not isinstance(entry, dict):
            continue
        place = _text(entry.get("place"), 120)
        stop = by_place.get(place)
        lines.append(
            LoadLine(
                place=place,
                name=_text(entry.get("name"), 150) or (stop.name if stop else "") or place,
                crates=_int(entry.get("crates")),
                kg=_kg(entry.get("kg")),
                cold_items=_int(entry.get("cold_items")),
            )
        )
    return tuple(lines)


def route_load_kg(stops: list[PlanStop]) -> Decimal:
    """The kg a route loads at the depot: its loading list's total (its start stop's)."""
    start = next((stop for stop in stops if stop.kind == StopKind.DEPOT_START), None)
    if start is None or not isinstance(start.manifest, dict):
        return Decimal("0")
    return sum((line.kg for line in load_lines(start.manifest, stops)), Decimal("0"))


ALLERGEN_NAMES = dict(Allergen.choices)


def _canteen_order_id(stop: PlanStop) -> int | None:
    manifest = stop.manifest if isinstance(stop.manifest, dict) else {}
    entry = manifest.get("canteen_order")
    order_id = entry.get("id") if isinstance(entry, dict) else None
    return order_id if isinstance(order_id, int) and not isinstance(order_id, bool) else None


def _canteen_lines(stops: list[PlanStop]) -> dict[int, dict[str, Any]]:
    """Per canteen line id of the stops, its quantity due and what was recorded; one query."""
    order_ids = {i for i in (_canteen_order_id(s) for s in stops) if i is not None}
    if not order_ids:
        return {}
    rows = CanteenOrderLine.objects.filter(order_id__in=order_ids).values(
        "id",
        "quantity_ordered",
        "quantity_confirmed",
        "quantity_delivered",
        "shortfall_reason",
        "order__received_by",
        "order__delivered_at",
    )
    return {row["id"]: row for row in rows}


def _canteen(manifest: dict[str, Any], recorded: dict[int, dict[str, Any]]) -> CanteenDrop | None:
    entry = manifest.get("canteen_order")
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), int):
        return None
    window = entry.get("window")
    lines = []
    received_by, delivered_at = "", None
    for line in _dicts(entry.get("lines")):
        line_id = line.get("id")
        if not isinstance(line_id, int) or isinstance(line_id, bool):
            continue
        row = recorded.get(line_id, {})
        due = row.get("quantity_confirmed")
        if due is None:
            due = row.get("quantity_ordered")
        received_by = row.get("order__received_by") or received_by
        delivered_at = row.get("order__delivered_at") or delivered_at
        codes = line.get("allergens") if isinstance(line.get("allergens"), list) else []
        lines.append(
            CanteenLineDrop(
                id=line_id,
                producer=_text(line.get("producer"), 150),
                name=_text(line.get("name"), 250),
                quantity=_text(line.get("quantity_label"), 60),
                due=due if due is not None else _kg(line.get("quantity")),
                unit=_text(line.get("unit"), 10),
                cold=line.get("cold") is True,
                allergens=tuple(
                    str(ALLERGEN_NAMES[code]) for code in codes if code in ALLERGEN_NAMES
                ),
                delivered=row.get("quantity_delivered"),
                reason=row.get("shortfall_reason") or "",
            )
        )
    return CanteenDrop(
        order_id=entry["id"],
        reference=_text(entry.get("reference"), 40),
        window="–".join(_text(part, 5) for part in window) if isinstance(window, list) else "",
        lines=tuple(lines),
        received_by=received_by,
        recorded=delivered_at is not None,
    )


def _stop_line(
    stop: PlanStop,
    number: int,
    zone: ZoneInfo,
    show_customers: bool,
    canteen_lines: dict[int, dict[str, Any]] | None = None,
) -> StopLine:
    manifest = stop.manifest if isinstance(stop.manifest, dict) else {}
    orders = _orders(manifest, show_customers=show_customers, delivered=stop.delivered)
    collect = _collect(manifest)
    name = stop.name or _text(manifest.get("name"), 150) or stop.place
    return StopLine(
        id=stop.pk,
        position=stop.position,
        number=number,
        kind=stop.kind,
        kind_label=str(StopKind(stop.kind).label) if stop.kind in StopKind.values else stop.kind,
        place=stop.place,
        name=name,
        address=stop.address,
        contact=stop.contact,
        phone_uri=_phone_uri(stop.contact),
        latitude=stop.latitude,
        longitude=stop.longitude,
        eta=stop.eta.astimezone(zone),
        window_end=stop.window_end.astimezone(zone) if stop.window_end else None,
        status=stop.status,
        status_label=(
            str(StopStatus(stop.status).label) if stop.status in StopStatus.values else ""
        ),
        checked_at=stop.checked_at.astimezone(zone) if stop.checked_at else None,
        note=stop.note,
        orders=orders,
        collect=collect,
        crates=_int(manifest.get("crates")) or len(orders),
        baskets=_int(manifest.get("baskets")),
        kg=_kg(manifest.get("kg")),
        cold_items=_int(manifest.get("cold_items")),
        from_farms=_from_farms(manifest),
        window_start=stop.window_start.astimezone(zone) if stop.window_start else None,
        canteen=_canteen(manifest, canteen_lines or {}),
    )


def _routes() -> QuerySet[PlanRoute]:
    return PlanRoute.objects.select_related(
        "vehicle", "driver", "plan__cycle__territory"
    ).prefetch_related(Prefetch("stops", queryset=PlanStop.objects.order_by("position")))


def route_sheet(*, route_id: int, viewer: User) -> RouteSheet | None:
    """The route as its sheet, if ``viewer`` may open it; else None (the page answers 404).

    Its driver opens it once its plan is published; coordinators of its territory (and
    superusers) open any route, draft or published, without the households' names.
    """
    route = _routes().filter(pk=route_id).first()
    if route is None:
        return None
    plan = route.plan
    is_driver = (
        viewer.is_authenticated
        and viewer.role == Role.DRIVER
        and route.driver_id == viewer.pk
        and plan.status == PlanStatus.PUBLISHED
    )
    territory = plan.cycle.territory
    if not is_driver and not user_may_follow_territory(user=viewer, territory_id=territory.pk):
        return None
    zone = ZoneInfo(territory.timezone)
    stops = list(route.stops.all())
    depot_start = next((s for s in stops if s.kind == StopKind.DEPOT_START), None)
    lines = []
    number = 0
    canteen_lines = _canteen_lines(stops)
    for stop in stops:
        if stop.kind in CHECKED_KINDS:
            number += 1
        lines.append(_stop_line(stop, number, zone, is_driver, canteen_lines))
    return RouteSheet(
        route=route,
        plan=plan,
        delivery_date=plan.cycle.delivery_date,
        zone=zone,
        vehicle_name=route.vehicle.name,
        driver_name=route.driver.get_full_name() if route.driver else "",
        show_customers=is_driver,
        stops=tuple(lines),
        load_in_order=load_lines(depot_start.manifest if depot_start else {}, stops),
    )


@dataclass(frozen=True)
class RouteSummary:
    route: PlanRoute
    delivery_date: date
    done: int
    total: int
    first_eta: datetime | None


def routes_for_user(*, user: User, today: date) -> list[RouteSummary]:
    """The rounds of today and the next days the user may open, earliest first.

    A driver sees the published routes they drive; a coordinator those of their territory
    (superusers: all). One query, whatever the number of routes.
    """
    routes = (
        PlanRoute.objects.filter(plan__status=PlanStatus.PUBLISHED)
        .filter(plan__cycle__delivery_date__gte=today)
        .select_related("vehicle", "driver", "plan__cycle__territory")
        .annotate(
            done=Count(
                "stops",
                filter=Q(stops__kind__in=CHECKED_KINDS) & ~Q(stops__status=StopStatus.PLANNED),
            ),
            total=Count("stops", filter=Q(stops__kind__in=CHECKED_KINDS)),
            first_eta=Max("stops__eta", filter=Q(stops__kind=StopKind.DEPOT_START)),
        )
        .order_by("plan__cycle__delivery_date", "first_eta", "position", "pk")
    )
    if user.role == Role.DRIVER and not user.is_superuser:
        routes = routes.filter(driver=user)
    elif not user.is_superuser and user.territory_id is not None:
        routes = routes.filter(plan__cycle__territory_id=user.territory_id)
    return [
        RouteSummary(
            route=route,
            delivery_date=route.plan.cycle.delivery_date,
            done=route.done,
            total=route.total,
            first_eta=(
                route.first_eta.astimezone(ZoneInfo(route.plan.cycle.territory.timezone))
                if route.first_eta
                else None
            ),
        )
        for route in routes
    ]


# --- progress for the coordinators ----------------------------------------------------------


def plan_progress(*, plan: DeliveryPlan) -> list[dict[str, Any]]:
    """Per route: stops delivered, in trouble and in all, start, end, last check-off time."""
    routes = (
        PlanRoute.objects.filter(plan=plan)
        .select_related("vehicle", "driver")
        .annotate(
            delivered=Count(
                "stops",
                filter=Q(stops__kind__in=CHECKED_KINDS, stops__status=StopStatus.DELIVERED),
                distinct=True,
            ),
            problems=Count(
                "stops",
                filter=Q(stops__kind__in=CHECKED_KINDS, stops__status=StopStatus.PROBLEM),
                distinct=True,
            ),
            total=Count("stops", filter=Q(stops__kind__in=CHECKED_KINDS), distinct=True),
            last_checkoff_at=Max("stops__checkoffs__recorded_at"),
        )
        .order_by("position", "pk")
    )
    return [
        {
            "route_id": route.pk,
            "position": route.position,
            "vehicle": route.vehicle.name,
            "driver": route.driver.get_full_name() if route.driver else "",
            "delivered": route.delivered,
            "problems": route.problems,
            "total": route.total,
            "started_at": route.started_at,
            "finished_at": route.finished_at,
            "last_checkoff_at": route.last_checkoff_at,
        }
        for route in routes
    ]


# --- PDF ---------------------------------------------------------------------------------------


class _Box(Flowable):
    """An empty square to tick with a pen."""

    def __init__(self, size: float = 5 * mm) -> None:
        super().__init__()
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        self.canv.setStrokeColor(colors.black)
        self.canv.setLineWidth(0.8)
        self.canv.rect(0, 0, self.size, self.size)


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _styles() -> dict[str, ParagraphStyle]:
    base = sample_styles()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=16, textColor=GREEN),
        "sub": ParagraphStyle("s", parent=base["Normal"], fontSize=10, spaceAfter=4),
        "h": ParagraphStyle("h", parent=base["Heading3"], fontSize=11, spaceBefore=8),
        "cell": ParagraphStyle("c", parent=base["Normal"], fontSize=8.5, leading=10.5),
        "bold": ParagraphStyle(
            "b", parent=base["Normal"], fontSize=9.5, leading=11.5, fontName=FONT_BOLD
        ),
    }


def _cold(count: int) -> str:
    return f" <b>[{_esc(_('FROID'))} : {count}]</b>" if count else ""


def _table(data: list[list[object]], widths: list[float]) -> Table:
    # splitInRow: a stop of many orders may be taller than a page; its row then goes on
    # over the next page instead of failing the whole sheet.
    table = Table(data, colWidths=widths, repeatRows=1, splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), FONT_BOLD, 8.5),
                ("FONT", (0, 1), (-1, -1), FONT, 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4efe0")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa89a")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _stop_manifest(stop: StopLine, styles: dict[str, ParagraphStyle]) -> list[Paragraph]:
    parts = []
    if stop.kind == StopKind.PICKUP:
        for line in stop.collect:
            parts.append(
                Paragraph(
                    _esc(
                        _("Collecter pour %(name)s : %(kg)s")
                        % {"name": line.name, "kg": kg_label(line.kg)}
                    )
                    + _cold(line.cold_items),
                    styles["cell"],
                )
            )
    for order in stop.orders:
        who = f"{order.reference} — {order.customer}" if order.customer else order.reference
        summary = _("%(baskets)s panier(s), %(kg)s") % {
            "baskets": order.baskets,
            "kg": kg_label(order.kg),
        }
        parts.append(
            Paragraph(
                f"<b>{_esc(who)}</b> : {_esc(summary)}" + _cold(order.cold_items), styles["cell"]
            )
        )
        for item in order.items:
            cold = f" <b>[{_esc(_('FROID'))}]</b>" if item.cold else ""
            parts.append(
                Paragraph(
                    f"&nbsp;&nbsp;– {_esc(item.quantity)} {_esc(item.name)}{cold}", styles["cell"]
                )
            )
    if stop.canteen is not None:
        parts += _canteen_manifest(stop.canteen, styles)
    for line in stop.from_farms:
        parts.append(
            Paragraph(
                _esc(
                    _("Déposer les produits de %(name)s : %(kg)s")
                    % {"name": line.name, "kg": kg_label(line.kg)}
                )
                + _cold(line.cold_items),
                styles["cell"],
            )
        )
    if (
        stop.kind == StopKind.DELIVERY
        and not stop.orders
        and stop.canteen is None
        and (stop.crates or not stop.from_farms)
    ):
        parts.append(
            Paragraph(
                _esc(
                    ngettext("%(crates)s caisse, %(kg)s", "%(crates)s caisses, %(kg)s", stop.crates)
                    % {"crates": stop.crates, "kg": stop.kg_label}
                )
                + _cold(stop.cold_items),
                styles["cell"],
            )
        )
    return parts


def _canteen_manifest(canteen: CanteenDrop, styles: dict[str, ParagraphStyle]) -> list[Paragraph]:
    """A canteen's order on the sheet: its window, then each line with its allergens."""
    head = _("Cantine, commande %(reference)s — créneau %(window)s") % {
        "reference": canteen.reference,
        "window": canteen.window,
    }
    parts = [Paragraph(f"<b>{_esc(head)}</b>", styles["cell"])]
    for line in canteen.lines:
        cold = f" <b>[{_esc(_('FROID'))}]</b>" if line.cold else ""
        allergens = _("allergènes : %(list)s") % {"list": line.allergens_label}
        parts.append(
            Paragraph(
                f"&nbsp;&nbsp;– {_esc(line.quantity)} {_esc(line.name)} ({_esc(line.producer)})"
                f"{cold}<br/>&nbsp;&nbsp;&nbsp;&nbsp;<i>{_esc(allergens)}</i>",
                styles["cell"],
            )
        )
    return parts


def route_sheet_pdf(sheet: RouteSheet) -> bytes:
    """The printable A4 route sheet: what to load, then each stop with boxes to tick."""
    styles = _styles()
    day = date_format(sheet.delivery_date, "l j F Y")
    title = _("Feuille de route — %(vehicle)s — %(day)s") % {
        "vehicle": sheet.vehicle_name,
        "day": day,
    }
    route = sheet.route
    facts = _("Chauffeur : %(driver)s · %(km)s km · %(minutes)s min · cycle %(cycle)s") % {
        "driver": sheet.driver_name or _("non affecté"),
        "km": format_quantity(route.km.quantize(Decimal("0.1"))),
        "minutes": route.duration_min,
        "cycle": sheet.plan.cycle.name,
    }
    story: list[Flowable] = [
        Paragraph(_esc(title), styles["title"]),
        Paragraph(_esc(facts), styles["sub"]),
    ]
    if sheet.load_in_order:
        story.append(
            Paragraph(_esc(_("À charger au dépôt (premier chargé = dernier livré)")), styles["h"])
        )
        data: list[list[object]] = [
            ["", _("Ordre"), _("Pour"), _("Caisses"), _("Poids"), _("Froid")]
        ]
        for index, line in enumerate(sheet.load_in_order, start=1):
            data.append(
                [
                    _Box(),
                    str(index),
                    Paragraph(_esc(line.name), styles["cell"]),
                    str(line.crates),
                    kg_label(line.kg),
                    _("FROID : %(n)s") % {"n": line.cold_items} if line.cold_items else "",
                ]
            )
        story.append(_table(data, [9 * mm, 13 * mm, 80 * mm, 20 * mm, 25 * mm, 33 * mm]))
    story.append(Paragraph(_esc(_("Étapes")), styles["h"]))
    data = [[_("Fait"), "#", _("Heure"), _("Lieu"), _("À déposer / collecter"), _("Problème")]]
    for stop in sheet.stops:
        place = [Paragraph(f"<b>{_esc(stop.name)}</b>", styles["cell"])]
        if stop.address:
            place.append(Paragraph(_esc(stop.address), styles["cell"]))
        if stop.contact:
            place.append(Paragraph(_esc(stop.contact), styles["cell"]))
        if stop.is_checkable and stop.window_start and stop.window_end:
            window = _("Créneau : %(start)s–%(end)s") % {
                "start": stop.window_start.strftime("%H:%M"),
                "end": stop.window_end.strftime("%H:%M"),
            }
            place.append(Paragraph(f"<b>{_esc(window)}</b>", styles["cell"]))
        if not stop.is_checkable:
            place.insert(
                0,
                Paragraph(_esc(stop.kind_label[:1].upper() + stop.kind_label[1:]), styles["cell"]),
            )
        data.append(
            [
                _Box() if stop.is_checkable else "",
                str(stop.number) if stop.is_checkable else "",
                stop.eta.strftime("%H:%M"),
                place,
                _stop_manifest(stop, styles),
                _Box() if stop.is_checkable else "",
            ]
        )
    story.append(_table(data, [11 * mm, 8 * mm, 13 * mm, 58 * mm, 72 * mm, 18 * mm]))
    story += [
        Spacer(1, 8 * mm),
        Paragraph(_esc(_("Notes et signature du chauffeur :")), styles["bold"]),
        Spacer(1, 25 * mm),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="Marché local",
        lang=translation.get_language() or "fr",
    )
    printed = date_format(timezone.localtime(), "d/m/Y H:i")
    footer = _("%(title)s · imprimée le %(at)s") % {"title": title, "at": printed}
    doc.build(story, canvasmaker=lambda *a, **k: NumberedCanvas(*a, footer=footer, **k))
    return buffer.getvalue()


# --- GPX ---------------------------------------------------------------------------------------


def route_gpx(sheet: RouteSheet) -> bytes:
    """The route as GPX 1.1: a waypoint per stop in order, and the same points as a route.

    Written with the standard library's ElementTree (no dependency). Stops without
    coordinates are left out. Names carry the stop number, as on the sheet.
    """
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "Marché local"})
    metadata = ET.SubElement(root, f"{{{GPX_NS}}}metadata")
    title = f"{sheet.vehicle_name} — {sheet.delivery_date.isoformat()}"
    ET.SubElement(metadata, f"{{{GPX_NS}}}name").text = title
    ET.SubElement(metadata, f"{{{GPX_NS}}}time").text = (
        (sheet.plan.published_at or sheet.plan.solved_at or timezone.now())
        .astimezone(ZoneInfo("UTC"))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    points = [stop for stop in sheet.stops if stop.has_coordinates]

    def label(stop: StopLine) -> str:
        return (
            f"{stop.number}. {stop.name}"
            if stop.is_checkable
            else f"{stop.kind_label} — {stop.name}"
        )

    def fill(element: ET.Element, stop: StopLine) -> None:
        ET.SubElement(element, f"{{{GPX_NS}}}time").text = stop.eta.astimezone(
            ZoneInfo("UTC")
        ).strftime("%Y-%m-%dT%H:%M:%SZ")
        ET.SubElement(element, f"{{{GPX_NS}}}name").text = label(stop)
        if stop.address:
            ET.SubElement(element, f"{{{GPX_NS}}}desc").text = stop.address
        ET.SubElement(element, f"{{{GPX_NS}}}type").text = stop.kind

    for stop in points:
        wpt = ET.SubElement(
            root, f"{{{GPX_NS}}}wpt", {"lat": str(stop.latitude), "lon": str(stop.longitude)}
        )
        fill(wpt, stop)
    rte = ET.SubElement(root, f"{{{GPX_NS}}}rte")
    ET.SubElement(rte, f"{{{GPX_NS}}}name").text = title
    for stop in points:
        point = ET.SubElement(
            rte, f"{{{GPX_NS}}}rtept", {"lat": str(stop.latitude), "lon": str(stop.longitude)}
        )
        fill(point, stop)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
