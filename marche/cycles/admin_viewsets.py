"""Order cycles and their offers, in the coordinators' Wagtail admin.

An offer's stock counters (held, sold) move with buyers while a coordinator edits it: the
edit form never writes them back. Its new price, quantity and maximum go through
``offer_write``, the farmers' offer services' conditional UPDATE.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marche.core.admin_access import ScopedAdminModelForm, ScopedModelViewSet
from marche.cycles.models import Offer, OrderCycle
from marche.cycles.services import (
    offer_check_max_per_order,
    offer_check_not_below_committed,
    offer_check_price,
    offer_check_quantity,
    offer_write,
)
from marche.errors import DomainError

OFFER_EDITABLE = ("unit_price", "quantity_available", "max_per_order")


class OrderCycleForm(ScopedAdminModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("La clôture doit venir après l'ouverture."))
        delivery = data.get("delivery_date")
        if closes and delivery and delivery < timezone.localdate(closes):
            self.add_error(
                "delivery_date", _("La livraison ne peut pas précéder la clôture des commandes.")
            )
        return data


class OrderCycleViewSet(ScopedModelViewSet):
    model = OrderCycle
    icon = "date"
    menu_label = _("Cycles de commande")
    form_base = OrderCycleForm
    list_display = ["name", "opens_at", "closes_at", "delivery_date"]
    list_filter = ["delivery_date"]
    search_fields = ["name"]
    ordering = ["-opens_at"]
    form_fields = [
        "territory",
        "schedule",
        "name",
        "opens_at",
        "closes_at",
        "delivery_date",
        "minimum_order_amount",
    ]


class OfferForm(ScopedAdminModelForm):
    """Checks an offer's values as the farmers' forms do, in French, field by field."""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        product = data.get("product") or getattr(self.instance, "product", None)
        checks = (
            ("unit_price", lambda value: offer_check_price(value)),
            ("quantity_available", lambda value: offer_check_quantity(value, product=product)),
            ("max_per_order", lambda value: offer_check_max_per_order(value, product=product)),
        )
        for name, check in checks:
            if data.get(name) is None:  # missing (the field says so) or "on demand"
                continue
            try:
                check(data[name])
            except DomainError as error:
                self.add_error(name, error.message)
        if self.instance.pk:
            try:
                offer_check_not_below_committed(self.instance, data.get("quantity_available"))
            except DomainError as error:
                self.add_error("quantity_available", error.message)
        return data

    def save(self, commit: bool = True) -> Offer:
        if self.instance._state.adding or not commit:
            return super().save(commit=commit)
        changes = {name: self.cleaned_data[name] for name in OFFER_EDITABLE if name in self.fields}
        self.instance = offer_write(offer_id=self.instance.pk, **changes)
        return self.instance


class OfferViewSet(ScopedModelViewSet):
    model = Offer
    icon = "pick"
    menu_label = _("Offres")
    territory_lookup = "cycle__territory"
    form_base = OfferForm
    list_display = [
        "product",
        "cycle",
        "unit_price",
        "quantity_available",
        "quantity_held",
        "quantity_sold",
        "withdrawn_at",
    ]
    list_filter = ["cycle", "product__producer"]
    list_select_related = ("product", "cycle")
    search_fields = ["product__name"]
    ordering = ["-cycle__opens_at", "product__name"]
    form_fields = ["cycle", "product", *OFFER_EDITABLE]
    edit_form_fields = list(OFFER_EDITABLE)


order_cycle_viewset = OrderCycleViewSet("cycles")
offer_viewset = OfferViewSet("offers")
