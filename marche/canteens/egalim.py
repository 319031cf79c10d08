"""A canteen's EGalim shares for a calendar year, from what it was delivered.

The EGalim law asks every public canteen for 50 % "sustainable and quality" products, of
which 20 % organic, by purchase value excluding VAT. A purchase is a ``CanteenOrderLine``:

- its value is ``quantity_delivered × unit_price_ht`` rounded to the cent (as on the
  invoice); a line with nothing delivered, or of a cancelled order, counts for nothing;
- its labels are the snapshot taken at the sale (``CanteenOrderLine.labels``): a label that
  lapsed afterwards still counts, one obtained afterwards does not;
- it counts once, under its highest label (``marche.catalog.models.egalim_best_label``):
  bio, then SIQO, then the other EGalim labels, then "externalités / performance";
- its date is the order's delivery date.

"Local" and "circuit court" are shown apart and count for nothing toward the 50 %; they
follow the definitions the "ma cantine" export writes (see ``marche.canteens.macantine``):
a purchase is *circuit court* when it is bought straight from the producer or its
collective, *local* when the producer is in the canteen's département.

Sums are exact ``Decimal``; a share is a ratio kept exact to the context's precision and
rounded only for display (down, to a tenth of a percent, so that a share shown as meeting a
target meets it). Whether a target is met is decided on the exact values.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from marche.accounts.models import Role, User
from marche.canteens.models import Canteen, CanteenOrderLine, CanteenOrderStatus
from marche.catalog.models import EgalimLabel, EgalimTier, ProductFamily, egalim_best_label
from marche.errors import DomainError
from marche.money import round_money
from marche.producers.models import ProducerKind

ZERO = Decimal("0")
HUNDRED = Decimal("100")
TENTH = Decimal("0.1")
# The law's targets, in percent of the year's purchases excluding VAT.
ORGANIC_TARGET = Decimal("20")
EGALIM_TARGET = Decimal("50")
# The years a dashboard may be asked for: nothing was sold before, nobody plans further.
FIRST_YEAR = 2019
LAST_YEAR = 2100


class InvalidYear(DomainError):
    code = "invalid_year"
    default_message = _("Choisissez une année entre 2019 et 2100, par exemple 2026.")


def parse_year(text: str | None, *, default: int) -> int:
    """The year a page asks for (``?annee=2026``); ``default`` when none is given."""
    text = (text or "").strip()
    if not text:
        return default
    if len(text) != 4 or not text.isascii() or not text.isdigit():
        raise InvalidYear()
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidYear()
    return year


# The tiers shown, highest first; ``None`` gathers the purchases without any EGalim label.
TIER_KEYS: dict[EgalimTier | None, str] = {
    EgalimTier.ORGANIC: "bio",
    EgalimTier.SIQO: "siqo",
    EgalimTier.OTHER: "autres",
    EgalimTier.EXTERNALITIES: "externalites",
    None: "aucun",
}
TIER_NAMES = {
    EgalimTier.ORGANIC: _("Bio"),
    EgalimTier.SIQO: _("SIQO (Label Rouge, AOC/AOP, IGP, STG)"),
    EgalimTier.OTHER: _("Autres labels EGalim"),
    EgalimTier.EXTERNALITIES: _("Externalités / performance"),
    None: _("Sans label EGalim"),
}
# Producers a canteen buys from directly: a farm, a micro-farm, or a collective of farms.
SHORT_CIRCUIT_KINDS = frozenset(ProducerKind.values)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole``, unrounded; None when there is no whole."""
    if whole <= 0:
        return None
    return part * HUNDRED / whole


def percent_shown(value: Decimal | None) -> Decimal | None:
    """A percentage as shown: down to the tenth, so that it never reads higher than it is."""
    if value is None:
        return None
    return value.quantize(TENTH, rounding=ROUND_DOWN)


