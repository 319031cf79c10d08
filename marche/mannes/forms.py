"""The household's declaration of time given, read with the one number parser."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from marche.core.numbers import InvalidNumber, parse_decimal
from marche.mannes.errors import GivenOnInvalid
from marche.mannes.models import RewardActivity
from marche.mannes.services import DECLARATION_WINDOW

KEY = re.compile(r"^[0-9a-f]{32}$")


class TimeDeclarationForm(forms.Form):
    given_on = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={
            "invalid": _("Indiquez une date, par exemple 14/03/2026."),
            "required": _("Indiquez la date."),
        },
    )
    activity = forms.ModelChoiceField(
        label=_("Activité"),
        queryset=RewardActivity.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choisissez une activité de la liste.")},
    )
    hours = forms.CharField(
        label=_("Heures données"),
        max_length=40,
        help_text=_("Par exemple 1,5 pour une heure et demie."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={"required": _("Indiquez la durée.")},
    )
    description = forms.CharField(
        label=_("Ce que vous avez fait"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Décrivez en quelques mots ce que vous avez fait.")},
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=32)

    def __init__(
        self, *args: Any, activities: list[RewardActivity], today: date, **kwargs: Any
    ) -> None:
        self.today = today
        super().__init__(*args, **kwargs)
        self.fields["hours"].widget.attrs["placeholder"] = number_format(Decimal("1.5"), 1)
        field = self.fields["activity"]
        field.queryset = RewardActivity.objects.filter(pk__in=[a.pk for a in activities])
        field.label_from_instance = lambda activity: str(
            _("%(name)s (%(rate)s par heure)")
            % {"name": activity.name, "rate": number_format(activity.mannes_per_hour, 2)}
        )

    def clean_given_on(self) -> date:
        """A day of the past year, today included (the service checks it again)."""
        given_on = self.cleaned_data["given_on"]
        if given_on > self.today:
            raise forms.ValidationError(
                _("Cette date est à venir : indiquez le jour où vous avez donné ce temps."),
                code="given_on_future",
            )
        if given_on < self.today - DECLARATION_WINDOW:
            raise forms.ValidationError(GivenOnInvalid.default_message, code=GivenOnInvalid.code)
        return given_on

    def clean_hours(self) -> Decimal:
        try:
            hours = parse_decimal(self.cleaned_data["hours"], "hours", maximum=Decimal("24"))
        except InvalidNumber as error:
            raise forms.ValidationError(error.message, code=error.code) from error
        if hours <= 0:
            raise forms.ValidationError(_("La durée doit être plus grande que zéro."))
        return hours

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        if not KEY.match(key):
            raise forms.ValidationError(_("Formulaire périmé : rechargez la page."))
        return key
