"""Canteens' purchases exported to the national "ma cantine" platform, each line once.

The file follows the platform's 2026 purchase import by SIRET (Table Schema
``data/schemas/imports/achats_siret_2026.json`` in the betagouv/ma-cantine repository):
UTF-8, comma-separated, a header row, 11 columns in this order:

``siret``
    the canteen's SIRET, under which it is registered on the platform. A canteen without a
    SIRET is skipped and reported; its lines stay to export once it has one (never a line
    with an empty siret).
``description``, ``fournisseur``
    the line's name as sold, and the producer's legal name (or its name).
``date``
    the order's delivery date, ``YYYY-MM-DD``.
``prix_ht``
    ``quantity_delivered × unit_price_ht`` rounded to the cent, as on the invoice, with a dot.
``famille_produits``
    the family snapshot of the line (the 8 codes of ``ProductFamily``).
``categories_egalim``
    every EGalim label the line held on the day of sale, highest first, comma-separated (the
    field is then quoted); the platform counts the purchase under the highest, as we do.
``origine``
    ``FRANCE`` or ``EUROPE``; our ``HORS_UE`` (and an unknown origin) is left empty, the
    platform having no code for it.
``est_circuit_court``
    ``OUI`` when the canteen bought straight from the producer or its collective. Every
    seller of this market is a farm, a micro-farm or a collective of farms, which invoices
    the canteen itself, so every line is ``OUI``; the rule lives in
    ``marche.canteens.egalim.is_short_circuit`` should a reseller ever sell here.
``est_local``, ``definition_local``
    ``OUI`` and ``DEPARTEMENT`` when the producer is in the canteen's département, read from
    both postcodes (``marche.canteens.egalim.is_local``: the first two digits, three for
    overseas, 2A/2B for Corsica); both empty otherwise, or when a postcode is missing. The
    dashboard's "local" figure uses the same rule.

Incremental: a purchase is a delivered line (``quantity_delivered > 0``, order not
cancelled); each is exported once and marked with its ``MaCantineExport`` (``exported``),
which keeps the file so that it can be downloaded again. The platform refuses a file it has
already imported, so a second run finds nothing new and says so. Lines are locked while they
are marked: two exports at once never send the same line.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from marche.accounts.models import User
from marche.canteens.egalim import is_local, is_short_circuit, line_value
from marche.canteens.models import (
    Canteen,
    CanteenOrderLine,
    CanteenOrderStatus,
    MaCantineExport,
)
from marche.catalog.models import EgalimLabel, Origin, ProductFamily
from marche.errors import DomainError
from marche.territories.models import Territory

COLUMNS: tuple[str, ...] = (
    "siret",
    "description",
    "fournisseur",
    "date",
    "prix_ht",
    "famille_produits",
    "categories_egalim",
    "origine",
    "est_circuit_court",
    "est_local",
    "definition_local",
)
YES = "OUI"
LOCAL_DEFINITION = "DEPARTEMENT"
ORIGINS = {Origin.FRANCE.value: "FRANCE", Origin.EUROPE.value: "EUROPE"}
LABEL_ORDER = {label.value: label.rank for label in EgalimLabel}


class CanteenWithoutSiret(DomainError):
    code = "canteen_without_siret"
    default_message = _(
        "Cette cantine n'a pas de SIRET : « ma cantine » reconnaît les achats par le SIRET "
        "de la cantine. Demandez à la coordination de le renseigner, puis exportez."
    )


class ExportNotFound(DomainError):
    code = "macantine_export_not_found"
    status = 404
    default_message = _("Cet export « ma cantine » n'existe pas pour cette cantine.")


@dataclass(frozen=True)
class SkippedCanteen:
    """A canteen whose delivered lines were not exported, for want of a SIRET."""

    canteen: Canteen
    lines: int


@dataclass(frozen=True)
class ExportResult:
    """What one export run did: the exports made (one per territory) and what it skipped."""

    exports: list[MaCantineExport] = field(default_factory=list)
    skipped: list[SkippedCanteen] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        return sum(export.line_count for export in self.exports)

    def csv(self) -> str:
        """Every exported row in one file, under one header."""
        rows = [row for export in self.exports for row in csv_rows(export.content)]
        return csv_text(rows)


def unexported_lines(
    *, territory: Territory | None = None, canteen: Canteen | None = None
) -> QuerySet[CanteenOrderLine]:
    """Delivered lines of orders not cancelled that no export has sent yet."""
    lines = CanteenOrderLine.objects.filter(
        exported__isnull=True, quantity_delivered__gt=0
    ).exclude(order__status=CanteenOrderStatus.CANCELLED)
    if canteen is not None:
        lines = lines.filter(order__canteen=canteen)
    if territory is not None:
        lines = lines.filter(order__canteen__territory=territory)
    return lines


def macantine_row(line: CanteenOrderLine) -> list[str]:
    """One purchase as the platform's 11 columns (``order__canteen`` and ``producer`` read)."""
    canteen = line.order.canteen
    producer = line.producer
    labels = sorted(
        {code for code in line.labels or () if code in LABEL_ORDER}, key=LABEL_ORDER.__getitem__
    )
    local = is_local(producer_postcode=producer.postcode, canteen_postcode=canteen.postcode)
    value = line_value(quantity_delivered=line.quantity_delivered, unit_price_ht=line.unit_price_ht)
    return [
        canteen.siret,
        line.name,
        producer.legal_name or producer.name,
        line.order.delivery_date.isoformat(),
        f"{value:.2f}",
        line.family if line.family in ProductFamily.values else ProductFamily.OTHER.value,
        ",".join(labels),
        ORIGINS.get(line.origin, ""),
        YES if is_short_circuit(producer_kind=producer.kind) else "",
        YES if local else "",
        LOCAL_DEFINITION if local else "",
    ]


