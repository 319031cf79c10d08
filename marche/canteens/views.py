"""The canteen manager's pages, ``/cantine/``: this week's cycles, the bulk order, the
standing order and the skipped weeks.

Only the canteen's managers get in (403 otherwise). Views stay thin: they read through the
canteen selectors, hand the typed quantities to the services (which parse decimal commas
and refuse with a French message and the offer or product it is about), and show a refusal
beside its field with nothing changed (the services are atomic).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from marche.accounts.models import Role
from marche.canteens import selectors, services
from marche.canteens.forms import SkipWeekForm, StandingDatesForm, note_clean, quantity_typed
from marche.canteens.holidays import holidays_of_zone
from marche.canteens.models import Canteen, CanteenOrder, CanteenOrderStatus, StandingOrder
from marche.catalog.models import Product
from marche.catalog.selectors import product_labels_prefetch
from marche.cycles.models import Offer, OrderCycle
from marche.errors import DomainError
from marche.money import round_money
from marche.producers.models import Producer

# Pages of other areas of the canteen space, shown as links once their URL exists: each
# with the URL names it may have, taking the canteen's id or nothing.
SPACE_LINKS = (
    (("canteens:invoices", "canteens:invoice_list"), "invoices", gettext_lazy("Factures")),
    (
        ("canteens:egalim",),
        "egalim",
        gettext_lazy("Tableau de bord EGalim et export « ma cantine »"),
    ),
)
# An order's delivery pages (delivered quantities, delivery note), by the order's id.
ORDER_LINKS = (
    ("canteens:delivery_detail", "delivery", gettext_lazy("Livraison : quantités reçues")),
    ("canteens:delivery_note", "delivery_note", gettext_lazy("Bon de livraison (PDF)")),
)
RECENT_ORDERS = 8


def _managed(request: HttpRequest) -> list[Canteen]:
    """The canteens the logged-in user manages; anyone else is refused."""
    canteens = list(selectors.canteens_managed(user=request.user))
    if not canteens:
        if request.user.role != Role.CANTEEN_MANAGER:
            raise PermissionDenied(_("Cet espace est réservé aux gestionnaires de cantine."))
        raise PermissionDenied(_("Votre compte n'est rattaché à aucune cantine."))
    return canteens


def _canteen(request: HttpRequest, canteen_id: int) -> Canteen:
    canteen = next((c for c in _managed(request) if c.pk == canteen_id), None)
    if canteen is None:
        raise PermissionDenied(_("Vous ne gérez pas cette cantine."))
    return canteen


def _reverse_first(names: tuple[str, ...], *args: object) -> str | None:
    """The first of these URL names that exists, with these arguments or with none."""
    for name in names:
        for candidate in (args, ()):
            try:
                return reverse(name, args=candidate)
            except NoReverseMatch:
                continue
    return None


def _space_links(canteen: Canteen) -> list[dict[str, str]]:
    links = []
    for names, key, label in SPACE_LINKS:
        url = _reverse_first(names, canteen.pk)
        if url is not None:
            links.append({"key": key, "url": url, "label": str(label)})
    return links


def _order_links(order: CanteenOrder) -> list[dict[str, str]]:
    if order.status == CanteenOrderStatus.CANCELLED:
        return []
    links = []
    for name, key, label in ORDER_LINKS:
        try:
            url = reverse(name, args=[order.pk])
        except NoReverseMatch:
            continue
        links.append({"key": key, "url": url, "label": str(label)})
    return links


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """One canteen: its space; several: which one."""
    canteens = _managed(request)
    if len(canteens) == 1:
        return redirect("canteens:space", canteens[0].pk)
    return render(request, "canteens/choose.html", {"canteens": canteens})


@login_required
@require_GET
def space(request: HttpRequest, canteen_id: int) -> HttpResponse:
    """This week's cycles (deliverable or why not), the standing order, the latest orders."""
    canteen = _canteen(request, canteen_id)
    now = timezone.now()
    context = {
        "canteen": canteen,
        "several": len(_managed(request)) > 1,
        "choices": selectors.canteen_cycles(canteen=canteen, now=now),
        "standing": selectors.canteen_standing_order(canteen=canteen),
        "orders": list(selectors.canteen_orders(canteen=canteen)[:RECENT_ORDERS]),
        "links": _space_links(canteen),
        "now": now,
    }
    return render(request, "canteens/space.html", context)


