from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from marche.accounts.models import INVITED_ROLES, Role, User
from marche.accounts.services import user_awaiting_check
from marche.canteens.models import Canteen
from marche.core.mail import TextEmail, render_text
from marche.producers.models import Producer
from marche.relays.models import RelayPoint
from marche.territories.models import Territory
from marche.territories.selectors import territory_from_email, territory_site_elsewhere

logger = logging.getLogger(__name__)

NAME_MAX = 150


# Django's French says "adresse de courriel"; the site says "e-mail" everywhere.
EMAIL_ERRORS = {"invalid": _("Saisissez une adresse e-mail valide.")}


def _email_field(**widget_attrs: Any) -> forms.EmailField:
    return forms.EmailField(
        label=_("Adresse e-mail"),
        max_length=254,
        error_messages=EMAIL_ERRORS,
        widget=forms.EmailInput(attrs={"autocomplete": "email", **widget_attrs}),
    )


def _terms_field(label: Any) -> forms.BooleanField:
    """The terms box; its template shows the label with a link to the terms page."""
    return forms.BooleanField(
        label=label,
        error_messages={"required": _("Acceptez les conditions d'utilisation pour continuer.")},
    )


class EmailAuthenticationForm(AuthenticationForm):
    """Log in with an e-mail address (case does not matter)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Adresse e-mail ou mot de passe incorrect."),
        "other_territory": _(
            "Votre compte est inscrit au marché de %(territory)s : connectez-vous sur son site."
        ),
        "unconfirmed": _(
            "Votre adresse e-mail n'est pas encore confirmée : suivez le lien reçu par "
            "e-mail, ou demandez un nouveau lien."
        ),
    }

    username = _email_field(autofocus=True)

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()

    # the person's own territory's sign-in page, when they tried another's (a link is shown)
    elsewhere: dict[str, Any] | None = None

    def confirm_login_allowed(self, user: Any) -> None:
        """A person signs in on their own territory's site, not another's: there they would
        see its pages beside their own orders. Said only to who typed the right password."""
        super().confirm_login_allowed(user)
        if self.request is None:
            return
        elsewhere = territory_site_elsewhere(request=self.request, user=user)
        if elsewhere:
            self.elsewhere = {"url": elsewhere + reverse("accounts:login"), "name": user.territory}
            raise forms.ValidationError(
                self.error_messages["other_territory"],
                code="other_territory",
                params={"territory": user.territory.name},
            )

    def get_invalid_login_error(self) -> forms.ValidationError:
        """Who typed the right password of an account never confirmed is told so.

        Only the right password reveals it, so this tells nothing to someone guessing
        addresses.
        """
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        user = User.objects.filter(email=email).first() if email else None
        if (
            user is not None
            and user_awaiting_check(user)
            and password
            and user.check_password(password)
        ):
            self.unconfirmed = True
            return forms.ValidationError(self.error_messages["unconfirmed"], code="unconfirmed")
        return super().get_invalid_login_error()


def _name_field(label: Any, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": autocomplete}),
    )


class _PasswordPairMixin(forms.Form):
    """Two password fields, checked against each other and Django's validators."""

    password1 = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Au moins 8 caractères, pas seulement des chiffres, pas trop courant."),
    )
    password2 = forms.CharField(
        label=_("Mot de passe (encore)"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def _candidate_user(self) -> User:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))
        elif first:
            try:
                password_validation.validate_password(first, self._candidate_user())
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SignUpForm(_PasswordPairMixin):
    """A household opens its account; the territory is asked only when there are several."""

    first_name = _name_field(_("Prénom"), "given-name")
    last_name = _name_field(_("Nom"), "family-name")
    email = _email_field()
    territory = forms.ModelChoiceField(
        label=_("Votre territoire"),
        queryset=Territory.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choisissez un territoire de la liste.")},
    )
    terms = _terms_field(
        _(
            "J'accepte les conditions d'utilisation et que mes données servent à préparer "
            "mes commandes."
        )
    )

    field_order = ["first_name", "last_name", "email", "password1", "password2", "territory"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        territories = Territory.objects.filter(is_active=True).order_by("name")
        field = self.fields["territory"]
        field.queryset = territories
        self.territory_choice = territories.count() > 1
        if not self.territory_choice:
            del self.fields["territory"]

    def _candidate_user(self) -> User:
        return User(
            email=self.cleaned_data.get("email", ""),
            first_name=self.cleaned_data.get("first_name", ""),
            last_name=self.cleaned_data.get("last_name", ""),
        )


class ResendForm(forms.Form):
    email = _email_field()


class InvitationAcceptForm(_PasswordPairMixin):
    """The invitee chooses their name and password, and accepts the terms."""

    first_name = _name_field(_("Prénom"), "given-name")
    last_name = _name_field(_("Nom"), "family-name")
    terms = _terms_field(
        _(
            "J'accepte les conditions d'utilisation et que mes données servent au "
            "fonctionnement du marché."
        )
    )

    field_order = ["first_name", "last_name", "password1", "password2", "terms"]

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        self.email = email
        super().__init__(*args, **kwargs)

    def _candidate_user(self) -> User:
        return User(
            email=self.email,
            first_name=self.cleaned_data.get("first_name", ""),
            last_name=self.cleaned_data.get("last_name", ""),
        )


class InvitationForm(forms.Form):
    """A coordinator invites someone: address, role and, by role, the producer, the canteen or
    the relay point."""

    email = forms.EmailField(label=_("Adresse e-mail"), max_length=254, error_messages=EMAIL_ERRORS)
    role = forms.ChoiceField(
        label=_("Rôle"),
        choices=[(role.value, role.label) for role in INVITED_ROLES],
        error_messages={"invalid_choice": _("Choisissez un rôle de la liste.")},
    )
    territory = forms.ModelChoiceField(
        label=_("Territoire"),
        queryset=Territory.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choisissez un territoire de la liste.")},
    )
    producer = forms.ModelChoiceField(
        label=_("Producteur (pour un producteur)"),
        queryset=Producer.objects.none(),
        required=False,
        empty_label="—",
        error_messages={"invalid_choice": _("Choisissez un producteur de la liste.")},
    )
    canteen = forms.ModelChoiceField(
        label=_("Cantine (pour un gestionnaire de cantine)"),
        queryset=Canteen.objects.none(),
        required=False,
        empty_label="—",
        error_messages={"invalid_choice": _("Choisissez une cantine de la liste.")},
    )
    relay_point = forms.ModelChoiceField(
        label=_("Point relais (pour un responsable de point relais)"),
        queryset=RelayPoint.objects.none(),
        required=False,
        empty_label="—",
        error_messages={"invalid_choice": _("Choisissez un point relais de la liste.")},
    )

    def __init__(self, *args: Any, territories: list[Territory], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = [territory.pk for territory in territories]
        self.fields["territory"].queryset = Territory.objects.filter(pk__in=ids).order_by("name")
        self.fields["producer"].queryset = (
            Producer.objects.filter(territory_id__in=ids)
            .select_related("territory")
            .order_by("name")
        )
        self.fields["canteen"].queryset = Canteen.objects.filter(
            territory_id__in=ids, is_active=True
        ).order_by("name")
        self.fields["relay_point"].queryset = RelayPoint.objects.filter(
            territory_id__in=ids, is_active=True
        ).order_by("name")
        self.several_territories = len(ids) > 1
        if len(ids) == 1:
            self.fields["territory"].initial = ids[0]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        role = cleaned.get("role")
        territory = cleaned.get("territory")
        producer, canteen = cleaned.get("producer"), cleaned.get("canteen")
        relay_point = cleaned.get("relay_point")
        if role == Role.FARMER and producer is None and "producer" not in self.errors:
            self.add_error("producer", _("Choisissez le producteur que cette personne rejoint."))
        if role == Role.CANTEEN_MANAGER and canteen is None and "canteen" not in self.errors:
            self.add_error("canteen", _("Choisissez la cantine que cette personne gère."))
        if role == Role.RELAY_KEEPER and relay_point is None and "relay_point" not in self.errors:
            self.add_error("relay_point", _("Choisissez le point relais que cette personne tient."))
        if role != Role.FARMER:
            cleaned["producer"] = None
        if role != Role.CANTEEN_MANAGER:
            cleaned["canteen"] = None
        if role != Role.RELAY_KEEPER:
            cleaned["relay_point"] = None
        for name in ("producer", "canteen", "relay_point"):
            target = cleaned.get(name)
            if target is not None and territory is not None and target.territory_id != territory.pk:
                self.add_error(name, _("Choisissez-le sur le territoire de l'invitation."))
        return cleaned


class FrenchPasswordResetForm(PasswordResetForm):
    email = _email_field(autofocus=True)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        """Django's reset e-mail, as text whose link stays whole (see ``TextEmail``), from
        the sender of the account's territory."""
        subject = "".join(render_text(subject_template_name, context).splitlines())
        body = render_text(email_template_name, context)
        from_email = territory_from_email(territory=context["user"].territory)
        try:
            TextEmail(subject, body, from_email, [to_email]).send()
        except Exception:  # as Django does: the page says the same whether sent or not
            logger.exception("Failed to send password reset email to %s", context["user"].pk)


class FrenchSetPasswordForm(SetPasswordForm):
    error_messages = {
        **SetPasswordForm.error_messages,
        "password_mismatch": _("Les deux mots de passe ne sont pas identiques."),
    }
