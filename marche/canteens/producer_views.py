"""The producer's canteen pages, ``/cantine/producteur/``: the canteen lines to answer per
cycle (confirm, adjust with a note, refuse) before the cutoff, and the wholesale terms.

Only farmers who are members of the producer get in (403 otherwise); the answer goes through
``line_answer``, which checks the membership and the cutoff again and e-mails the canteen.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from marche.accounts.models import Role
from marche.canteens import selectors, services
from marche.canteens.forms import WholesaleForm, note_clean, quantity_typed
from marche.canteens.models import CanteenOrderLine, CanteenOrderStatus, LineStatus
from marche.catalog.models import Product
from marche.catalog.services import product_wholesale_set
from marche.cycles.models import OrderCycle
from marche.errors import DomainError
from marche.producers.models import Producer
from marche.producers.selectors import producer_list_for_member


def _producer(request: HttpRequest, producer_id: int | None = None) -> list[Producer] | Producer:
    if request.user.role != Role.FARMER:
        raise PermissionDenied(_("Cet espace est réservé aux producteurs."))
    producers = producer_list_for_member(user=request.user)
    if not producers:
        raise PermissionDenied(_("Votre compte n'est rattaché à aucun producteur."))
    if producer_id is None:
        return producers
    producer = next((p for p in producers if p.pk == producer_id), None)
    if producer is None:
        raise PermissionDenied(_("Vous n'êtes pas membre de ce producteur."))
    return producer


def _one(request: HttpRequest, producer_id: int) -> Producer:
    producer = _producer(request, producer_id)
    assert isinstance(producer, Producer)
    return producer


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Per producer: the cycles not yet closed with canteen lines, and how many wait."""
    producers = _producer(request)
    assert isinstance(producers, list)
    now = timezone.now()
    sections = []
    for producer in producers:
        cycles = list(
            OrderCycle.objects.filter(
                territory_id=producer.territory_id,
                closes_at__gt=now,
                canteen_orders__lines__producer=producer,
            )
            .exclude(canteen_orders__status=CanteenOrderStatus.CANCELLED)
            .annotate(
                line_count=Count("canteen_orders__lines", distinct=True),
                pending_count=Count(
                    "canteen_orders__lines",
                    filter=Q(canteen_orders__lines__status=LineStatus.PENDING),
                    distinct=True,
                ),
            )
            .order_by("delivery_date", "pk")
        )
        sections.append({"producer": producer, "cycles": cycles})
    return render(request, "canteens/producer/index.html", {"sections": sections, "now": now})


def _render_lines(
    request: HttpRequest,
    producer: Producer,
    cycle: OrderCycle,
    *,
    typed: dict[int, dict[str, str]] | None = None,
    errors: dict[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    by_canteen: dict[int, dict[str, Any]] = defaultdict(dict)
    for line in selectors.producer_canteen_lines(producer=producer, cycle=cycle):
        group = by_canteen[line.order.canteen_id]
        group.setdefault("canteen", line.order.canteen)
        group.setdefault("order", line.order)
        group.setdefault("rows", []).append(
            {
                "line": line,
                "quantity": (typed or {}).get(line.pk, {}).get("quantity")
                or quantity_typed(line.quantity_due),
                "note": (typed or {}).get(line.pk, {}).get("note", line.producer_note),
                "error": (errors or {}).get(line.pk, ""),
            }
        )
    context = {
        "producer": producer,
        "cycle": cycle,
        "groups": list(by_canteen.values()),
        "editable": now < cycle.closes_at,
    }
    return render(request, "canteens/producer/lines.html", context, status=status)


@login_required
@require_GET
def cycle_lines(request: HttpRequest, producer_id: int, cycle_id: int) -> HttpResponse:
    """The canteen lines of one cycle to answer, grouped by canteen."""
    producer = _one(request, producer_id)
    cycle = get_object_or_404(OrderCycle, pk=cycle_id, territory_id=producer.territory_id)
    return _render_lines(request, producer, cycle)


@login_required
@require_POST
def line_answer(request: HttpRequest, producer_id: int, line_id: int) -> HttpResponse:
    """Confirm (the ordered quantity), adjust (the typed quantity and a note) or refuse."""
    producer = _one(request, producer_id)
    line = get_object_or_404(
        CanteenOrderLine.objects.select_related("order__cycle", "order__canteen"),
        pk=line_id,
        producer=producer,
    )
    cycle = line.order.cycle
    action = request.POST.get("action", "adjust")
    typed = request.POST.get("quantity", "").strip()
    note = note_clean(request.POST.get("note"))
    quantity: object = {"confirm": line.quantity_ordered, "refuse": "0"}.get(action, typed)
    try:
        answered = services.line_answer(line=line, quantity=quantity, user=request.user, note=note)
    except DomainError as refusal:
        if refusal.status == 403:
            raise PermissionDenied(refusal.message) from refusal
        return _render_lines(
            request,
            producer,
            cycle,
            typed={line.pk: {"quantity": typed, "note": note}},
            errors={line.pk: refusal.message},
            status=400,
        )
    done = {
        LineStatus.CONFIRMED: _("%(product)s pour %(canteen)s : confirmé."),
        LineStatus.ADJUSTED: _("%(product)s pour %(canteen)s : quantité ajustée."),
        LineStatus.REFUSED: _("%(product)s pour %(canteen)s : refusé."),
    }[LineStatus(answered.status)]
    messages.success(request, done % {"product": line.name, "canteen": line.order.canteen.name})
    url = reverse("canteens:producer_lines", args=[producer.pk, cycle.pk])
    return redirect(f"{url}#ligne-{line.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def wholesale(request: HttpRequest, producer_id: int) -> HttpResponse:
    """Each product's wholesale price excluding VAT and minimum per canteen line."""
    producer = _one(request, producer_id)
    products = list(
        Product.objects.filter(producer=producer, is_active=True).order_by("name", "pk")
    )
    if request.method == "GET":
        forms = [WholesaleForm(product=product) for product in products]
        return render(
            request, "canteens/producer/wholesale.html", {"producer": producer, "forms": forms}
        )
    forms = [WholesaleForm(request.POST, product=product) for product in products]
    if not all(form.is_valid() for form in forms):
        return render(
            request,
            "canteens/producer/wholesale.html",
            {"producer": producer, "forms": forms},
            status=400,
        )
    changed = 0
    with transaction.atomic():
        for form in forms:
            price, minimum = form.cleaned_data["price"], form.cleaned_data["minimum"]
            product = form.product
            if (product.wholesale_price, product.wholesale_minimum) == (price, minimum):
                continue
            product_wholesale_set(product=product, price=price, minimum=minimum)
            changed += 1
    messages.success(
        request,
        _("Prix de gros enregistrés (%(count)s produit(s) modifié(s)).") % {"count": changed},
    )
    return redirect("canteens:producer_wholesale", producer.pk)
