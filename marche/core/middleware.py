"""One handler turns a refused command (a DomainError) into a page, for every HTML view.

The API has its own handler (``marche/api.py``) answering JSON; this one serves the site.
A refused form post goes back where it came from (``next``, else the referring page of this
site, else the home page) with the French message shown as an error; any other request gets
the error page with the error's status. Nothing was changed: services are atomic.

The security headers every response carries (Content-Security-Policy, Permissions-Policy)
are chosen here too, by :class:`SecurityHeadersMiddleware`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
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
        response = self.get_response(request)
        if (
            response.status_code == 405
            and not request.path.startswith("/api/")
            and not getattr(response, "streaming", False)
            and not response.content
        ):
            # A form's address opened directly (a bookmark, a reload, a link shared): the
            # site's own page with a way on, never the browser's blank error.
            page = render(request, "405.html", status=405)
            if "Allow" in response:
                page["Allow"] = response["Allow"]
            return page
        return response

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


ADMIN_PREFIXES = ("/admin/", "/django-admin/")


def content_security_policy(request: HttpRequest) -> dict[str, list[str]]:
    """The Content-Security-Policy of a response: the site's, or the admins' wider one.

    The site runs no inline script or style, so ``SECURE_CSP`` allows only its own files.
    Wagtail's admin writes inline scripts and styles: under the admin prefixes the wider
    ``MARCHE_ADMIN_CSP`` applies (still nothing from another origin). Card payments redirect
    a form post to Stripe Checkout, so ``form-action`` also allows the Stripe address in use
    (a local test double when ``STRIPE_API_BASE`` is set).
    """
    if request.path.startswith(ADMIN_PREFIXES):
        return settings.MARCHE_ADMIN_CSP
    policy = dict(settings.SECURE_CSP)
    if settings.STRIPE_API_BASE and "form-action" in policy:
        parts = urlsplit(settings.STRIPE_API_BASE)
        policy["form-action"] = [*policy["form-action"], f"{parts.scheme}://{parts.netloc}"]
    return policy


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response, and the CSP each part of the site needs.

    Placed right after Django's ``ContentSecurityPolicyMiddleware``, so that the policy
    chosen here is the one that middleware writes; a view's own ``csp_override`` wins.
    """

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.MARCHE_PERMISSIONS_POLICY and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = ", ".join(
                f"{feature}=({' '.join(allow)})"
                for feature, allow in settings.MARCHE_PERMISSIONS_POLICY.items()
            )
        if settings.SECURE_CSP and not hasattr(response, "_csp_config"):
            response._csp_config = content_security_policy(request)  # type: ignore[attr-defined]
        return response
