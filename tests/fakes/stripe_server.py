"""A local fake of the Stripe API and of its hosted Checkout page, on 127.0.0.1.

stripe-python is pointed at it through ``STRIPE_API_BASE``, so the real client code builds
real ``StripeObject``s from its JSON answers and no test reaches the network. It keeps
sessions, refunds, accounts and transfers in memory, honours ``Idempotency-Key`` like
Stripe (same key, same answer), and its checkout page can pay a session and send the
signed ``checkout.session.completed`` webhook to the site, as Stripe would.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send for this body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Turn Stripe's form encoding (``a[b][0][c]=v``) back into nested values."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append({})
                if last:
                    node[position] = value
                else:
                    if not node[position]:
                        node[position] = [] if parts[index + 1].isdigit() else {}
                    node = node[position]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if parts[index + 1].isdigit() else {})
    return root


class FakeStripe:
    """Start with :meth:`start`, stop with :meth:`stop`; inspect ``calls`` and the stores."""

    def __init__(self, *, webhook_secret: str, webhook_url: str = "") -> None:
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.sessions: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.fail_next = 0
        self._answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> FakeStripe:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):06d}"

    # --- what Stripe does on its side -----------------------------------------------

    def pay(self, session_id: str) -> dict[str, Any]:
        """The customer pays on the hosted page; returns the completed event."""
        session = self.sessions[session_id]
        session.update(status="complete", payment_status="paid", payment_intent=self.new_id("pi"))
        return self.event("checkout.session.completed", session)

    def expire(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        if session["status"] == "open":
            session["status"] = "expired"
        return self.event("checkout.session.expired", session)

    def dashboard_refund(self, payment_intent: str, amount_cents: int) -> dict[str, Any]:
        """Someone refunds from the Stripe dashboard; returns the refund.created event."""
        refund = {
            "id": self.new_id("re"),
            "object": "refund",
            "amount": amount_cents,
            "currency": "eur",
            "payment_intent": payment_intent,
            "status": "succeeded",
            "metadata": {},
        }
        self.refunds[refund["id"]] = refund
        return self.event("refund.created", refund)

    def event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.new_id("evt"),
            "object": "event",
            "type": kind,
            "livemode": False,
            "created": int(time.time()),
            "api_version": "2025-01-01",
            "data": {"object": json.loads(json.dumps(obj))},
        }

    def signed(self, event: dict[str, Any]) -> tuple[bytes, str]:
        payload = json.dumps(event).encode()
        return payload, sign(payload, self.webhook_secret)

    def send(self, event: dict[str, Any]) -> int:
        """POST a signed event to the site's webhook, as Stripe does."""
        payload, signature = self.signed(event)
        request = urllib.request.Request(
            self.webhook_url,
            data=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)

    # --- the API ------------------------------------------------------------------------

    def api(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.calls.append((method, path, params))
        if self.fail_next:
            self.fail_next -= 1
            return 500, {"error": {"type": "api_error", "message": "fake outage"}}
        if method == "POST" and path == "/v1/checkout/sessions":
            session_id = self.new_id("cs")
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": "payment",
                "status": "open",
                "payment_status": "unpaid",
                "payment_intent": None,
                "currency": "eur",
                "amount_total": int(params["line_items"][0]["price_data"]["unit_amount"]),
                "client_reference_id": params.get("client_reference_id"),
                "customer_email": params.get("customer_email"),
                "metadata": params.get("metadata", {}),
                "expires_at": int(params["expires_at"]),
                "success_url": params["success_url"],
                "cancel_url": params["cancel_url"],
                "url": f"{self.url}/pay/{session_id}",
            }
            self.sessions[session_id] = session
            return 200, session
        match = re.fullmatch(r"/v1/checkout/sessions/([\w]+)", path)
        if method == "GET" and match:
            found = self.sessions.get(match.group(1))
            if found is None:
                return 404, {"error": {"type": "invalid_request_error", "message": "No such"}}
            return 200, found
        if method == "POST" and path == "/v1/refunds":
            refund = {
                "id": self.new_id("re"),
                "object": "refund",
                "amount": int(params["amount"]),
                "currency": "eur",
                "payment_intent": params["payment_intent"],
                "status": "succeeded",
                "metadata": params.get("metadata", {}),
            }
            self.refunds[refund["id"]] = refund
            return 200, refund
        if method == "POST" and path == "/v1/accounts":
            account = {
                "id": self.new_id("acct"),
                "object": "account",
                "email": params.get("email"),
                "details_submitted": False,
                "payouts_enabled": False,
            }
            self.accounts[account["id"]] = account
            return 200, account
        if method == "POST" and path == "/v1/account_links":
            return 200, {
                "object": "account_link",
                "url": f"{self.url}/onboarding/{params['account']}",
                "expires_at": int(time.time()) + 300,
            }
        if method == "POST" and path == "/v1/transfers":
            transfer = {
                "id": self.new_id("tr"),
                "object": "transfer",
                "amount": int(params["amount"]),
                "currency": "eur",
                "destination": params["destination"],
                "transfer_group": params.get("transfer_group"),
            }
            self.transfers[transfer["id"]] = transfer
            return 200, transfer
        return 404, {"error": {"type": "invalid_request_error", "message": f"no {path}"}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Request-Id", "req_fake")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _api(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else parts.query
                params = unflatten(parse_qsl(raw, keep_blank_values=True))
                key = self.headers.get("Idempotency-Key")
                with fake._lock:
                    if key and method == "POST" and key in fake._answers:
                        status, body = fake._answers[key]
                    else:
                        status, body = fake.api(method, parts.path, params)
                        if key and method == "POST" and status < 500:
                            fake._answers[key] = (status, body)
                self._reply(status, body)

            def do_GET(self) -> None:
                match = re.fullmatch(r"/pay/([\w]+)", urlsplit(self.path).path)
                if match:
                    session = fake.sessions[match.group(1)]
                    amount = f"{session['amount_total'] / 100:.2f}".replace(".", ",")
                    page = (
                        "<!doctype html><html lang='fr'><meta charset='utf-8'>"
                        "<title>Stripe (factice)</title><h1>Paiement par carte (factice)</h1>"
                        f"<p id='amount'>{amount} €</p>"
                        f"<form method='post'><button id='pay'>Payer {amount} €</button></form>"
                    ).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                self._api("GET")

            def do_POST(self) -> None:
                match = re.fullmatch(r"/pay/([\w]+)", urlsplit(self.path).path)
                if match:
                    session_id = match.group(1)
                    event = fake.pay(session_id)
                    if fake.webhook_url:
                        fake.send(event)
                    target = fake.sessions[session_id]["success_url"].replace(
                        "{CHECKOUT_SESSION_ID}", session_id
                    )
                    self.send_response(303)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._api("POST")

            def do_DELETE(self) -> None:
                self._api("DELETE")

        return Handler
