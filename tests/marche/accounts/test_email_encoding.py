"""Account e-mails travel as readable UTF-8 text: links are never cut, on the console or SMTP.

Django 6 lets Python choose the transfer encoding, which turns any text with a line over
78 characters (every confirmation and reset link) into quoted-printable, cut by "=".
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import socketserver
import threading
from collections.abc import Iterator

import pytest
from django.core import mail
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.test import Client

from marche.core.mail import TextEmail
from tests.factories import TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db

LONG_LINK = "http://localhost:8000/compte/confirmer/" + "eyJ1IjoxMiwiZSI6ImxlYS5tYXJ0aW4" * 3 + "/"
BODY = f"Bonjour Léa,\n\nConfirmez votre adresse e-mail en suivant ce lien :\n\n{LONG_LINK}\n"


def _console(message: mail.EmailMessage) -> str:
    stream = io.StringIO()
    ConsoleBackend(stream=stream).send_messages([message])
    return stream.getvalue()


def test_the_sign_up_link_is_printed_whole_on_the_console(client: Client) -> None:
    TerritoryFactory(slug="loos")
    password = "Potager-de-Loos-2026"
    client.post(
        "/compte/inscription/",
        {
            "first_name": "Léa",
            "last_name": "Martin",
            "email": "lea@example.org",
            "password1": password,
            "password2": password,
            "terms": "on",
        },
    )
    [sent] = mail.outbox
    link = re.search(r"http://testserver/compte/confirmer/\S+/", sent.body)
    assert link and len(link.group(0)) > 78
    printed = _console(sent)
    assert "Content-Transfer-Encoding: 8bit" in printed
    assert f"\n{link.group(0)}\n" in printed
    assert "Bonjour Léa," in printed


def test_the_password_reset_link_is_printed_whole_on_the_console(client: Client) -> None:
    UserFactory(email="lea@example.org", first_name="Léa")
    client.post("/compte/mot-de-passe/oublie/", {"email": "lea@example.org"})
    [sent] = mail.outbox
    link = re.search(r"http://testserver/compte/mot-de-passe/\S+/\S+/", sent.body)
    assert link, sent.body
    printed = _console(sent)
    assert "Content-Transfer-Encoding: 8bit" in printed
    assert f"{link.group(0)}\n" in printed


def test_order_e_mails_use_the_same_sender() -> None:
    from marche.core import mail as core_mail
    from marche.orders import notifications

    assert notifications.send_mail is core_mail.send_mail


def test_a_line_past_smtps_limit_keeps_pythons_encoding() -> None:
    body = "é" * 600 + "\n"  # 1 200 bytes on one line: 8bit would break RFC 5321
    message = TextEmail("Sujet", body, "noreply@example.org", ["lea@example.org"]).message()
    assert message["Content-Transfer-Encoding"] in {"quoted-printable", "base64"}
    assert message.get_content() == body


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough of an SMTP server to receive one message (and announce 8BITMIME)."""

    received: list[bytes]

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._reply("220 test ESMTP")
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                self._reply("250-test")
                self._reply("250 8BITMIME")
            elif command == b"DATA":
                self._reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                self.received.append(data)
                self._reply("250 queued")
            elif command == b"QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 ok")


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[bytes]]]:
    received: list[bytes] = []
    handler = type("Handler", (_SMTPHandler,), {"received": received})
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server.server_address[1], received
        server.shutdown()


def test_real_smtp_receives_the_text_whole(smtp_server, settings) -> None:  # type: ignore[no-untyped-def]
    from marche.core.mail import send_mail
    from marche.settings.env import mailer_config

    port, received = smtp_server
    # The production configuration path: EMAIL_URL=smtp://… gives Django's SMTP mailer.
    settings.MAILERS = {"default": mailer_config(f"smtp://127.0.0.1:{port}")}
    assert settings.MAILERS["default"]["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (
        send_mail("Confirmez votre adresse", BODY, "noreply@example.org", ["lea@example.org"]) == 1
    )
    [raw] = received
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Content-Transfer-Encoding"] == "8bit"
    assert parsed["To"] == "lea@example.org"
    assert parsed.get_content().replace("\r\n", "\n") == BODY
    assert f"\r\n{LONG_LINK}\r\n".encode() in raw
