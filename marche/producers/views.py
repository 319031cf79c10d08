"""The farmer dashboard: publish offers per cycle, from a phone, a form or a spreadsheet.

Only farmers who are members of a producer get in (403 otherwise); every write goes through
the cycle services, which check the membership again and refuse closed cycles.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from marche.accounts.models import Role
from marche.catalog.models import Product
from marche.cycles.errors import PriceUnusual
from marche.cycles.models import Offer, OrderCycle
from marche.cycles.offer_csv import ImportReport, offer_csv_export, offer_csv_import
from marche.cycles.services import offer_save, offer_withdraw
from marche.errors import DomainError, NotFound
from marche.producers.forms import OfferForm, OfferImportForm
from marche.producers.models import Producer
from marche.producers.selectors import (
    cycle_list_upcoming_for_producer,
    offer_rows_for_producer,
    producer_list_for_member,
)


def _farmer_producers(request: HttpRequest) -> list[Producer]:
    """The producers of the logged-in farmer; anyone else is refused."""
    if request.user.role != Role.FARMER:
        raise PermissionDenied(_("Cet espace est réservé aux producteurs."))
    producers = producer_list_for_member(user=request.user)
    if not producers:
        raise PermissionDenied(_("Votre compte n'est rattaché à aucun producteur."))
    return producers


def _producer_and_cycle(
    request: HttpRequest, producer_id: int, cycle_id: int
) -> tuple[Producer, OrderCycle]:
    producer = next((p for p in _farmer_producers(request) if p.pk == producer_id), None)
    if producer is None:
        raise PermissionDenied(_("Vous n'êtes pas membre de ce producteur."))
    cycle = get_object_or_404(OrderCycle, pk=cycle_id, territory_id=producer.territory_id)
    return producer, cycle


def _cycle_url(producer: Producer, cycle: OrderCycle, anchor: str = "") -> str:
    url = reverse("producers:cycle", args=[producer.pk, cycle.pk])
    return f"{url}#{anchor}" if anchor else url


def _render_cycle(
    request: HttpRequest,
    producer: Producer,
    cycle: OrderCycle,
    *,
    bound: dict[int, OfferForm] | None = None,
    import_form: OfferImportForm | None = None,
    report: ImportReport | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    bound = bound or {}
    rows = [
        {
            "product": row.product,
            "offer": row.offer,
            "form": bound.get(row.product.pk) or OfferForm(product=row.product, offer=row.offer),
        }
        for row in offer_rows_for_producer(producer=producer, cycle=cycle)
    ]
    context: dict[str, Any] = {
        "producer": producer,
        "cycle": cycle,
        "rows": rows,
        "editable": cycle.closes_at > now,
        "is_open": cycle.is_open(now),
        "import_form": import_form or OfferImportForm(),
        "report": report,
        "error": error,
    }
    return render(request, "producers/cycle.html", context, status=status)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The farmer's producers and their open and upcoming cycles."""
    now = timezone.now()
    sections = [
        {
            "producer": producer,
            "cycles": cycle_list_upcoming_for_producer(producer=producer, now=now),
        }
        for producer in _farmer_producers(request)
    ]
    return render(request, "producers/dashboard.html", {"sections": sections, "now": now})


@login_required
@require_GET
def cycle_offers(request: HttpRequest, producer_id: int, cycle_id: int) -> HttpResponse:
    """One cycle: each product with its price, quantity and what is held and sold."""
    producer, cycle = _producer_and_cycle(request, producer_id, cycle_id)
    return _render_cycle(request, producer, cycle)


