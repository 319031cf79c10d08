"""Forms of the farmer dashboard: one offer per product, and the CSV upload."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from marche.catalog.models import Product
from marche.cycles.models import Offer

CSV_MAX_BYTES = 1_000_000


class CommaDecimalField(forms.DecimalField):
    """A decimal typed the French way ("2,50") or the browser's way ("2.50")."""

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str):
            value = value.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        return super().to_python(value)


def _plain(quantity: Decimal | None) -> Decimal | None:
    """10.000 shown as 10 and 2.500 as 2.5 (never 1E+1)."""
    return None if quantity is None else Decimal(f"{quantity.normalize():f}")


class OfferForm(forms.Form):
    """Price and quantity of one product in one cycle; "à la demande" leaves the stock open."""

    unit_price = CommaDecimalField(
        label=_("Prix (€)"),
        min_value=Decimal("0.01"),
        max_digits=8,
        decimal_places=2,
        error_messages={
            "required": _("Indiquez le prix."),
            "invalid": _("Le prix doit être un nombre, par exemple 2,50."),
            "min_value": _("Le prix doit être strictement positif."),
            "max_decimal_places": _("Le prix se donne au centime près (2 décimales au plus)."),
        },
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}),
    )
    quantity_available = CommaDecimalField(
        label=_("Quantité"),
        required=False,
        min_value=Decimal("0.001"),
        max_digits=10,
        decimal_places=3,
        error_messages={
            "invalid": _("La quantité doit être un nombre, par exemple 12,5."),
            "min_value": _("La quantité doit être strictement positive."),
            "max_decimal_places": _("La quantité a 3 décimales au plus."),
        },
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
    )
    on_demand = forms.BooleanField(label=_("À la demande"), required=False)

    def __init__(
        self, *args: Any, product: Product, offer: Offer | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("auto_id", f"id_p{product.pk}_%s")
        if offer is None:
            kwargs.setdefault("initial", {"unit_price": product.unit_price})
        else:
            kwargs.setdefault(
                "initial",
                {
                    "unit_price": offer.unit_price,
                    "quantity_available": _plain(offer.quantity_available),
                    "on_demand": offer.quantity_available is None,
                },
            )
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("on_demand"):
            data["quantity_available"] = None
        elif data.get("quantity_available") is None and "quantity_available" not in self.errors:
            self.add_error(
                "quantity_available",
                _("Indiquez la quantité disponible, ou cochez « À la demande »."),
            )
        return data


class OfferImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier CSV"),
        error_messages={"required": _("Choisissez le fichier CSV à importer.")},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > CSV_MAX_BYTES:
            raise forms.ValidationError(_("Fichier trop volumineux (1 Mo au plus)."))
        return bytes(upload.read())
