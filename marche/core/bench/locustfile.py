"""Households in the rush before the cutoff, for locust (run by ``manage.py bench_rush``).

Each simulated household arrives with its session (one in ten logs in through the site's login
form first), then loops: browses the shop
and catalogue pages, adds a scarce offer and a plentiful one to its basket, opens its basket
with a relay point, and checks out paying at pickup; a share of them submit the same checkout
twice (same idempotency key), as a double click would; a quarter of them pay part in mannes.
CSRF is handled as a browser does (the ``csrftoken`` cookie sent back as
``csrfmiddlewaretoken``). A refused form post comes back as a redirect with the French message
on the next page: that page is fetched, as a browser would, and the message read to tell a
sold-out refusal from another one.

Every request is recorded (kind, milliseconds, status, outcome) and written as JSON lines to
``MARCHE_RUSH_RECORDS`` when locust quits; ``MARCHE_RUSH_CONFIG`` names the JSON written by
``rush_prepare``. No Django import: this runs in locust's own (gevent) process.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import uuid
from typing import Any

from locust import HttpUser, between, events, task

CONFIG: dict[str, Any] = json.loads(
    open(os.environ["MARCHE_RUSH_CONFIG"], encoding="utf-8").read()  # noqa: SIM115
)
RECORDS: list[dict[str, Any]] = []
ACCOUNTS = itertools.count()
ERROR_MESSAGE = re.compile(r'class="message error"[^>]*>([^<]*)<')
SOLD_OUT = "Stock insuffisant"
ORDER_DETAIL = "/commander/commandes/"
TIMEOUT_S = 60  # an answer later than this counts as a transport error
# Simulated households' choices, not secrets.
RNG = random.Random()  # noqa: S311


@events.quitting.add_listener
def _write_records(environment: Any, **kwargs: Any) -> None:
    with open(os.environ["MARCHE_RUSH_RECORDS"], "w", encoding="utf-8") as out:
        for record in RECORDS:
            out.write(json.dumps(record) + "\n")


class Household(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        number = next(ACCOUNTS)
        self.email = CONFIG["emails"][number % len(CONFIG["emails"])]
        self.cycle = CONFIG["cycle_id"]
        self.shop = f"/commander/?cycle={self.cycle}"
        self.logged_in = False
        session = CONFIG["sessions"].get(self.email)
        if session:  # logged in on an earlier visit
            self.client.cookies.set(CONFIG["session_cookie"], session)
            self.logged_in = True
            return
        self._get("login", "/compte/connexion/")
        response = self._post(
            "login",
            "/compte/connexion/",
            {"username": self.email, "password": CONFIG["password"], "next": "/compte/"},
            referer="/compte/connexion/",
        )
        self.logged_in = response is not None and response.headers.get("Location") == "/compte/"

    # --- one request, timed and recorded -------------------------------------------------

    def _record(self, kind: str, began: float, status: int, outcome: str) -> None:
        RECORDS.append(
            {
                "kind": kind,
                "ms": (time.perf_counter() - began) * 1000,
                "status": status,
                "outcome": outcome,
                "at": time.time(),
            }
        )

    def _answered(self, kind: str, began: float, response: Any) -> Any:
        """Record an answer; locust's client reports a refused or cut connection as status 0."""
        status = response.status_code or 0
        if status == 0:
            self._record(kind, began, 0, "transport")
            return None
        self._record(kind, began, status, "ok" if status < 400 else f"http_{status}")
        return response

    def _get(self, kind: str, path: str) -> Any:
        began = time.perf_counter()
        try:
            response = self.client.get(path, name=kind, allow_redirects=False, timeout=TIMEOUT_S)
        except Exception:  # a transport error is a figure, not a crash
            self._record(kind, began, 0, "transport")
            return None
        return self._answered(kind, began, response)

    def _post(self, kind: str, path: str, data: dict[str, Any], *, referer: str) -> Any:
        token = self.client.cookies.get("csrftoken", "")
        began = time.perf_counter()
        try:
            response = self.client.post(
                path,
                data={**data, "csrfmiddlewaretoken": token},
                headers={"Referer": f"{self.host}{referer}"},
                name=kind,
                allow_redirects=False,
                timeout=TIMEOUT_S,
            )
        except Exception:
            self._record(kind, began, 0, "transport")
            return None
        return self._answered(kind, began, response)

    def _refusal(self, kind: str, response: Any) -> str | None:
        """Follow a redirect as a browser does; the error message shown, if any."""
        location = response.headers.get("Location", "")
        if not location:
            return None
        page = self._get("browse", location)
        if page is None:
            return None
        found = ERROR_MESSAGE.search(page.text)
        return found.group(1).strip() if found else None

    def _note(self, kind: str, outcome: str) -> None:
        RECORDS.append({"kind": kind, "ms": None, "status": None, "outcome": outcome})

    # --- the household's visit ----------------------------------------------------------

    @task
    def rush(self) -> None:
        if not self.logged_in:
            self.on_start()
            if not self.logged_in:
                return
        self._get("browse", self.shop)
        for path in RNG.sample(CONFIG["browse_paths"], k=min(2, len(CONFIG["browse_paths"]))):
            self._get("browse", path)
        offers = CONFIG["offers"]
        scarce = [offer for offer in offers if offer["scarce"]]
        plenty = [offer for offer in offers if not offer["scarce"]] or offers
        picks = [RNG.choice(scarce or offers), RNG.choice(plenty)]
        for offer in picks:
            response = self._post(
                "basket",
                "/commander/panier/ajouter/",
                {
                    "cycle": self.cycle,
                    "offer": offer["id"],
                    "count": offer["count"],
                    "next": f"{self.shop}#offre-{offer['id']}",
                },
                referer=self.shop,
            )
            if response is None or response.status_code != 302:
                continue
            message = self._refusal("basket", response)
            if message:
                self._note("basket", "sold_out" if SOLD_OUT in message else f"refused: {message}")
        relay, slot = RNG.choice(CONFIG["relay_slots"])
        cart = f"/commander/panier/{self.cycle}/"
        self._get("basket", f"{cart}?relay={relay}")
        form = {
            "relay": relay,
            "slot": slot,
            "payment_method": "pickup",
            "idempotency_key": uuid.uuid4().hex,
        }
        pays_mannes = self.email in CONFIG["manne_emails"]
        if pays_mannes:
            form["mannes"] = CONFIG["manne_part"]
        first = self._post("checkout", f"{cart}valider/", form, referer=f"{cart}?relay={relay}")
        if first is None or first.status_code != 302:
            return
        location = first.headers.get("Location", "")
        if not location.startswith(ORDER_DETAIL):
            message = self._refusal("checkout", first)
            reason = message or "no message"
            self._note("checkout", "sold_out" if SOLD_OUT in reason else f"refused: {reason}")
            return
        self._note("checkout", "accepted_with_mannes" if pays_mannes else "accepted")
        if RNG.random() < CONFIG["replay_share"]:
            again = self._post("checkout", f"{cart}valider/", form, referer=f"{cart}?relay={relay}")
            same = again is not None and again.headers.get("Location", "") == location
            self._note("checkout", "replay_same_order" if same else "replay_different_answer")
        self._get("browse", location)
