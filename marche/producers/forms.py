"""Forms of the farmer dashboard: one offer per product, and the CSV upload.

Numbers are typed the French way ("2,80") or the browser's way ("2.80") in text inputs with
``inputmode="decimal"`` (a ``type=number`` field in a French browser turned "2,80" into 280)
and read by the one parser, ``marche.core.numbers.parse_decimal``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from marche.catalog.models import Product
from marche.core.numbers import InvalidNumber, parse_decimal
from marche.cycles.models import Offer
from marche.cycles.offer_csv import CONFIRM_PRICES_LABEL
from marche.cycles.services import offer_quantity_places

CSV_MAX_BYTES = 1_000_000


def _shown(value: Decimal | None, places: int | None = None) -> str:
    """A number as the farmer typed it: 2,80 for a price, 10 and 2,5 for quantities."""
    if value is None:
        return ""
    if places is None:
        value = Decimal(f"{value.normalize():f}")
        places = max(0, -value.as_tuple().exponent)  # type: ignore[operator]
    return number_format(value, decimal_pos=places, use_l10n=True)


class NumberField(forms.CharField):
    """A number typed by a person, read by ``parse_decimal`` of one kind."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def __init__(
        self,
        *,
        kind: str,
        places: int | None = None,
        minimum: Decimal | None = None,
        **kwargs: Any,
    ) -> None:
        self.kind = kind
        self.places = places
        self.minimum = minimum
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)  # a longer text gets the parser's French message
        return attrs

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_decimal(text, self.kind, places=self.places, minimum=self.minimum)
        except InvalidNumber as error:
            raise forms.ValidationError(error.message, code=error.code) from error

    def clean(self, value: Any) -> Decimal | None:  # type: ignore[override]
        # CharField's max_length validator would run on the Decimal; the parser bounds it.
        value = self.to_python(value)
        if value is None and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return value


class OfferForm(forms.Form):
    """Price and quantity of one product in one cycle; "à la demande" leaves the stock open.

    An on-demand offer has a maximum per order. A price far from the product's usual one is
    saved only with "Je confirme ce prix" ticked: the view shows that box once the service
    refused the price (``price_unusual``).
    """

    unit_price = NumberField(
        kind="price",
        minimum=Decimal("0.01"),
        label=_("Prix (€)"),
        error_messages={"required": _("Indiquez le prix.")},
    )
    quantity_available = NumberField(kind="stock", label=_("Quantité"), required=False)
    on_demand = forms.BooleanField(label=_("À la demande"), required=False)
    max_per_order = NumberField(kind="weight", label=_("Maximum par commande"), required=False)
    confirm_price = forms.BooleanField(label=_("Je confirme ce prix"), required=False)

    def __init__(
        self, *args: Any, product: Product, offer: Offer | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("auto_id", f"id_p{product.pk}_%s")
        if offer is None:
            initial = {"unit_price": _shown(product.unit_price, 2)}
        else:
            initial = {
                "unit_price": _shown(offer.unit_price, 2),
                # A withdrawn offer goes back on sale with a quantity the farmer types anew.
                "quantity_available": ""
                if offer.withdrawn_at is not None
                else _shown(offer.quantity_available),
                "on_demand": offer.quantity_available is None,
                "max_per_order": _shown(offer.max_per_order),
            }
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.product = product
        self.offer = offer
        self.price_warning = ""
        places = offer_quantity_places(product)
        smallest = Decimal(1).scaleb(-places)
        for name in ("quantity_available", "max_per_order"):
            field = self.fields[name]
            assert isinstance(field, NumberField)
            field.places, field.minimum = places, smallest

    def warn_price(self, message: str) -> None:
        """Show the service's unusual-price message and the box that confirms the price."""
        self.price_warning = message

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("on_demand"):
            data["quantity_available"] = None
        elif data.get("quantity_available") is None and "quantity_available" not in self.errors:
            if self.offer is not None and self.offer.withdrawn_at is not None:
                message = _(
                    "%(product)s est retiré de la vente : pour le remettre en vente, indiquez "
                    "la quantité disponible, ou cochez « À la demande »."
                ) % {"product": self.product.name}
            else:
                message = _("Indiquez la quantité disponible, ou cochez « À la demande ».")
            self.add_error("quantity_available", message)
        return data


class OfferImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier CSV"),
        error_messages={"required": _("Choisissez le fichier CSV à importer.")},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    confirm_prices = forms.BooleanField(label=CONFIRM_PRICES_LABEL, required=False)

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > CSV_MAX_BYTES:
            raise forms.ValidationError(_("Fichier trop volumineux (1 Mo au plus)."))
        return bytes(upload.read())
