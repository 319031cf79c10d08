"""One handler turns a refused command (a DomainError) into a page, for every HTML view.

The API has its own handler (``marche/api.py``) answering JSON; this one serves the site.
A refused form post goes back where it came from (``next``, else the referring page of this
site, else the home page) with the French message shown as an error; any other request gets
the error page with the error's status. Nothing was changed: services are atomic.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from marche.errors import DomainError


def back_url(request: HttpRequest, default: str = "/") -> str:
    """Where a form post returns: its ``next`` field, else the referring page, if on this site."""
    for target in (
        request.POST.get("next") if request.method == "POST" else None,
        request.GET.get("next"),
        request.headers.get("referer"),
    ):
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return target
    return default


class DomainErrorMiddleware:
    """Catch a DomainError a view let through and answer it the same way everywhere."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        if request.method == "POST":
            messages.error(request, exception.message)
            return HttpResponseRedirect(back_url(request))
        return render(
            request,
            "errors/domain_error.html",
            {"error": exception},
            status=exception.status,
        )
