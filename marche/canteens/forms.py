"""Forms of the canteen pages: the few fields that are not a list of quantities.

Quantities of the bulk order and the standing order are many fields named after their offer
or product (``q-12``); the views hand the typed text to the services, which read it with
``marche.core.numbers.parse_decimal`` (decimal commas) and say which field a refusal is about.
Numbers typed here (wholesale prices, minimums) go through the same parser, in text inputs
with ``inputmode="decimal"``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from marche.catalog.models import Product, Unit
from marche.producers.forms import NumberField, _shown

NOTE_MAX = 200


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateField(forms.DateField):
    """A day typed in the browser's date picker (ISO) or the French way (31/12/2026)."""

    widget = DateInput
    input_formats = ["%Y-%m-%d", "%d/%m/%Y"]
    default_error_messages = {"invalid": _("Indiquez une date, par exemple 07/09/2026.")}


class StandingDatesForm(forms.Form):
    starts_on = DateField(
        label=_("À partir du"), error_messages={"required": _("Indiquez le premier jour.")}
    )
    ends_on = DateField(label=_("Jusqu'au (facultatif)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("La date de fin doit venir après la date de début."))
        return data


class SkipWeekForm(forms.Form):
    week = DateField(
        label=_("Semaine du"),
        error_messages={"required": _("Indiquez un jour de la semaine à sauter.")},
    )
    reason = forms.CharField(label=_("Motif (facultatif)"), max_length=120, required=False)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_week(self) -> date:
        week: date = self.cleaned_data["week"]
        if week < self.today:
            raise forms.ValidationError(
                _("Cette semaine est passée : choisissez une semaine à venir.")
            )
        return week


class WholesaleForm(forms.Form):
    """One product's wholesale price excluding VAT (empty: not sold to canteens) and minimum."""

    price = NumberField(kind="price", minimum=Decimal("0.01"), required=False)
    minimum = NumberField(
        kind="stock",
        minimum=Decimal("0.001"),
        error_messages={"required": _("Indiquez le minimum par commande de cantine.")},
    )

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"p{product.pk}")
        kwargs.setdefault(
            "initial",
            {
                "price": _shown(product.wholesale_price, 2)
                if product.wholesale_price is not None
                else "",
                "minimum": _shown(product.wholesale_minimum),
            },
        )
        super().__init__(*args, **kwargs)
        self.product = product
        price = self.fields["price"]
        price.label = _("Prix de gros HT (€)")
        minimum = self.fields["minimum"]
        assert isinstance(minimum, NumberField)
        minimum.label = _("Minimum par commande")
        divisible = product.unit in (Unit.KG, Unit.LITRE) and not product.is_variable_weight
        minimum.places = 3 if divisible else 0
        minimum.minimum = Decimal("0.001") if divisible else Decimal("1")


def quantity_typed(value: Decimal) -> str:
    """A quantity as a French person types it back into a field: 12,5 and 8, no zeros."""
    return f"{value.normalize():f}".replace(".", ",")


def note_clean(text: object) -> str:
    """A producer's or manager's short note, trimmed to what the line keeps."""
    return str(text or "").strip()[:NOTE_MAX]
