"""Stripe's two doors into the site: the signed webhook and the Checkout return page."""

from __future__ import annotations

import logging

import stripe
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marche.payments import stripe_gateway
from marche.payments.models import Payment
from marche.payments.stripe_services import (
    checkout_fulfil,
    producer_onboarding_link,
    stripe_event_process,
)
from marche.producers.models import ProducerMembership

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify the signature on the raw body, record the event once, act on it."""
    try:
        event = stripe_gateway.webhook_event_construct(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except stripe_gateway.MalformedEvent:
        # Signed, but not an event: nothing is stored, so a replay is refused the same way.
        return JsonResponse(
            {"code": "malformed_event", "message": _("Événement Stripe mal formé.")}, status=400
        )
    except (ValueError, stripe.SignatureVerificationError):
        return JsonResponse(
            {"code": "bad_signature", "message": _("Signature Stripe invalide.")}, status=400
        )
    outcome = stripe_event_process(event=event)
    logger.info("Stripe event %s %s: %s", event["type"], event["id"], outcome)
    return JsonResponse({"received": True, "outcome": outcome})


@login_required
def card_return(request: HttpRequest) -> HttpResponse:
    """Back from Stripe Checkout: fulfil now if paid (the webhook may come later or first)."""
    session_id = request.GET.get("session_id", "")
    payment = (
        Payment.objects.filter(method="card", reference=session_id, order__customer=request.user)
        .select_related("order")
        .first()
    )
    if payment is None:
        messages.error(request, _("Paiement introuvable."))
        return redirect("orders:list")
    try:
        session = stripe_gateway.checkout_session_retrieve(session_id)
    except stripe.StripeError:
        messages.warning(
            request, _("Paiement en cours de vérification : la commande sera confirmée sous peu.")
        )
        return redirect("orders:detail", reference=payment.order.reference)
    outcome = checkout_fulfil(session=session)
    if outcome in {"fulfilled", "already_fulfilled"}:
        messages.success(request, _("Paiement reçu, merci ! Votre commande est confirmée."))
    elif outcome == "refunded_late":
        messages.error(
            request,
            _("Le paiement est arrivé après l'expiration de la commande : il est remboursé."),
        )
    else:
        messages.warning(
            request, _("Paiement en cours de vérification : la commande sera confirmée sous peu.")
        )
    return redirect("orders:detail", reference=payment.order.reference)


@login_required
def connect_onboarding(request: HttpRequest, producer_id: int) -> HttpResponse:
    """Send a farmer to Stripe to open or complete their producer's payout account."""
    membership = (
        ProducerMembership.objects.filter(user=request.user, producer_id=producer_id)
        .select_related("producer")
        .first()
    )
    if membership is None:
        return HttpResponseForbidden(_("Vous n'êtes pas membre de ce producteur."))
    if not settings.CARD_PAYMENTS_ENABLED:
        messages.error(request, _("Le paiement par carte n'est pas configuré sur ce site."))
        return redirect("accounts:dashboard")
    back = settings.MARCHE_SITE_URL + reverse("accounts:dashboard")
    try:
        url = producer_onboarding_link(
            producer=membership.producer, refresh_url=back, return_url=back
        )
    except stripe.StripeError:
        messages.error(request, _("Stripe ne répond pas : réessayez dans un moment."))
        return redirect("accounts:dashboard")
    return redirect(url)
