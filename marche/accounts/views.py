from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from marche.accounts import services
from marche.accounts.errors import (
    InvitationExpired,
    InvitationInvalid,
    VerificationLinkExpired,
    VerificationLinkInvalid,
)
from marche.accounts.forms import (
    EmailAuthenticationForm,
    FrenchPasswordResetForm,
    FrenchSetPasswordForm,
    InvitationAcceptForm,
    InvitationForm,
    ResendForm,
    SignUpForm,
)
from marche.accounts.models import Invitation
from marche.accounts.selectors import user_dashboard
from marche.core.numbers import parse_id
from marche.territories.selectors import territory_for_request


def _site_url(request: HttpRequest) -> str:
    """This site's address as the person reached it, for the links put in e-mails."""
    return request.build_absolute_uri("/").rstrip("/")


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The account page: who you are and what your role lets you do."""
    return render(
        request, "accounts/dashboard.html", {"dashboard": user_dashboard(user=request.user)}
    )


def terms(request: HttpRequest) -> HttpResponse:
    """The terms of use that sign-up and invitations ask to accept."""
    return render(request, "accounts/terms.html")


# Sign-up -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    """A household opens its account; the same answer whatever the address."""
    if request.user.is_authenticated:
        return redirect("accounts:dashboard")
    # Where several territories share the instance, the site's own is chosen first.
    site_territory = territory_for_request(request=request)
    form = SignUpForm(request.POST or None, initial={"territory": site_territory})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.household_sign_up(
            email=data["email"],
            password=data["password1"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            territory=data.get("territory") or site_territory,
            site_url=_site_url(request),
        )
        request.session["signup_email"] = data["email"].strip().lower()
        return redirect("accounts:sign_up_sent")
    return render(request, "accounts/sign_up.html", {"form": form})


@require_http_methods(["GET", "POST"])
def sign_up_sent(request: HttpRequest) -> HttpResponse:
    """Check your mailbox; and a form to have the link sent again."""
    form = ResendForm(
        request.POST or None, initial={"email": request.session.get("signup_email", "")}
    )
    if request.method == "POST" and form.is_valid():
        services.email_verification_resend(
            email=form.cleaned_data["email"], site_url=_site_url(request)
        )
        messages.success(
            request,
            _(
                "Si cette adresse attend une confirmation, un nouveau lien vient de lui être "
                "envoyé."
            ),
        )
        return redirect("accounts:sign_up_sent")
    return render(request, "accounts/sign_up_sent.html", {"form": form})


def verify(request: HttpRequest, token: str) -> HttpResponse:
    """Follow the link of the confirmation e-mail; a bad or old link offers a new one."""
    try:
        _user, activated = services.email_verify(token=token)
    except (VerificationLinkInvalid, VerificationLinkExpired) as error:
        return render(
            request,
            "accounts/verify_invalid.html",
            {"error": error, "form": ResendForm()},
            status=error.status,
        )
    if activated:
        messages.success(
            request, _("Votre adresse est confirmée. Vous pouvez maintenant vous connecter.")
        )
    else:
        messages.info(request, _("Votre adresse était déjà confirmée : connectez-vous."))
    return redirect("accounts:login")


# Password reset: Django's views, this site's templates ---------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    form_class = FrenchPasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = FrenchSetPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


# Invitations ---------------------------------------------------------------------------------


def _coordinator(request: HttpRequest) -> None:
    if not services.user_can_invite(request.user):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def invitations(request: HttpRequest) -> HttpResponse:
    """The coordinator's page: invite someone, see the invitations and their state."""
    _coordinator(request)
    territories = services.invitation_territories(by=request.user)
    form = InvitationForm(request.POST or None, territories=territories)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        invitation = services.invitation_create(
            by=request.user,
            email=data["email"],
            role=data["role"],
            territory=data["territory"],
            producer=data["producer"],
            canteen=data["canteen"],
            relay_point=data["relay_point"],
            site_url=_site_url(request),
        )
        messages.success(
            request,
            _("Invitation envoyée à %(email)s ; le lien vaut %(days)s jours.")
            % {"email": invitation.email, "days": services.INVITATION_VALIDITY.days},
        )
        return redirect("accounts:invitations")
    listed = list(
        Invitation.objects.filter(territory__in=territories)
        .select_related("producer", "canteen", "relay_point", "invited_by", "territory")
        .order_by("-created_at", "-pk")[:100]
    )
    now = timezone.now()
    rows = [(invitation, invitation.status_at(now)) for invitation in listed]
    return render(request, "accounts/invitations.html", {"form": form, "rows": rows})


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: str) -> HttpResponse:
    _coordinator(request)
    services.invitation_revoke(by=request.user, invitation_id=parse_id(invitation_id))
    messages.success(request, _("Invitation annulée : son lien ne fonctionne plus."))
    return redirect("accounts:invitations")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitee's one-time page: choose a name and a password, then log in."""
    try:
        invitation = services.invitation_get_live(token=token)
    except (InvitationInvalid, InvitationExpired) as error:
        return render(
            request, "accounts/invitation_invalid.html", {"error": error}, status=error.status
        )
    form = InvitationAcceptForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        services.invitation_accept(
            token=token,
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            password=form.cleaned_data["password1"],
        )
        messages.success(request, _("Votre compte est prêt : connectez-vous."))
        return redirect("accounts:login")
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
    )
