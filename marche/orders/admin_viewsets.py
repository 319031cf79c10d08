"""Orders in the coordinators' Wagtail admin: a listing to find one, its page, a refund.

An order's lines and money are never edited here. The one action is a refund
(:func:`marche.payments.refunds.order_refund`): euros back on the card, mannes back on
the household's account, with a reason the household reads in its e-mail.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin.views.generic import InspectView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets import HeaderButton

from marche.core.admin_access import ScopedModelViewSet, territory_scope, user_is_admin_coordinator
from marche.core.numbers import InvalidNumber, parse_decimal
from marche.errors import DomainError
from marche.money import format_money
from marche.orders.models import Order, OrderStatus
from marche.payments.methods import payment_method_find
from marche.payments.refunds import (
    KEY_MAX_LENGTH,
    MannesAlreadyReturned,
    RefundableParts,
    order_refund,
    order_refundable,
)


def refund_url(order: Order) -> str:
    return reverse("admin_orders:refund", args=[order.pk])


def local_currency_name(order: Order) -> str:
    territory = order.cycle.territory
    return territory.local_currency_plural or territory.local_currency_code


class OrderInspectView(InspectView):
    """The order's page, with its payments and refunds, and a "Rembourser" button while it
    has something to give back."""

    def get_payment_method_display_value(self) -> str:
        method = payment_method_find(self.object.payment_method)
        return str(method.label) if method is not None else self.object.payment_method

    def get_fields_context(self) -> list[dict[str, Any]]:
        # "À payer avant" is the deadline of an order still waiting for its payment; once
        # confirmed (paid, or to be paid at the relay point) or ended, it means nothing.
        names = [
            name
            for name in self.fields
            if name != "expires_at" or self.object.status == OrderStatus.PENDING
        ]
        return [self.get_context_for_field(name) for name in names]

    def get_field_label(self, field_name: str, field: Any) -> str:
        if field_name == "payments":
            return str(_("Paiements et remboursements"))
        return super().get_field_label(field_name, field)

    @cached_property
    def parts(self) -> RefundableParts:
        """Read once for the payments line and the refund button."""
        return order_refundable(order=self.object)

    def get_payments_display_value(self) -> str:
        parts = self.parts
        currency = local_currency_name(self.object)
        lines = []
        if parts.card_payment_id is not None:
            lines.append(
                _("carte : payé %(paid)s, remboursé %(refunded)s")
                % {
                    "paid": format_money(parts.card_paid),
                    "refunded": format_money(parts.card_refunded),
                }
            )
        if parts.mannes_paid:
            lines.append(
                _("monnaie locale : payé %(paid)s, rendu %(returned)s")
                % {
                    "paid": format_money(parts.mannes_paid, currency),
                    "returned": format_money(parts.mannes_returned, currency),
                }
            )
        return " · ".join(str(line) for line in lines) or str(_("rien de payé en ligne"))

    @cached_property
    def header_buttons(self) -> list[HeaderButton]:
        buttons = list(super().header_buttons)
        if self.parts.card_left > 0 or self.parts.mannes_left > 0:
            buttons.append(
                HeaderButton(_("Rembourser"), url=refund_url(self.object), icon_name="undo")
            )
        return buttons


class RefundForm(forms.Form):
    amount = forms.CharField(
        label=_("Montant à rembourser sur la carte (€)"),
        required=False,
        max_length=20,
        help_text=_("Par exemple 4,50."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    mannes = forms.BooleanField(label=_("Rendre la monnaie locale payée"), required=False)
    reason = forms.CharField(
        label=_("Motif"),
        max_length=200,
        help_text=_("Le foyer le lira dans l'e-mail de remboursement."),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=KEY_MAX_LENGTH)

    def __init__(
        self, *args: Any, parts: RefundableParts, currency_name: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.parts = parts
        if parts.card_left <= 0:
            del self.fields["amount"]
        else:
            self.fields["amount"].help_text = _(
                "Par exemple 4,50 ; au plus %(left)s. Vide : rien sur la carte."
            ) % {"left": format_money(parts.card_left)}
        if parts.mannes_left <= 0:
            del self.fields["mannes"]
        else:
            self.fields["mannes"].label = _("Rendre les %(amount)s payés en monnaie locale") % {
                "amount": format_money(parts.mannes_left, currency_name)
            }

    def clean(self) -> dict[str, Any]:
        """A form opened before another tab refunded: say what happened, not "nothing"."""
        data = super().clean()
        if "mannes" not in self.fields and self.data.get("mannes"):
            raise forms.ValidationError(MannesAlreadyReturned.default_message)
        if "amount" not in self.fields and (self.data.get("amount") or "").strip():
            raise forms.ValidationError(
                _("Le paiement par carte de cette commande a déjà été remboursé en entier.")
            )
        return data

    def clean_amount(self) -> Decimal:
        text = (self.cleaned_data.get("amount") or "").strip()
        if not text:
            return Decimal("0.00")
        try:
            return parse_decimal(text, "price", minimum=Decimal("0"))
        except InvalidNumber as error:
            raise forms.ValidationError(error.message) from error


class OrderRefundView(WagtailAdminTemplateMixin, FormView):  # type: ignore[type-arg]
    """Refund an order: a form with the amount, the mannes and a reason."""

    template_name = "wagtailadmin/orders/refund.html"
    page_title = _("Rembourser")
    header_icon = "undo"
    form_class = RefundForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_is_admin_coordinator(request.user):
            raise Http404
        orders = territory_scope(
            Order.objects.select_related("customer", "cycle__territory", "relay_point"),
            user=request.user,
            lookup="cycle__territory",
        )
        self.order = get_object_or_404(orders, pk=kwargs["pk"])
        self.parts = order_refundable(order=self.order)
        return super().dispatch(request, *args, **kwargs)

    @property
    def currency_name(self) -> str:
        return local_currency_name(self.order)

    def get_page_subtitle(self) -> str:
        return str(self.order)

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *self.breadcrumbs_items,
            {"url": reverse("admin_orders:index"), "label": _("Commandes")},
            {
                "url": reverse("admin_orders:inspect", args=[self.order.pk]),
                "label": str(self.order),
            },
            {"url": "", "label": self.page_title},
        ]

    def get_initial(self) -> dict[str, Any]:
        return {"key": uuid.uuid4().hex}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "parts": self.parts,
            "currency_name": self.currency_name,
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            order=self.order,
            parts=self.parts,
            action_url=refund_url(self.order),
            submit_button_label=_("Rembourser"),
            submit_button_active_label=_("Remboursement…"),
            currency_name=self.currency_name,
            refundable=self.parts.card_left > 0 or self.parts.mannes_left > 0,
            inspect_url=reverse("admin_orders:inspect", args=[self.order.pk]),
        )
        return context

    def form_valid(self, form: RefundForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            result = order_refund(
                order_id=self.order.pk,
                by=self.request.user,  # type: ignore[arg-type]
                amount=data.get("amount") or Decimal("0.00"),
                mannes=bool(data.get("mannes")),
                reason=data["reason"],
                key=data["key"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        except Exception as error:  # Stripe did not answer: the same form retries the same key
            import stripe

            if not isinstance(error, stripe.StripeError):
                raise
            form.add_error(
                None,
                _(
                    "Le paiement par carte ne répond pas. Le remboursement est enregistré "
                    "et sera repris : renvoyez ce formulaire dans un moment."
                ),
            )
            return self.form_invalid(form)
        done = []
        if result.card_refund is not None:
            done.append(format_money(result.card_refund.amount))
        if result.mannes_returned:
            done.append(format_money(result.mannes_returned, self.currency_name))
        messages.success(
            self.request,
            _("Commande %(ref)s : remboursement de %(amounts)s. Le foyer est prévenu par e-mail.")
            % {"ref": self.order.reference, "amounts": " + ".join(done)},
        )
        return redirect("admin_orders:inspect", self.order.pk)


class OrderViewSet(ScopedModelViewSet):
    model = Order
    icon = "list-ul"
    menu_label = _("Commandes")
    territory_lookup = "cycle__territory"
    actions = ("view",)
    inspect_view_class = OrderInspectView
    list_display = ["reference", "customer", "cycle", "relay_point", "status", "total"]
    list_filter = ["status", "cycle", "relay_point", "payment_method"]
    list_select_related = ("customer", "cycle", "relay_point")
    search_fields = ["reference", "customer__email", "customer__last_name"]
    ordering = ["-created_at"]
    inspect_view_fields = [
        "reference",
        "customer",
        "cycle",
        "relay_point",
        "pickup_slot",
        "status",
        "payment_method",
        "total",
        "payments",
        "is_final",
        "expires_at",
        "confirmed_at",
        "cancelled_at",
        "created_at",
    ]

    def get_urlpatterns(self) -> list[Any]:
        return [
            *super().get_urlpatterns(),
            path("refund/<int:pk>/", OrderRefundView.as_view(), name="refund"),
        ]


order_viewset = OrderViewSet("orders")
