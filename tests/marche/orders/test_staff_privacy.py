"""Privacy at preparation: drivers and relay staff see names and order references, never a
household's e-mail; weighing checks who asks before it looks a line up or locks anything."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marche.orders.models import Order, OrderLine
from marche.orders.packing import LineNotFound, WeighingNotAllowed, order_line_weigh
from tests.marche.orders.test_pick_lists import Prep, _order, build_prep, close, pdf_text, person

pytestmark = pytest.mark.django_db

MISSING_LINE = 987_654_321


@pytest.fixture
def prep() -> Prep:
    built = build_prep(closed=False)
    nameless = person(email="sans.nom@example.test", first_name="", last_name="")
    built.nameless = _order(  # type: ignore[attr-defined]
        built.cycle, nameless, built.mairie, built.mairie_slot, [(built.eggs, "1")], "nameless"
    )
    close(built.cycle)
    return built


HOUSEHOLD_EMAILS = ("alice@example.test", "bob@example.test", "sans.nom@example.test")


def downloads(client: Client, prep: Prep, relay) -> dict[str, str]:  # type: ignore[no-untyped-def]
    args = [prep.cycle.pk, relay.pk]
    page = client.get(reverse("preparation:packing_list", args=args))
    csv = client.get(reverse("preparation:packing_list_csv", args=args))
    pdf = client.get(reverse("preparation:packing_list_pdf", args=args))
    assert (page.status_code, csv.status_code, pdf.status_code) == (200, 200, 200)
    return {
        "html": page.content.decode(),
        "csv": csv.content.decode("utf-8-sig"),
        "pdf": pdf_text(pdf.content)[1],
    }


@pytest.mark.parametrize("who", ["driver", "coordinator"])
def test_packing_lists_show_names_and_references_never_emails(client, prep, who) -> None:  # type: ignore[no-untyped-def]
    client.force_login(getattr(prep, who))
    nameless = prep.nameless  # type: ignore[attr-defined]
    mairie = downloads(client, prep, prep.mairie)
    for kind, text in mairie.items():
        assert "Alice Durand" in text, kind
        assert prep.alice.reference in text, kind
        assert "Nom non renseigné" in text, kind
        assert nameless.reference in text, kind
        assert not [email for email in HOUSEHOLD_EMAILS if email in text], kind
    for kind, text in downloads(client, prep, prep.poste).items():
        assert "Bob Martin" in text and prep.bob.reference in text, kind
        assert not [email for email in HOUSEHOLD_EMAILS if email in text], kind


def test_pick_lists_and_weighing_lists_show_no_household(client, prep) -> None:  # type: ignore[no-untyped-def]
    client.force_login(prep.farmer_cocagne)
    args = [prep.cycle.pk, prep.cocagne.pk]
    for name in ("pick_list", "pick_list_csv", "pick_list_pdf"):
        response = client.get(reverse(f"preparation:{name}", args=args))
        assert response.status_code == 200
        text = pdf_text(response.content)[1] if name.endswith("pdf") else response.content.decode()
        assert not [email for email in HOUSEHOLD_EMAILS if email in text], name
        assert "Bob Martin" not in text and "Alice Durand" not in text, name


def comparable(body: str) -> str:
    """The page without what differs by design: its CSRF token (masked differently in every
    response) and its own address (in the language switch)."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    return re.sub(r"/lignes/[0-9]+/", "/lignes/N/", body)


def weigh(client: Client, line_id: int) -> tuple[int, str, list[str]]:
    url = reverse("preparation:line_weigh", args=[line_id])
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, {"weight_kg": "2,3"})
    return (
        response.status_code,
        comparable(response.content.decode()),
        [q["sql"] for q in queries],
    )


def mark_missing(client: Client, line_id: int) -> tuple[int, str, list[str]]:
    url = reverse("preparation:line_missing", args=[line_id])
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url)
    return (
        response.status_code,
        comparable(response.content.decode()),
        [q["sql"] for q in queries],
    )


def butternut(prep: Prep) -> OrderLine:
    return OrderLine.objects.get(order=prep.bob, name="Butternut")


def snapshot(prep: Prep) -> tuple[object, ...]:
    line = butternut(prep)
    order = Order.objects.get(pk=prep.bob.pk)
    return (line.weight_kg, line.total, line.is_missing, order.total, order.is_final)


@pytest.mark.parametrize("who", ["driver", "household", "farmer_marais"])
@pytest.mark.parametrize("endpoint", [weigh, mark_missing])
def test_someone_who_may_not_weigh_learns_nothing_and_locks_nothing(
    client, prep, who, endpoint
) -> None:  # type: ignore[no-untyped-def]
    user = prep.bob.customer if who == "household" else getattr(prep, who)
    client.force_login(user)
    before = snapshot(prep)
    existing = endpoint(client, butternut(prep).pk)
    missing = endpoint(client, MISSING_LINE)
    # The same answer whether the line exists or not.
    assert existing[0] == missing[0] == 403
    assert existing[1] == missing[1]
    for _status, _body, queries in (existing, missing):
        assert not [sql for sql in queries if "FOR UPDATE" in sql.upper()]
        if who != "farmer_marais":  # no weighing role at all: the line is not even read
            assert not [sql for sql in queries if "orders_orderline" in sql]
    assert snapshot(prep) == before


def test_the_service_refuses_an_unknown_line_like_a_forbidden_one(prep) -> None:
    for line_id in (butternut(prep).pk, MISSING_LINE):
        with pytest.raises(WeighingNotAllowed):
            order_line_weigh(line_id=line_id, weight_kg=Decimal("2"), by=prep.farmer_marais)
        with pytest.raises(WeighingNotAllowed):
            order_line_weigh(line_id=line_id, weight_kg=Decimal("2"), by=prep.driver)
    # A coordinator of every territory may weigh any line: a missing one is simply missing.
    with pytest.raises(LineNotFound):
        order_line_weigh(line_id=MISSING_LINE, weight_kg=Decimal("2"), by=prep.coordinator)


def test_a_coordinator_still_weighs_and_learns_a_line_is_missing(client, prep) -> None:  # type: ignore[no-untyped-def]
    client.force_login(prep.coordinator)
    status, _body, _queries = weigh(client, MISSING_LINE)
    assert status == 404
    status, _body, queries = weigh(client, butternut(prep).pk)
    assert status == 302
    if connection.features.has_select_for_update:  # SQLite has no row locks
        assert [sql for sql in queries if "FOR UPDATE" in sql.upper()]
    line = butternut(prep)
    assert (line.weight_kg, line.total) == (Decimal("2.300"), Decimal("6.67"))


def test_a_typed_weight_goes_through_the_one_parser(client, prep) -> None:  # type: ignore[no-untyped-def]
    client.force_login(prep.farmer_cocagne)
    url = reverse("preparation:line_weigh", args=[butternut(prep).pk])
    pick_list = reverse("preparation:pick_list", args=[prep.cycle.pk, prep.cocagne.pk])
    before = snapshot(prep)
    for typed in ("1e2", "2,3456", "²", "1_000", "NaN", "Infinity"):
        response = client.post(url, {"weight_kg": typed, "next": pick_list}, follow=True)
        assert response.status_code == 200, typed
        assert "Indiquez un poids positif" in response.content.decode(), typed
    assert snapshot(prep) == before
