"""The public API, ``/api/v1/``: catalogue and offers (public), farmers' offers, orders.

Every refusal has one shape, ``{"code", "message", "params"?}``: ``code`` is stable for
programs, ``message`` is for people, in the request's language (French unless the client
sends ``Accept-Language: en``).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from marche.accounts.errors import NotAuthenticated, RoleForbidden
from marche.catalog.api import router as catalog_router
from marche.cycles.api import farmer_router as farmer_offers_router
from marche.cycles.api import router as cycles_router
from marche.errors import DomainError, NotFound
from marche.orders.api import router as orders_router
from marche.producers.api import router as producers_router
from marche.relays.api import router as relays_router

api = NinjaAPI(
    title="Marché local — API",
    version="1",
    description=(
        "Catalogue et offres des cycles de commande (lecture publique), offres des "
        "producteurs (jeton producteur), paniers et commandes des foyers (jeton foyer). "
        "Authentification : en-tête `Authorization: Bearer <jeton>`."
    ),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request: HttpRequest, error: DomainError) -> HttpResponse:
    return api.create_response(request, error.as_dict(), status=error.status)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc)


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422


def _field(loc: list[Any] | tuple[Any, ...]) -> str:
    # ("body", "payload", "count") -> "count": the first two parts only say where it came from
    parts = [str(part) for part in loc[1:] if part not in {"payload", "filters"}]
    return ".".join(parts) or str(loc[0])


class HttpFailure(DomainError):
    code = "http_error"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [{"field": _field(e.get("loc", ())), "type": e.get("type", "")} for e in exc.errors]
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return _error(
        request,
        InvalidInput(
            _("Données invalides : vérifiez %(fields)s.") % {"fields": fields}, errors=errors
        ),
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, NotAuthenticated())


@api.exception_handler(AuthorizationError)
def authorization_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return _error(request, RoleForbidden())


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, NotFound())


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, HttpFailure(exc.message, status=exc.status_code))


api.add_router("/", producers_router)
api.add_router("/", catalog_router)
api.add_router("/", cycles_router)
api.add_router("/", relays_router)
api.add_router("/me/", farmer_offers_router)
api.add_router("/me/", orders_router)


def _in_client_language(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer in the language the client asks for (``Accept-Language``), French by default.

    LocaleMiddleware forces French on every URL outside ``i18n_patterns`` (the default
    language has no prefix), so the API picks its language itself.
    """

    @wraps(view)
    def view_in_language(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Language", language)
        return response

    return view_in_language


# ``path("api/v1/", include("marche.api"))`` in marche/urls.py mounts it, namespace "api-v1".
urlpatterns, _app_name, _namespace = api.urls
for _pattern in urlpatterns:
    _pattern.callback = _in_client_language(_pattern.callback)  # type: ignore[union-attr]
app_name = "api-v1"
