from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marche.cycles.errors import QuantityBelowCommitted
from marche.cycles.models import Offer
from marche.cycles.services import offer_update
from tests.factories import OfferFactory, OrderCycleFactory, ProductFactory

pytestmark = pytest.mark.django_db


def offer_values(offer: Offer) -> tuple:
    offer.refresh_from_db()
    return (offer.unit_price, offer.quantity_available, offer.quantity_held, offer.quantity_sold)


def test_farmer_lists_only_their_producers_offers(as_farmer, api_market) -> None:
    response = as_farmer.get("/me/offers", cycle=api_market.cycle.pk)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    offer = body["items"][0]
    assert (offer["id"], offer["quantity_held"], offer["quantity_sold"]) == (
        api_market.carrots.pk,
        "0.000",
        "0.000",
    )


def test_farmer_offer_list_runs_a_constant_number_of_queries(
    as_farmer, api_market, django_assert_num_queries
) -> None:
    for rows in (2, 20):
        while Offer.objects.filter(product__producer=api_market.farm).count() < rows:
            OfferFactory(cycle=api_market.cycle, product=ProductFactory(producer=api_market.farm))
        # token lookup + last use, membership, count, offers, variants, valid labels
        with django_assert_num_queries(7):
            response = as_farmer.get("/me/offers", page_size=50)
        assert len(response.json()["items"]) == rows


def test_farmer_publishes_an_offer_of_their_product(as_farmer, api_market) -> None:
    response = as_farmer.send(
        "post",
        "/me/offers",
        {
            "cycle_id": api_market.cycle.pk,
            "product_id": api_market.leeks.pk,
            "unit_price": "1.80",
            "quantity_available": "12",
        },
    )
    assert response.status_code == 201, response.json()
    offer = Offer.objects.get(product=api_market.leeks)
    assert (offer.cycle, offer.unit_price, offer.quantity_available) == (
        api_market.cycle,
        Decimal("1.80"),
        Decimal("12"),
    )
    assert response.json()["id"] == offer.pk
    assert response.json()["quantity_remaining"] == "12.000"


def test_farmer_publishes_on_demand(as_farmer, api_market) -> None:
    response = as_farmer.send(
        "post",
        "/me/offers",
        {"cycle_id": api_market.cycle.pk, "product_id": api_market.leeks.pk, "unit_price": "1.80"},
    )
    assert response.status_code == 201
    assert response.json()["on_demand"] is True
    assert Offer.objects.get(product=api_market.leeks).quantity_available is None


def _refused_publish(as_farmer, api_market, **changes):
    body = {
        "cycle_id": api_market.cycle.pk,
        "product_id": api_market.leeks.pk,
        "unit_price": "1.80",
        "quantity_available": "12",
        **changes,
    }
    before = Offer.objects.count()
    response = as_farmer.send("post", "/me/offers", body)
    assert Offer.objects.count() == before
    return response


def test_zero_quantity_is_refused(as_farmer, api_market) -> None:
    response = _refused_publish(as_farmer, api_market, quantity_available="0")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_quantity",
        "message": "La quantité doit être strictement positive (au plus 3 décimales), "
        "ou « à la demande ».",
    }


def test_negative_quantity_is_refused_by_the_number_parser(as_farmer, api_market) -> None:
    response = _refused_publish(as_farmer, api_market, quantity_available="-3")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_number",
        "message": "Un nombre négatif n'est pas accepté ici.",
        "params": {"example": "12,5", "minimum": "0", "field": "quantity_available"},
    }


def test_zero_price_is_refused(as_farmer, api_market) -> None:
    response = _refused_publish(as_farmer, api_market, unit_price="0")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_price"


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("-1", "Un nombre négatif n'est pas accepté ici."),
        ("1.234", "Le prix a 2 décimales au plus."),
        ("1e3", "Le prix doit être un nombre, par exemple 2,80."),
    ],
)
def test_unreadable_price_is_refused_by_the_number_parser(
    as_farmer, api_market, price, message
) -> None:
    response = _refused_publish(as_farmer, api_market, unit_price=price)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["message"], body["params"]["field"]) == (
        "invalid_number",
        message,
        "unit_price",
    )


def test_unknown_product_is_refused(as_farmer, api_market) -> None:
    response = _refused_publish(as_farmer, api_market, product_id=999999)
    assert response.status_code == 404
    assert response.json() == {
        "code": "product_not_found",
        "message": "Ce produit n'existe pas ou a été retiré du catalogue.",
    }


def test_another_producers_product_is_refused(as_farmer, api_market) -> None:
    other = ProductFactory(producer=api_market.other_farm, name="Navets")
    response = _refused_publish(as_farmer, api_market, product_id=other.pk)
    assert response.status_code == 403
    assert response.json()["code"] == "not_your_producer"


def test_closed_cycle_is_refused(as_farmer, api_market) -> None:
    now = timezone.now()
    closed = OrderCycleFactory(
        territory=api_market.cycle.territory,
        opens_at=now - timedelta(days=5),
        closes_at=now - timedelta(days=1),
    )
    response = _refused_publish(as_farmer, api_market, cycle_id=closed.pk)
    assert response.status_code == 409
    assert response.json() == {
        "code": "cycle_closed",
        "message": "Ce cycle de commande est clos : ses offres ne peuvent plus changer.",
    }


