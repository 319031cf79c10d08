"""A household's manne pages: balance, history, declarations of time given."""

from __future__ import annotations

import uuid
import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from marche.accounts.selectors import user_has_manne_pages, user_territory
from marche.errors import DomainError
from marche.mannes.forms import TimeDeclarationForm
from marche.mannes.selectors import (
    ZERO,
    manne_account_find,
    manne_balance,
    manne_declarations_for_user,
    manne_statement_lines,
    reward_activities,
)
from marche.mannes.services import manne_time_declare

# The field a refusal of ``manne_time_declare`` is about (others go above the form).
FIELD_OF_ERROR = {
    "given_on_invalid": "given_on",
    "reward_activity_not_found": "activity",
    "invalid_amount": "hours",
}


@login_required
@require_http_methods(["GET", "POST"])
def overview(request: HttpRequest) -> HttpResponse:
    """Balance, postings, and the declaration of time given; 404 where no manne runs."""
    if not user_has_manne_pages(user=request.user):
        raise Http404
    territory = user_territory(user=request.user)
    assert territory is not None
    activities = reward_activities(territory=territory)
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(territory.timezone)).date()
    form = TimeDeclarationForm(
        request.POST or None,
        activities=activities,
        today=today,
        initial={"key": uuid.uuid4().hex, "given_on": today},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            declared = manne_time_declare(
                household=request.user,
                territory=territory,
                activity_id=data["activity"].pk,
                hours=data["hours"],
                given_on=data["given_on"],
                description=data["description"],
                key=f"reward:{request.user.pk}:{data['key']}",
            )
        except DomainError as error:
            # Shown on the form, which keeps what was typed (the hours, the description),
            # beside the field it is about when there is one.
            form.add_error(FIELD_OF_ERROR.get(error.code), error.message)
        else:
            messages.success(
                request,
                _(
                    "Merci ! Votre déclaration (%(amount)s %(currency)s) est transmise à la "
                    "coordination, qui la validera."
                )
                % {
                    "amount": number_format(declared.amount, 2),
                    "currency": territory.local_currency_plural or territory.local_currency_code,
                },
            )
            return redirect("mannes:overview")
    account = manne_account_find(user=request.user, territory=territory)
    balance = manne_balance(account=account) if account is not None else None
    statement = (
        manne_statement_lines(account=account, page=request.GET.get("page", 1))
        if account is not None
        else None
    )
    return render(
        request,
        "mannes/overview.html",
        {
            "territory": territory,
            "currency": territory.local_currency_plural or territory.local_currency_code,
            "available": balance.available if balance else ZERO,
            "held": balance.held if balance else ZERO,
            "statement": statement,
            "declarations": manne_declarations_for_user(user=request.user, territory=territory),
            "activities": activities,
            "form": form,
        },
    )
