"""Pages of a canteen order's delivery: the delivery note (PDF) and the record of quantities.

``/cantine/livraisons/<order_id>/``: the canteen's managers (and coordinators) read each
line with its allergens and record or correct the delivered quantities until the line is
invoiced; ``…/bon-de-livraison.pdf``: the delivery note, for them and for the driver of the
round that drops the order. Anyone else gets a 404: an order one may not open does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from marche.canteens.delivery import (
    delivery_record,
    user_coordinates_canteen,
    user_manages_canteen,
    user_may_record_delivery,
)
from marche.canteens.delivery_note import allergen_names, delivery_note_order, delivery_note_pdf
from marche.canteens.models import CanteenOrder, CanteenOrderStatus
from marche.errors import DomainError
from marche.orders.display import format_quantity, unit_label


def _order(request: HttpRequest, order_id: int) -> CanteenOrder:
    order = delivery_note_order(order_id=order_id)
    if order is None or not user_may_record_delivery(user=request.user, order=order):
        raise Http404
    return order


def _invoiced_ids(order: CanteenOrder) -> set[int]:
    return set(order.lines.filter(invoice_line__isnull=False).values_list("pk", flat=True))


@login_required
@require_GET
def delivery_note(request: HttpRequest, order_id: int) -> HttpResponse:
    """The delivery note of a canteen order, as a PDF."""
    order = _order(request, order_id)
    response = HttpResponse(delivery_note_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="bon-de-livraison-{order.reference}.pdf"'
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def delivery_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    """Record or correct what the canteen received (its managers and coordinators)."""
    order = _order(request, order_id)
    if not (
        user_manages_canteen(user=request.user, order=order)
        or user_coordinates_canteen(user=request.user, order=order)
    ):
        raise Http404
    error: DomainError | None = None
    posted: dict[str, str] = {}
    if request.method == "POST":
        posted = {name: value for name, value in request.POST.items()}
        try:
            delivery_record(
                order=order,
                quantities=_prefixed(request, "qty-"),
                reasons=_prefixed(request, "reason-"),
                received_by=request.POST.get("received_by", ""),
                user=request.user,
                key=request.POST.get("key", ""),
            )
        except DomainError as refused:
            error = refused
        else:
            messages.success(request, _("Livraison enregistrée."))
            return HttpResponseRedirect(reverse("canteens:delivery_detail", args=[order.pk]))
        order = delivery_note_order(order_id=order.pk) or order
    invoiced = _invoiced_ids(order)
    rows: list[dict[str, Any]] = []
    for line in order.lines.all():
        typed = posted.get(f"qty-{line.pk}")
        value = (
            line.quantity_delivered if line.quantity_delivered is not None else line.quantity_due
        )
        rows.append(
            {
                "line": line,
                "allergens": allergen_names(line.allergens),
                "unit": unit_label(line.unit, line.quantity_due),
                "invoiced": line.pk in invoiced,
                "value": typed if typed is not None else format_quantity(value),
                "reason": posted.get(f"reason-{line.pk}", line.shortfall_reason),
            }
        )
    context = {
        "order": order,
        "rows": rows,
        "error": error,
        "key": uuid.uuid4().hex,
        "received_by": posted.get("received_by", order.received_by),
        "cancelled": order.status == CanteenOrderStatus.CANCELLED,
        "too_early": timezone.now() < order.cycle.closes_at
        or timezone.localdate() < order.delivery_date,
        "all_invoiced": bool(rows) and all(row["invoiced"] for row in rows),
    }
    status = error.status if error is not None else 200
    response = render(request, "canteens/delivery/detail.html", context, status=status)
    response["Cache-Control"] = "private, no-cache"
    return response


def _prefixed(request: HttpRequest, prefix: str) -> dict[str, str]:
    return {
        name.removeprefix(prefix): value
        for name, value in request.POST.items()
        if name.startswith(prefix)
    }