def csv_text(rows: list[list[str]]) -> str:
    """The header and the rows, comma-separated; fields holding a comma are quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


def csv_rows(text: str) -> list[list[str]]:
    """The rows of a file made by :func:`csv_text`, header left out."""
    return list(csv.reader(io.StringIO(text)))[1:]


def export_filename(export: MaCantineExport) -> str:
    """The name a downloaded export is saved under."""
    scope = export.canteen.slug if export.canteen_id else export.territory.slug
    return f"ma-cantine-achats-{scope}-{export.created_at:%Y-%m-%d}-{export.pk}.csv"


def macantine_export_create(
    *,
    territory: Territory | None = None,
    canteen: Canteen | None = None,
    user: User | None = None,
) -> ExportResult:
    """Export the delivered lines not yet sent, one ``MaCantineExport`` per territory.

    Scope: one canteen, one territory, or everything. The lines are locked (primary-key
    order) and re-read under the lock, so an export running at the same time waits and then
    finds them marked: a line is never in two exports. Canteens without SIRET are skipped
    and reported, their lines left unmarked. Nothing is written when nothing is new.
    """
    if canteen is not None:
        territory = canteen.territory
    with transaction.atomic():
        pending = unexported_lines(territory=territory, canteen=canteen)
        without_siret = Counter(
            pending.filter(order__canteen__siret="").values_list("order__canteen_id", flat=True)
        )
        lines = list(
            pending.exclude(order__canteen__siret="")
            .select_related("order__canteen__territory", "producer")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        by_territory: dict[int, list[CanteenOrderLine]] = defaultdict(list)
        for line in lines:
            by_territory[line.order.canteen.territory_id].append(line)
        exports = []
        for territory_id, territory_lines in sorted(by_territory.items()):
            rows = sorted(
                ((macantine_row(line), line.pk) for line in territory_lines),
                key=lambda item: (item[0][0], item[0][3], item[0][2], item[0][1], item[1]),
            )
            export = MaCantineExport.objects.create(
                territory_id=territory_id,
                canteen=canteen,
                created_by=user,
                line_count=len(rows),
                content=csv_text([row for row, _pk in rows]),
            )
            marked = CanteenOrderLine.objects.filter(
                pk__in=[line.pk for line in territory_lines], exported__isnull=True
            ).update(exported=export)
            if marked != len(territory_lines):
                # Cannot happen: the lines are locked and were read unexported under the lock.
                raise RuntimeError(f"{marked} of {len(territory_lines)} lines marked")
            exports.append(export)
    skipped_canteens = Canteen.objects.select_related("territory").in_bulk(list(without_siret))
    skipped = [
        SkippedCanteen(canteen=skipped_canteens[pk], lines=count)
        for pk, count in sorted(without_siret.items())
    ]
    return ExportResult(exports=exports, skipped=skipped)


def _exports_holding(canteen: Canteen) -> QuerySet[MaCantineExport]:
    """Exports made for the canteen, and its territory's exports holding lines of it.

    ``canteen_lines`` is how many of the canteen's lines each one sent.
    """
    return (
        MaCantineExport.objects.filter(
            Q(canteen=canteen) | Q(canteen__isnull=True, territory_id=canteen.territory_id)
        )
        .annotate(canteen_lines=Count("lines", filter=Q(lines__order__canteen=canteen)))
        .filter(canteen_lines__gt=0)
    )


def macantine_exports_for_canteen(*, canteen: Canteen) -> QuerySet[MaCantineExport]:
    """The exports that sent the canteen's lines, newest first, without their files."""
    return (
        _exports_holding(canteen)
        .select_related("created_by")
        .defer("content")
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class CanteenExportFile:
    """An export as one canteen downloads it again: its file, or its rows of a wider one."""

    export: MaCantineExport
    content: str
    filename: str


def macantine_export_for_canteen(*, canteen: Canteen, export_id: int) -> CanteenExportFile:
    """An export that sent the canteen's lines, as the canteen downloads it again.

    An export made for the canteen comes as it was made. One made for the whole territory
    (``manage.py export_macantine``) holds other canteens' purchases: only the rows under
    the canteen's SIRET are given (the SIRET it has now, which is the one exported unless it
    was corrected since). ``ExportNotFound`` for an export holding nothing of the canteen.
    """
    export = _exports_holding(canteen).filter(pk=export_id).select_related("territory").first()
    if export is None:
        raise ExportNotFound()
    filename = f"ma-cantine-achats-{canteen.slug}-{export.created_at:%Y-%m-%d}-{export.pk}.csv"
    if export.canteen_id == canteen.pk:
        return CanteenExportFile(export=export, content=export.content, filename=filename)
    rows = [row for row in csv_rows(export.content) if row and row[0] == canteen.siret]
    return CanteenExportFile(export=export, content=csv_text(rows), filename=filename)


def macantine_pending_count(*, canteen: Canteen) -> int:
    """How many delivered lines of a canteen no export has sent yet."""
    return unexported_lines(canteen=canteen).count()