@login_required
@require_POST
def offer_edit(
    request: HttpRequest, producer_id: int, cycle_id: int, product_id: int
) -> HttpResponse:
    """Save one product's offer from its inline form."""
    producer, cycle = _producer_and_cycle(request, producer_id, cycle_id)
    product = get_object_or_404(Product, pk=product_id, producer=producer, is_active=True)
    offer = Offer.objects.filter(cycle=cycle, product=product).first()
    form = OfferForm(request.POST, product=product, offer=offer)
    if form.is_valid():
        try:
            offer_save(
                user=request.user,
                cycle_id=cycle.pk,
                product_id=product.pk,
                unit_price=form.cleaned_data["unit_price"],
                quantity_available=form.cleaned_data["quantity_available"],
                max_per_order=form.cleaned_data["max_per_order"],
                confirm_price=form.cleaned_data["confirm_price"],
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except PriceUnusual as error:
            # Not saved: the form comes back with the warning and the box to confirm it.
            form.warn_price(error.message)
            return _render_cycle(request, producer, cycle, bound={product.pk: form}, status=400)
        except DomainError as error:
            if error.status == 403:
                raise PermissionDenied(error.message) from error
            form.add_error(None, error.message)
            return _render_cycle(
                request, producer, cycle, bound={product.pk: form}, error=error.message, status=400
            )
        else:
            if offer is not None and offer.withdrawn_at is not None:
                done = _("%(product)s est remis en vente.")
            else:
                done = _("Offre enregistrée : %(product)s.")
            messages.success(request, done % {"product": product.name})
            return redirect(_cycle_url(producer, cycle, f"produit-{product.pk}"))
    return _render_cycle(request, producer, cycle, bound={product.pk: form}, status=400)


@login_required
@require_POST
def offer_stop(
    request: HttpRequest, producer_id: int, cycle_id: int, offer_id: int
) -> HttpResponse:
    """Stop selling an offer: what is held or sold stays, nothing more can be ordered."""
    producer, cycle = _producer_and_cycle(request, producer_id, cycle_id)
    offer = get_object_or_404(
        Offer.objects.select_related("product"),
        pk=offer_id,
        cycle=cycle,
        product__producer=producer,
    )
    # A refusal (closed cycle) goes back with its message through DomainErrorMiddleware.
    offer_withdraw(user=request.user, offer_id=offer.pk)
    messages.success(
        request, _("%(product)s est retiré de la vente.") % {"product": offer.product.name}
    )
    return redirect(_cycle_url(producer, cycle, f"produit-{offer.product_id}"))


@login_required
@require_GET
def offers_export(request: HttpRequest, producer_id: int, cycle_id: int) -> HttpResponse:
    """The cycle's offers as a CSV file to edit in a spreadsheet."""
    producer, cycle = _producer_and_cycle(request, producer_id, cycle_id)
    content = offer_csv_export(user=request.user, producer_id=producer.pk, cycle_id=cycle.pk)
    response = HttpResponse(content.encode("utf-8"), content_type="text/csv; charset=utf-8")
    filename = f"offres-{producer.slug}-{cycle.delivery_date:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def offers_import(request: HttpRequest, producer_id: int, cycle_id: int) -> HttpResponse:
    """Apply an edited CSV file: every line, or none and the list of errors."""
    producer, cycle = _producer_and_cycle(request, producer_id, cycle_id)
    form = OfferImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_cycle(request, producer, cycle, import_form=form, status=400)
    try:
        report = offer_csv_import(
            user=request.user,
            producer_id=producer.pk,
            cycle_id=cycle.pk,
            content=form.cleaned_data["file"],
            confirm_prices=form.cleaned_data["confirm_prices"],
        )
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied(error.message) from error
        form.add_error(None, error.message)
        return _render_cycle(request, producer, cycle, import_form=form, status=400)
    if not report.ok:
        return _render_cycle(request, producer, cycle, report=report, status=400)
    done = ngettext(
        "Import terminé : %(count)s offre enregistrée.",
        "Import terminé : %(count)s offres enregistrées.",
        report.saved,
    ) % {"count": report.saved}
    if report.withdrawn:
        done += " " + ngettext(
            "%(count)s retirée de la vente.", "%(count)s retirées de la vente.", report.withdrawn
        ) % {"count": report.withdrawn}
    messages.success(request, done)
    for notice in report.ignored:
        messages.warning(request, str(notice))
    # The import form posts to "#import" (a refusal lands on its errors); a redirect without
    # a fragment would inherit it, so the success goes to the top of the page (HTML's "#top"),
    # where its message is.
    return redirect(_cycle_url(producer, cycle, "top"))