def departement_of(postcode: str) -> str:
    """The département a French postcode belongs to ("62750" → "62"); "" when unknown.

    Overseas départements have three digits (971…976); Corsica's postcodes start with 20:
    200xx and 201xx are Corse-du-Sud (2A), the others Haute-Corse (2B).
    """
    code = (postcode or "").strip().replace(" ", "")
    if len(code) != 5 or not code.isascii() or not code.isdigit():
        return ""
    if code.startswith(("97", "98")):
        return code[:3]
    if code.startswith("20"):
        return "2A" if code < "20200" else "2B"
    return code[:2]


def is_local(*, producer_postcode: str, canteen_postcode: str) -> bool:
    """Whether a purchase is local: the producer is in the canteen's département."""
    departement = departement_of(canteen_postcode)
    return bool(departement) and departement == departement_of(producer_postcode)


def is_short_circuit(*, producer_kind: str) -> bool:
    """Whether a purchase is "circuit court": bought from the producer or its collective.

    Every seller of the market is a farm, a micro-farm or a collective of farms, and it
    invoices the canteen itself: there is no intermediary between producer and canteen.
    """
    return producer_kind in SHORT_CIRCUIT_KINDS


def line_value(*, quantity_delivered: Decimal | None, unit_price_ht: Decimal) -> Decimal:
    """What a delivered line is worth excluding VAT, to the cent (0 when nothing arrived)."""
    if not quantity_delivered or quantity_delivered <= 0:
        return ZERO
    return round_money(quantity_delivered * unit_price_ht)


def purchase_tier(labels: list[str]) -> EgalimTier | None:
    """The tier a purchase counts under: that of its highest label; None without a label.

    Codes that are not EGalim labels (none should be stored) count for nothing rather than
    break a manager's page.
    """
    best = egalim_best_label(code for code in labels or () if code in EgalimLabel.values)
    return None if best is None else best.tier


@dataclass
class Figures:
    """Purchases of one scope (the year, or one product family), by tier, in euros HT."""

    total: Decimal = ZERO
    by_tier: dict[EgalimTier | None, Decimal] = field(
        default_factory=lambda: dict.fromkeys(TIER_KEYS, ZERO)
    )
    local: Decimal = ZERO
    short_circuit: Decimal = ZERO
    lines: int = 0

    def add(self, *, value: Decimal, tier: EgalimTier | None, local: bool, short: bool) -> None:
        self.total += value
        self.by_tier[tier] += value
        self.local += value if local else ZERO
        self.short_circuit += value if short else ZERO
        self.lines += 1

    @property
    def organic(self) -> Decimal:
        """What counts toward the 20 % organic target."""
        return self.by_tier[EgalimTier.ORGANIC]

    @property
    def egalim(self) -> Decimal:
        """What counts toward the 50 % target: every purchase under some EGalim label."""
        return self.total - self.by_tier[None]

    @property
    def organic_percent(self) -> Decimal | None:
        return percent(self.organic, self.total)

    @property
    def egalim_percent(self) -> Decimal | None:
        return percent(self.egalim, self.total)

    @property
    def organic_percent_shown(self) -> Decimal | None:
        return percent_shown(self.organic_percent)

    @property
    def egalim_percent_shown(self) -> Decimal | None:
        return percent_shown(self.egalim_percent)

    @property
    def local_percent_shown(self) -> Decimal | None:
        return percent_shown(percent(self.local, self.total))

    @property
    def short_circuit_percent_shown(self) -> Decimal | None:
        return percent_shown(percent(self.short_circuit, self.total))

    def tiers(self) -> list[TierRow]:
        """One row per tier, highest first, the purchases without label last."""
        return [
            TierRow(
                key=TIER_KEYS[tier],
                name=str(TIER_NAMES[tier]),
                value=value,
                percent=percent(value, self.total),
                counts_toward_egalim=tier is not None,
            )
            for tier, value in self.by_tier.items()
        ]


@dataclass(frozen=True)
class TierRow:
    key: str
    name: str
    value: Decimal
    percent: Decimal | None
    counts_toward_egalim: bool

    @property
    def percent_shown(self) -> Decimal | None:
        return percent_shown(self.percent)


