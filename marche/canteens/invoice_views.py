"""Canteen invoices' pages: the canteen's invoices, the producer's, and the unpaid ones.

Who sees what: a canteen manager sees the invoices addressed to their canteens and downloads
them; a producer's members see the producer's invoices, download them and record a payment
received; coordinators see the aged list of every unpaid invoice of their territory and
record payments. The role is checked before anything is looked up, and an invoice is looked
up only among those the user may see: another canteen's invoice is a 404, never a hint that
it exists.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from marche.canteens.invoicing import (
    PaymentDateInvalid,
    invoice_list_for_canteens,
    invoice_list_for_producers,
    invoice_payment_record,
    invoices_aged,
    invoices_payable_by,
    invoices_visible_to,
    user_is_invoice_coordinator,
    user_is_producer_member,
    user_manages_a_canteen,
)
from marche.canteens.models import Canteen
from marche.core.middleware import back_url
from marche.core.numbers import parse_id_or_none
from marche.errors import DomainError
from marche.money import format_money
from marche.producers.models import Producer


def _may_see_invoices(request: HttpRequest) -> bool:
    user = request.user
    return (
        user_is_invoice_coordinator(user=user)
        or user_manages_a_canteen(user=user)
        or user_is_producer_member(user=user)
    )


def _may_record_payments(request: HttpRequest) -> bool:
    user = request.user
    return user_is_invoice_coordinator(user=user) or user_is_producer_member(user=user)


# The session key of a refused payment, shown again once in the form it came from.
RETRY = "canteens.invoice_payment_retry"


def _payment_key() -> str:
    """A fresh idempotency key per form shown: a form posted twice records one payment."""
    return uuid.uuid4().hex


@login_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    """The invoices addressed to the canteens the manager runs."""
    if not user_manages_a_canteen(user=request.user):
        raise PermissionDenied(_("Cette page est réservée aux gestionnaires de cantine."))
    return render(
        request,
        "canteens/invoices/canteen_list.html",
        {"invoices": invoice_list_for_canteens(user=request.user), "today": timezone.localdate()},
    )


@login_required
@require_GET
def invoice_list_producer(request: HttpRequest) -> HttpResponse:
    """The producer's invoices to canteens, each unpaid one with its payment form."""
    if not user_is_producer_member(user=request.user):
        raise PermissionDenied(_("Cette page est réservée aux producteurs."))
    return render(
        request,
        "canteens/invoices/producer_list.html",
        {
            "invoices": invoice_list_for_producers(user=request.user),
            "today": timezone.localdate(),
            "payment_key": _payment_key(),
            "retry": request.session.pop(RETRY, None),
        },
    )


@login_required
@require_GET
def invoice_aged(request: HttpRequest) -> HttpResponse:
    """Every unpaid invoice of the coordinator's territory, by how late it is."""
    user = request.user
    if not user_is_invoice_coordinator(user=user):
        raise PermissionDenied(_("Cette page est réservée à la coordination."))
    territory_id = None if user.is_superuser else user.territory_id
    producer_id = parse_id_or_none(request.GET.get("producteur"))
    canteen_id = parse_id_or_none(request.GET.get("cantine"))
    producers = Producer.objects.filter(canteen_invoices__isnull=False).distinct()
    canteens = Canteen.objects.filter(invoices__isnull=False).distinct()
    if territory_id is not None:
        producers = producers.filter(canteen_invoices__canteen__territory_id=territory_id)
        canteens = canteens.filter(territory_id=territory_id)
    today = timezone.localdate()
    return render(
        request,
        "canteens/invoices/aged.html",
        {
            "aged": invoices_aged(
                territory=territory_id, producer=producer_id, canteen=canteen_id, today=today
            ),
            "producers": producers.order_by("name"),
            "canteens": canteens.order_by("name"),
            "producer_id": producer_id,
            "canteen_id": canteen_id,
            "payment_key": _payment_key(),
            "retry": request.session.pop(RETRY, None),
        },
    )


@login_required
@require_GET
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Download an invoice's Factur-X PDF, as it was made at issue."""
    if not _may_see_invoices(request):
        raise PermissionDenied(_("Vous n'avez accès à aucune facture."))
    invoice = get_object_or_404(invoices_visible_to(user=request.user), pk=invoice_id)
    response = HttpResponse(bytes(invoice.pdf), content_type="application/pdf")
    filename = f"facture-{invoice.issuer.slug}-{invoice.number}.pdf"
    disposition = "inline" if request.GET.get("voir") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@login_required
@require_POST
def invoice_payment(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Record a payment received by transfer; a refusal comes back with its message."""
    if not _may_record_payments(request):
        raise PermissionDenied(
            _("Seuls le producteur et la coordination saisissent les paiements.")
        )
    invoice = get_object_or_404(invoices_payable_by(user=request.user), pk=invoice_id)
    default = reverse(
        "canteens:invoice_aged"
        if user_is_invoice_coordinator(user=request.user)
        else "canteens:invoice_list_producer"
    )
    try:
        try:
            received_on = date.fromisoformat(request.POST.get("received_on", "").strip())
        except ValueError as error:
            raise PaymentDateInvalid(_("Indiquez la date de réception du virement.")) from error
        payment = invoice_payment_record(
            invoice=invoice,
            amount=request.POST.get("amount", ""),
            received_on=received_on,
            reference=request.POST.get("reference", ""),
            key=request.POST.get("key", ""),
            user=request.user,
        )
    except DomainError as refusal:
        # Back to the list with the invoice's form open, what was typed in it and the reason.
        request.session[RETRY] = {
            "invoice": invoice.pk,
            "amount": request.POST.get("amount", "")[:40],
            "received_on": request.POST.get("received_on", "")[:10],
            "reference": request.POST.get("reference", "")[:120],
            "error": refusal.message,
            "code": refusal.code,
        }
        messages.error(
            request,
            _("Facture %(number)s : %(message)s")
            % {"number": invoice.number, "message": refusal.message},
        )
        return HttpResponseRedirect(back_url(request, default) + f"#facture-{invoice.pk}")
    invoice.refresh_from_db(fields=["amount_paid", "status", "paid_on"])
    if invoice.status == "paid":
        done = _("Paiement de %(amount)s enregistré : la facture %(number)s est soldée.")
    else:
        done = _(
            "Paiement de %(amount)s enregistré pour la facture %(number)s ; "
            "reste à payer : %(due)s."
        )
    messages.success(
        request,
        done
        % {
            "amount": format_money(payment.amount),
            "number": invoice.number,
            "due": format_money(invoice.amount_due),
        },
    )
    return HttpResponseRedirect(back_url(request, default))