# --- the bulk order of a cycle ---------------------------------------------------------------


@dataclass
class OfferRow:
    offer: Offer
    value: str = ""
    error: str = ""
    line: Any = None


@dataclass
class ProducerGroup:
    producer: Producer
    rows: list[OfferRow] = field(default_factory=list)


def _order_rows(
    *, cycle: OrderCycle, order: CanteenOrder | None, typed: dict[int, str] | None = None
) -> list[ProducerGroup]:
    """The cycle's offers for canteens grouped by producer, each with its quantity field."""
    lines = {line.offer_id: line for line in order.lines.all()} if order else {}
    typed = typed or {}
    groups: dict[int, ProducerGroup] = {}
    offers = sorted(
        selectors.canteen_offers_queryset(cycle=cycle),
        key=lambda o: (o.product.producer.name, o.product.name, o.pk),
    )
    for offer in offers:
        line = lines.get(offer.pk)
        if order is not None and order.status == CanteenOrderStatus.CANCELLED:
            line = None
        default = quantity_typed(line.quantity_ordered) if line is not None else ""
        group = groups.setdefault(
            offer.product.producer_id, ProducerGroup(producer=offer.product.producer)
        )
        group.rows.append(OfferRow(offer=offer, value=typed.get(offer.pk, default), line=line))
    return list(groups.values())


def _choice(canteen: Canteen, cycle_id: int) -> selectors.CycleChoice:
    for choice in selectors.canteen_cycles(canteen=canteen):
        if choice.cycle.pk == cycle_id:
            return choice
    raise Http404(_("Ce cycle n'est pas ouvert aux commandes."))


