"""Bearer-token authentication of the API, by role."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from marche.accounts.errors import RoleForbidden
from marche.accounts.models import Role, User
from marche.accounts.selectors import request_territory, user_territory
from marche.accounts.tokens import api_token_authenticate
from marche.producers.models import ProducerMembership
from marche.territories.models import Territory


class TokenAuth(HttpBearer):
    """A live API token of an active user; subclasses add what the role must be."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        api_token = api_token_authenticate(raw=token)
        if api_token is None:
            return None  # ninja answers 401, shaped by marche.api
        self.check(api_token.user)
        request.user = api_token.user
        return api_token.user

    def check(self, user: User) -> None:
        """Refuse (403) a user whose role may not use these endpoints."""


class HouseholdAuth(TokenAuth):
    def check(self, user: User) -> None:
        if user.role != Role.HOUSEHOLD:
            raise RoleForbidden(_("Cette partie de l'API est réservée aux comptes foyers."))


class FarmerAuth(TokenAuth):
    def check(self, user: User) -> None:
        if user.role != Role.FARMER or not ProducerMembership.objects.filter(user=user).exists():
            raise RoleForbidden(
                _("Cette partie de l'API est réservée aux producteurs membres d'une ferme.")
            )


household_auth = HouseholdAuth()
farmer_auth = FarmerAuth()


def api_territory(request: HttpRequest) -> Territory | None:
    """The territory an API request reads: the person's its token (even on a public endpoint)
    or session names, else the site's its hostname reaches.

    Every public list and object of the API is narrowed to it, as the pages are: a territory's
    producers, products, cycles and relay points are not read through another's site.
    """
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        scheme, _space, raw = request.headers.get("Authorization", "").partition(" ")
        api_token = api_token_authenticate(raw=raw.strip()) if scheme.lower() == "bearer" else None
        if scheme.lower() == "bearer" and api_token is None:
            # a client sending a wrong token is told so, not answered for the hostname's
            # territory as if it had sent none
            raise AuthenticationError
        user = api_token.user if api_token is not None else None
    if isinstance(user, User):
        return user_territory(user=user)
    return request_territory(request=request)