@dataclass(frozen=True)
class FamilyRow:
    code: str
    name: str
    figures: Figures


@dataclass(frozen=True)
class Target:
    """A share of the year's purchases against the percentage it should reach."""

    name: str
    value: Decimal
    total: Decimal
    target: Decimal

    @property
    def percent(self) -> Decimal | None:
        return percent(self.value, self.total)

    @property
    def percent_shown(self) -> Decimal | None:
        return percent_shown(self.percent)

    @property
    def is_met(self) -> bool:
        """Reached, on exact values (no rounding): ``value / total ≥ target / 100``."""
        return self.total > 0 and self.value * HUNDRED >= self.target * self.total

    @property
    def missing(self) -> Decimal:
        """How many more euros HT under this heading would have met the target, all else equal.

        Buying ``x`` more labelled euros raises both the part and the whole:
        ``(v + x) / (t + x) = p`` gives ``x = (p·t − v) / (1 − p)``, rounded up to the cent.
        """
        if self.is_met or self.target >= HUNDRED:
            return ZERO
        share = self.target / HUNDRED
        needed = (share * self.total - self.value) / (1 - share)
        return needed.quantize(Decimal("0.01"), rounding=ROUND_UP)


@dataclass(frozen=True)
class EgalimReport:
    """A canteen's EGalim figures for one calendar year (purchases delivered that year)."""

    canteen: Canteen
    year: int
    figures: Figures
    families: list[FamilyRow]
    organic: Target
    organic_own: Target | None
    egalim: Target

    @property
    def total(self) -> Decimal:
        return self.figures.total

    @property
    def is_empty(self) -> bool:
        return self.figures.lines == 0

    def chart_data(self) -> dict[str, object]:
        """What the page's script draws: per family, the euros HT of each tier.

        Values are strings of the exact amounts (JSON numbers would go through floats here);
        the script turns them into numbers for the drawing only.
        """
        families = [row for row in self.families if row.figures.lines]
        return {
            "families": [row.name for row in families],
            "tiers": [
                {
                    "key": TIER_KEYS[tier],
                    "name": str(TIER_NAMES[tier]),
                    "values": [str(row.figures.by_tier[tier]) for row in families],
                }
                for tier in TIER_KEYS
            ],
        }


def year_bounds(year: int) -> tuple[date, date]:
    """The first day of a year and the first day of the next (the range is half-open)."""
    return date(year, 1, 1), date(year + 1, 1, 1)


def counted_lines(*, canteen: Canteen) -> QuerySet[CanteenOrderLine]:
    """A canteen's purchases that count: delivered (> 0), of orders not cancelled."""
    return _counted().filter(order__canteen=canteen)


def _counted() -> QuerySet[CanteenOrderLine]:
    return CanteenOrderLine.objects.filter(quantity_delivered__gt=0).exclude(
        order__status=CanteenOrderStatus.CANCELLED
    )


def _purchase(
    *,
    quantity: Decimal,
    price: Decimal,
    labels: list[str],
    producer_postcode: str,
    producer_kind: str,
    canteen_postcode: str,
) -> dict[str, object]:
    """What one delivered line adds to a ``Figures``."""
    return {
        "value": line_value(quantity_delivered=quantity, unit_price_ht=price),
        "tier": purchase_tier(labels),
        "local": is_local(producer_postcode=producer_postcode, canteen_postcode=canteen_postcode),
        "short": is_short_circuit(producer_kind=producer_kind),
    }