def _render_order_form(
    request: HttpRequest,
    canteen: Canteen,
    choice: selectors.CycleChoice,
    *,
    order: CanteenOrder | None,
    typed: dict[int, str] | None = None,
    errors: dict[int, str] | None = None,
    error: str = "",
    note: str | None = None,
    status: int = 200,
) -> HttpResponse:
    groups = _order_rows(cycle=choice.cycle, order=order, typed=typed)
    for group in groups:
        for row in group.rows:
            row.error = (errors or {}).get(row.offer.pk, "")
    context = {
        "canteen": canteen,
        "choice": choice,
        "cycle": choice.cycle,
        "order": order,
        "groups": groups,
        "error": error,
        "note": order.note if note is None and order is not None else (note or ""),
        "active": order is not None and order.status != CanteenOrderStatus.CANCELLED,
    }
    return render(request, "canteens/order_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def order_form(request: HttpRequest, canteen_id: int, cycle_id: int) -> HttpResponse:
    """The bulk order of one open cycle: quantities per offer, typed with decimal commas."""
    canteen = _canteen(request, canteen_id)
    choice = _choice(canteen, cycle_id)
    order = (
        selectors.canteen_order_get(canteen=canteen, order_id=choice.order.pk)
        if choice.order
        else None
    )
    if request.method == "GET":
        return _render_order_form(request, canteen, choice, order=order)
    if not choice.deliverable:
        return _render_order_form(
            request, canteen, choice, order=order, error=choice.reason, status=400
        )
    typed: dict[int, str] = {}
    quantities: dict[int, str] = {}
    ordered = (
        {line.offer_id for line in order.lines.all()}
        if order and order.status != CanteenOrderStatus.CANCELLED
        else set()
    )
    for key, value in request.POST.items():
        if not key.startswith("q-") or not key[2:].isdigit():
            continue
        offer_id = int(key[2:])
        text = value.strip()
        typed[offer_id] = text
        if text:
            quantities[offer_id] = text
        elif offer_id in ordered:
            quantities[offer_id] = "0"  # a cleared field takes the line off
    note = note_clean(request.POST.get("note"))
    try:
        placed = services.order_place(
            canteen=canteen, cycle=choice.cycle, quantities=quantities, user=request.user, note=note
        )
    except DomainError as refusal:
        if refusal.status == 403:
            raise PermissionDenied(refusal.message) from refusal
        offer_id = refusal.params.get("offer_id")
        errors = {offer_id: refusal.message} if isinstance(offer_id, int) else {}
        return _render_order_form(
            request,
            canteen,
            choice,
            order=order,
            typed=typed,
            errors=errors,
            error=refusal.message,
            note=note,
            status=400,
        )
    messages.success(
        request,
        _("Commande %(reference)s enregistrée : les producteurs vont la confirmer.")
        % {"reference": placed.reference},
    )
    return redirect("canteens:order", canteen.pk, placed.pk)


@login_required
@require_GET
def order_detail(request: HttpRequest, canteen_id: int, order_id: int) -> HttpResponse:
    """One order: each line with its status (to confirm, confirmed, adjusted, refused)."""
    canteen = _canteen(request, canteen_id)
    order = selectors.canteen_order_get(canteen=canteen, order_id=order_id)
    if order is None:
        raise Http404(_("Cette commande n'existe pas."))
    now = timezone.now()
    context = {
        "canteen": canteen,
        "order": order,
        "lines": list(order.lines.all()),
        # Each line rounded to the cent, then summed, as the invoice will: once delivered,
        # what arrived (what is invoiced); before, what is due.
        "delivered": order.status == CanteenOrderStatus.DELIVERED,
        "cancelled": order.status == CanteenOrderStatus.CANCELLED,
        "total_ht": sum(
            (
                round_money(
                    (
                        line.quantity_delivered
                        if order.status == CanteenOrderStatus.DELIVERED
                        and line.quantity_delivered is not None
                        else line.quantity_due
                    )
                    * line.unit_price_ht
                )
                for line in order.lines.all()
            ),
            start=Decimal("0"),
        ),
        "links": _order_links(order),
        "can_change": order.status in (CanteenOrderStatus.SUBMITTED, CanteenOrderStatus.CONFIRMED)
        and order.cycle.opens_at <= now < order.cycle.closes_at,
    }
    return render(request, "canteens/order_detail.html", context)


@login_required
@require_POST
def order_cancel(request: HttpRequest, canteen_id: int, order_id: int) -> HttpResponse:
    """Cancel an order before the cutoff; a refusal comes back on the order's page."""
    canteen = _canteen(request, canteen_id)
    order = get_object_or_404(
        CanteenOrder.objects.select_related("cycle"), pk=order_id, canteen=canteen
    )
    try:
        services.order_cancel(order=order, user=request.user)
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request, _("Commande %(reference)s annulée.") % {"reference": order.reference}
        )
    return redirect("canteens:order", canteen.pk, order.pk)


# --- the standing order and the skipped weeks -----------------------------------------------


def _standing_products(canteen: Canteen, today: date) -> list[Product]:
    return list(
        Product.objects.filter(
            producer__territory_id=canteen.territory_id,
            producer__is_active=True,
            is_active=True,
            wholesale_price__isnull=False,
        )
        .select_related("producer")
        .prefetch_related(product_labels_prefetch(on=today))
        .order_by("producer__name", "name", "pk")
    )