def test_publishing_the_same_product_twice_is_refused(as_farmer, api_market) -> None:
    response = _refused_publish(as_farmer, api_market, product_id=api_market.carrots.product_id)
    assert response.status_code == 409
    assert response.json()["code"] == "offer_exists"
    assert response.json()["params"] == {"offer_id": api_market.carrots.pk}
    assert offer_values(api_market.carrots) == (
        Decimal("2.50"),
        Decimal("10"),
        Decimal("0"),
        Decimal("0"),
    )


def test_farmer_changes_price_and_quantity(as_farmer, api_market) -> None:
    response = as_farmer.send(
        "patch",
        f"/me/offers/{api_market.carrots.pk}",
        {"unit_price": "2.80", "quantity_available": "25"},
    )
    assert response.status_code == 200
    assert offer_values(api_market.carrots) == (
        Decimal("2.80"),
        Decimal("25"),
        Decimal("0"),
        Decimal("0"),
    )
    assert response.json()["variants"][0]["item_price"] == "12.60"  # 5 × 2.80 less 10 %


def test_patch_with_only_a_price_keeps_the_quantity_and_null_means_on_demand(
    as_farmer, api_market
) -> None:
    url = f"/me/offers/{api_market.carrots.pk}"
    as_farmer.send("patch", url, {"unit_price": "3.00"})
    assert offer_values(api_market.carrots)[:2] == (Decimal("3.00"), Decimal("10"))
    as_farmer.send("patch", url, {"quantity_available": None})
    assert offer_values(api_market.carrots)[:2] == (Decimal("3.00"), None)


def test_farmer_editing_another_producers_offer_is_403_and_changes_nothing(
    as_farmer, api_market
) -> None:
    before = offer_values(api_market.eggs)
    response = as_farmer.send(
        "patch",
        f"/me/offers/{api_market.eggs.pk}",
        {"unit_price": "0.50", "quantity_available": "1"},
    )
    assert response.status_code == 403
    assert response.json() == {
        "code": "not_your_producer",
        "message": "Vous n'êtes pas membre de ce producteur : vous ne pouvez pas modifier "
        "ses offres.",
    }
    assert (
        offer_values(api_market.eggs)
        == before
        == (
            Decimal("4.20"),
            Decimal("5"),
            Decimal("0"),
            Decimal("0"),
        )
    )


def test_quantity_cannot_go_below_held_and_sold(as_farmer, api_market) -> None:
    Offer.objects.filter(pk=api_market.carrots.pk).update(
        quantity_held=Decimal("3"), quantity_sold=Decimal("4")
    )
    response = as_farmer.send(
        "patch",
        f"/me/offers/{api_market.carrots.pk}",
        {"unit_price": "9.99", "quantity_available": "6.5"},
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "quantity_below_committed",
        "message": "La quantité ne peut pas être inférieure à 7, déjà réservé ou vendu "
        "dans ce cycle.",
        "params": {"committed": "7.000"},
    }
    assert offer_values(api_market.carrots) == (
        Decimal("2.50"),
        Decimal("10"),
        Decimal("3"),
        Decimal("4"),
    )
    ok = as_farmer.send("patch", f"/me/offers/{api_market.carrots.pk}", {"quantity_available": "7"})
    assert ok.status_code == 200
    assert ok.json()["quantity_remaining"] == "0.000"


def test_zero_quantity_update_is_refused_and_changes_nothing(as_farmer, api_market) -> None:
    response = as_farmer.send(
        "patch", f"/me/offers/{api_market.carrots.pk}", {"quantity_available": "0"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_quantity"
    assert offer_values(api_market.carrots)[1] == Decimal("10")


def test_editing_an_offer_of_a_closed_cycle_is_refused(as_farmer, api_market) -> None:
    api_market.cycle.closes_at = timezone.now() - timedelta(minutes=1)
    api_market.cycle.opens_at = timezone.now() - timedelta(days=3)
    api_market.cycle.save()
    response = as_farmer.send(
        "patch", f"/me/offers/{api_market.carrots.pk}", {"unit_price": "3.00"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "cycle_closed"
    assert offer_values(api_market.carrots)[0] == Decimal("2.50")


def test_unknown_offer_is_404(as_farmer, api_market) -> None:
    response = as_farmer.send("patch", "/me/offers/999999", {"unit_price": "3.00"})
    assert response.status_code == 404
    assert response.json()["code"] == "offer_not_found"


def test_the_stock_check_and_the_write_are_one_conditional_update(api_market) -> None:
    """A hold landing after the service read the counters still cannot be oversold."""
    offer = api_market.carrots
    # The service read held + sold = 0; a buyer now holds 8 before the UPDATE runs.
    Offer.objects.filter(pk=offer.pk).update(quantity_held=Decimal("8"))
    with pytest.raises(QuantityBelowCommitted):
        offer_update(user=api_market.farmer, offer_id=offer.pk, quantity_available=Decimal("5"))
    assert offer_values(offer) == (Decimal("2.50"), Decimal("10"), Decimal("8"), Decimal("0"))


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("1.2345", "La quantité a 3 décimales au plus."),
        ("1e12", "La quantité doit être un nombre, par exemple 12,5."),
        ("1000001", "La quantité ne peut pas dépasser 1\u00a0000\u00a0000."),
    ],
)
def test_quantity_beyond_the_stored_precision_is_refused_by_the_number_parser(
    as_farmer, api_market, quantity, message
) -> None:
    response = _refused_publish(as_farmer, api_market, quantity_available=quantity)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["message"], body["params"]["field"]) == (
        "invalid_number",
        message,
        "quantity_available",
    )