def egalim_year(*, canteen: Canteen, year: int) -> EgalimReport:
    """A canteen's EGalim report for a calendar year, in one query whatever its size."""
    start, end = year_bounds(year)
    rows = (
        counted_lines(canteen=canteen)
        .filter(order__delivery_date__gte=start, order__delivery_date__lt=end)
        .values_list(
            "quantity_delivered",
            "unit_price_ht",
            "labels",
            "family",
            "producer__postcode",
            "producer__kind",
        )
        .order_by()
    )
    year_figures = Figures()
    family_figures: dict[str, Figures] = defaultdict(Figures)
    for quantity, price, labels, family, producer_postcode, producer_kind in rows:
        purchase = _purchase(
            quantity=quantity,
            price=price,
            labels=labels,
            producer_postcode=producer_postcode,
            producer_kind=producer_kind,
            canteen_postcode=canteen.postcode,
        )
        year_figures.add(**purchase)  # type: ignore[arg-type]
        code = family if family in ProductFamily.values else ProductFamily.OTHER.value
        family_figures[code].add(**purchase)  # type: ignore[arg-type]
    families = [
        FamilyRow(code=code, name=str(name), figures=family_figures.get(code) or Figures())
        for code, name in ProductFamily.choices
    ]
    own_target = canteen.organic_target_percent
    return EgalimReport(
        canteen=canteen,
        year=year,
        figures=year_figures,
        families=families,
        organic=Target(
            name=str(_("Bio")),
            value=year_figures.organic,
            total=year_figures.total,
            target=ORGANIC_TARGET,
        ),
        organic_own=(
            Target(
                name=str(_("Bio, objectif de la cantine")),
                value=year_figures.organic,
                total=year_figures.total,
                target=own_target,
            )
            if own_target is not None and own_target != ORGANIC_TARGET
            else None
        ),
        egalim=Target(
            name=str(_("EGalim (tous labels)")),
            value=year_figures.egalim,
            total=year_figures.total,
            target=EGALIM_TARGET,
        ),
    )


def egalim_overview(*, canteens: list[Canteen], year: int) -> list[tuple[Canteen, Figures]]:
    """Each canteen's figures for a year (no detail per family), in one query for them all."""
    start, end = year_bounds(year)
    rows = (
        _counted()
        .filter(
            order__canteen__in=canteens,
            order__delivery_date__gte=start,
            order__delivery_date__lt=end,
        )
        .values_list(
            "order__canteen_id",
            "quantity_delivered",
            "unit_price_ht",
            "labels",
            "producer__postcode",
            "producer__kind",
        )
        .order_by()
    )
    figures = {canteen.pk: Figures() for canteen in canteens}
    postcodes = {canteen.pk: canteen.postcode for canteen in canteens}
    for canteen_id, quantity, price, labels, producer_postcode, producer_kind in rows:
        purchase = _purchase(
            quantity=quantity,
            price=price,
            labels=labels,
            producer_postcode=producer_postcode,
            producer_kind=producer_kind,
            canteen_postcode=postcodes[canteen_id],
        )
        figures[canteen_id].add(**purchase)  # type: ignore[arg-type]
    return [(canteen, figures[canteen.pk]) for canteen in canteens]


def egalim_canteens_for(*, user: User) -> list[Canteen]:
    """The canteens whose dashboards a coordinator (of a territory, or of all) may open."""
    canteens = Canteen.objects.select_related("territory").order_by("territory__name", "name")
    if user.is_superuser or (user.role == Role.COORDINATOR and user.territory_id is None):
        return list(canteens)
    if user.role == Role.COORDINATOR:
        return list(canteens.filter(territory_id=user.territory_id))
    return list(canteens.filter(managers=user))


def egalim_years(*, canteen: Canteen, around: int) -> list[int]:
    """The years to offer in the year switch: those with purchases, and ``around``."""
    years = {
        day.year
        for day in counted_lines(canteen=canteen).dates("order__delivery_date", "year")
        if FIRST_YEAR <= day.year <= LAST_YEAR
    }
    years.add(around)
    return sorted(years, reverse=True)


def user_can_see_egalim(*, user: User, canteen: Canteen) -> bool:
    """The canteen's managers, the coordinators of its territory (or of all), superusers."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if user.role == Role.COORDINATOR:
        return user.territory_id in (None, canteen.territory_id)
    return canteen.managers.filter(pk=user.pk).exists()