def _render_standing(
    request: HttpRequest,
    canteen: Canteen,
    *,
    standing: StandingOrder | None,
    dates_form: StandingDatesForm | None = None,
    skip_form: SkipWeekForm | None = None,
    typed: dict[int, str] | None = None,
    errors: dict[int, str] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    today = timezone.localdate()
    current = {line.product_id: line.quantity for line in standing.lines.all()} if standing else {}
    groups: dict[int, dict[str, Any]] = {}
    for product in _standing_products(canteen, today):
        group = groups.setdefault(product.producer_id, {"producer": product.producer, "rows": []})
        default = quantity_typed(current[product.pk]) if product.pk in current else ""
        group["rows"].append(
            {
                "product": product,
                "value": (typed or {}).get(product.pk, default),
                "error": (errors or {}).get(product.pk, ""),
            }
        )
    next_monday = today + timedelta(days=7 - today.weekday())
    if dates_form is None:
        dates_form = StandingDatesForm(
            initial={
                "starts_on": standing.starts_on if standing else next_monday,
                "ends_on": standing.ends_on if standing else None,
            }
        )
    holidays = [h for h in holidays_of_zone(canteen.school_zone) if h.ends_on >= today][:4]
    context = {
        "canteen": canteen,
        "standing": standing,
        "groups": list(groups.values()),
        "dates_form": dates_form,
        "skip_form": skip_form or SkipWeekForm(today=today, initial={"week": next_monday}),
        "skipped": list(selectors.canteen_skipped_weeks(canteen=canteen, since=today)),
        "holidays": holidays,
        "error": error,
    }
    return render(request, "canteens/standing_order.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def standing_order(request: HttpRequest, canteen_id: int) -> HttpResponse:
    """The weekly quantities per product, from a date (until another, or until changed)."""
    canteen = _canteen(request, canteen_id)
    standing = selectors.canteen_standing_order(canteen=canteen)
    if request.method == "GET":
        return _render_standing(request, canteen, standing=standing)
    dates_form = StandingDatesForm(request.POST)
    typed: dict[int, str] = {}
    for key, value in request.POST.items():
        if key.startswith("q-") and key[2:].isdigit():
            typed[int(key[2:])] = value.strip()
    if not dates_form.is_valid():
        return _render_standing(
            request, canteen, standing=standing, dates_form=dates_form, typed=typed, status=400
        )
    # Every product of the page is sent: an emptied field takes the product off.
    quantities = {product_id: text or "0" for product_id, text in typed.items()}
    try:
        services.standing_order_save(
            canteen=canteen,
            quantities=quantities,
            starts_on=dates_form.cleaned_data["starts_on"],
            ends_on=dates_form.cleaned_data["ends_on"],
            user=request.user,
            standing_order=standing,
        )
    except DomainError as refusal:
        if refusal.status == 403:
            raise PermissionDenied(refusal.message) from refusal
        product_id = refusal.params.get("product_id")
        return _render_standing(
            request,
            canteen,
            standing=standing,
            dates_form=dates_form,
            typed=typed,
            errors={product_id: refusal.message} if isinstance(product_id, int) else {},
            error=refusal.message,
            status=400,
        )
    messages.success(
        request,
        _(
            "Commande régulière enregistrée : elle sera passée à chaque cycle, hors vacances "
            "scolaires et semaines sautées."
        ),
    )
    return redirect("canteens:standing", canteen.pk)


@login_required
@require_POST
def week_skip(request: HttpRequest, canteen_id: int) -> HttpResponse:
    """Skip a week of standing deliveries."""
    canteen = _canteen(request, canteen_id)
    form = SkipWeekForm(request.POST, today=timezone.localdate())
    if not form.is_valid():
        return _render_standing(
            request,
            canteen,
            standing=selectors.canteen_standing_order(canteen=canteen),
            skip_form=form,
            status=400,
        )
    try:
        week = services.week_skip(
            canteen=canteen,
            week_start=form.cleaned_data["week"],
            reason=form.cleaned_data["reason"],
            user=request.user,
        )
    except DomainError as refusal:
        if refusal.status == 403:
            raise PermissionDenied(refusal.message) from refusal
        form.add_error("week", refusal.message)
        return _render_standing(
            request,
            canteen,
            standing=selectors.canteen_standing_order(canteen=canteen),
            skip_form=form,
            status=400,
        )
    messages.success(
        request,
        _("Semaine du %(day)s sautée : pas de livraison régulière cette semaine-là.")
        % {"day": week.week_start.strftime("%d/%m/%Y")},
    )
    return redirect(reverse("canteens:standing", args=[canteen.pk]) + "#semaines")


@login_required
@require_POST
def week_unskip(request: HttpRequest, canteen_id: int, week: str) -> HttpResponse:
    """Deliver a skipped week again."""
    canteen = _canteen(request, canteen_id)
    try:
        monday = date.fromisoformat(week)
    except ValueError as error:
        raise Http404(_("Semaine inconnue.")) from error
    if services.week_unskip(canteen=canteen, week_start=monday, user=request.user):
        messages.success(
            request,
            _("La semaine du %(day)s est de nouveau livrée.")
            % {"day": monday.strftime("%d/%m/%Y")},
        )
    return redirect(reverse("canteens:standing", args=[canteen.pk]) + "#semaines")
