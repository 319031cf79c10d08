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
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from marche.accounts.errors import NotAuthenticated, RoleForbidden
from marche.catalog.api import router as catalog_router
from marche.core.numbers import InvalidId, InvalidNumber
from marche.core.schemas import ErrorOut
from marche.cycles.api import farmer_router as farmer_offers_router
from marche.cycles.api import router as cycles_router
from marche.errors import DomainError, NotFound
from marche.orders.api import router as orders_router
from marche.producers.api import router as producers_router
from marche.relays.api import router as relays_router

# What each refusal status means; every operation declares those it can answer, all with
# the one error shape (``Error``), so clients and schemathesis know them.
ERROR_RESPONSES = {
    "400": gettext_lazy("Demande refusée (nombre ou identifiant illisible, règle métier)."),
    "401": gettext_lazy("Jeton absent, inconnu ou révoqué."),
    "403": gettext_lazy("Ce compte n'a pas accès à cette partie de l'API."),
    "404": gettext_lazy("Introuvable."),
    "409": gettext_lazy("Refusé en l'état (cycle fermé, stock épuisé, créneau complet…)."),
    "422": gettext_lazy("Données invalides (type, format ou bornes)."),
}
AUTH_STATUSES = {"401", "403"}


class MarcheApi(NinjaAPI):
    """The ninja API whose schema also declares each operation's refusals."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Error"] = ErrorOut.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                secured = bool(operation.get("security"))
                for status, description in ERROR_RESPONSES.items():
                    if status in AUTH_STATUSES and not secured:
                        continue
                    operation["responses"].setdefault(
                        status, {"description": str(description), "content": error}
                    )
        return schema


api = MarcheApi(
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


PARSER_REFUSALS: dict[str, type[DomainError]] = {
    InvalidNumber.code: InvalidNumber,
    InvalidId.code: InvalidId,
}


class HttpFailure(DomainError):
    code = "http_error"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [{"field": _field(e.get("loc", ())), "type": e.get("type", "")} for e in exc.errors]
    refusal = PARSER_REFUSALS.get(errors[0]["type"]) if len(errors) == 1 else None
    if refusal is not None:
        # One number or id the parser refused: the site's code and French message.
        params = (exc.errors[0].get("ctx") or {}).get("params") or {}
        return _error(request, refusal(exc.errors[0]["msg"], **params, field=errors[0]["field"]))
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


class InvalidJson(DomainError):
    code = "invalid_json"
    default_message = gettext_lazy("Le corps de la requête n'est pas un JSON lisible.")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and exc.message.startswith("Cannot parse request body"):
        return _error(request, InvalidJson())
    return _error(request, HttpFailure(exc.message, status=exc.status_code))


api.add_router("/", producers_router)
api.add_router("/", catalog_router)
api.add_router("/", cycles_router)
api.add_router("/", relays_router)
api.add_router("/me/", farmer_offers_router)
api.add_router("/me/", orders_router)
api.add_router("/cantines/", "marche.canteens.api.router")
api.add_router("/logistique/", "logistics.api.router")  # by path: marche imports no logistics


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
