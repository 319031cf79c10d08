"""One handler answers a refused command on every HTML page: back with an error, or a page."""

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory

from marche.core.middleware import DomainErrorMiddleware, back_url
from marche.errors import DomainError, NotFound


class Refused(DomainError):
    code = "refused"
    status = 409
    default_message = "Refusé pour de bon."


def _request(method, path, **extra):
    request = getattr(RequestFactory(), method)(path, **extra)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _run(request, error):
    middleware = DomainErrorMiddleware(lambda r: HttpResponse("ok"))
    return middleware.process_exception(request, error)


def test_a_refused_post_goes_back_to_next_with_the_message_as_an_error():
    request = _request("post", "/commander/panier/", data={"next": "/commander/?cycle=3"})
    response = _run(request, Refused())
    assert response.status_code == 302
    assert response["Location"] == "/commander/?cycle=3"
    [message] = list(get_messages(request))
    assert (message.message, message.tags) == ("Refusé pour de bon.", "error")


def test_a_refused_post_never_goes_to_another_site():
    request = _request(
        "post", "/x/", data={"next": "https://evil.example/"}, HTTP_REFERER="https://evil.example/"
    )
    assert _run(request, Refused())["Location"] == "/"
    assert back_url(_request("get", "/x/", HTTP_REFERER="http://testserver/compte/")) == (
        "http://testserver/compte/"
    )


@pytest.mark.django_db
def test_a_refused_get_shows_the_error_page_with_the_errors_status():
    response = _run(_request("get", "/commander/"), NotFound("Cette commande n'existe pas."))
    assert response.status_code == 404
    assert "Cette commande n&#x27;existe pas." in response.content.decode()


def test_other_exceptions_and_the_api_are_left_to_their_own_handlers():
    assert _run(_request("get", "/commander/"), ValueError("x")) is None
    assert _run(_request("post", "/api/v1/orders"), Refused()) is None
