from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from marche.accounts.forms import EmailAuthenticationForm
from marche.accounts.selectors import user_dashboard


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
