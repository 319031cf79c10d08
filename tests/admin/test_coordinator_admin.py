"""Coordinators manage the market's data in the Wagtail admin, their territory's only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from marche.accounts.models import Role, User
from marche.catalog.models import Product
from marche.core.admin_access import COORDINATION_GROUP, coordination_group_sync
from marche.cycles.models import Offer
from marche.producers.models import Producer
from marche.territories.models import Territory
from tests.admin.conftest import place_order
from tests.factories import (
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def producer_post(producer: Producer, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "territory": producer.territory_id,
        "name": producer.name,
        "slug": producer.slug,
        "kind": producer.kind,
        "collective": "",
        "description": producer.description,
        "production": producer.production,
        "website": "",
        "accepts_local_currency": "on" if producer.accepts_local_currency else "",
        "is_active": "on",
        "address": "",
        "postcode": "",
        "city": "",
        "latitude": str(producer.latitude),
        "longitude": str(producer.longitude),
        "contact_name": "",
        "phone": "",
        "collection_opens": "",
        "collection_closes": "",
        "legal_name": "",
        "siret": "",
        "vat_number": "",
        "iban": "",
        "invoice_mentions": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def product_post(product: Product, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "producer": product.producer_id,
        "category": product.category_id,
        "name": product.name,
        "slug": product.slug,
        "description": "",
        "family": product.family,
        "unit": product.unit,
        "unit_price": str(product.unit_price),
        "vat_rate": str(product.vat_rate),
        "origin": product.origin,
        "origin_detail": "",
        "wholesale_minimum": "1",
        "is_active": "on",
    }
    data.update(changes)
    return data


def test_the_group_gives_coordinators_the_admin(coordinator_a: User) -> None:
    assert coordinator_a.groups.filter(name=COORDINATION_GROUP).exists()
    assert coordinator_a.has_perm("wagtailadmin.access_admin")
    assert coordinator_a.has_perm("producers.change_producer")
    # Read-only data: a view permission only.
    assert coordinator_a.has_perm("orders.view_order")
    assert not coordinator_a.has_perm("orders.change_order")
    assert not coordinator_a.has_perm("mannes.change_transaction")


def test_coordinator_lists_and_edits_a_producer(
    client: Client, coordinator_a: User, territory_a: Territory
) -> None:
    producer = ProducerFactory(territory=territory_a, name="Ferme du Pont")
    client.force_login(coordinator_a)
    listing = client.get("/admin/producers/")
    assert listing.status_code == 200
    assert "Ferme du Pont" in listing.content.decode()

    response = client.post(
        f"/admin/producers/edit/{producer.pk}/",
        producer_post(producer, name="Ferme du Pont-Neuf", production="Pommes de terre"),
    )
    assert response.status_code == 302
    producer.refresh_from_db()
    assert producer.name == "Ferme du Pont-Neuf"
    assert producer.production == "Pommes de terre"


def test_coordinator_lists_searches_and_edits_a_product(
    client: Client, coordinator_a: User, territory_a: Territory
) -> None:
    product = ProductFactory(producer__territory=territory_a, name="Poireaux")
    ProductFactory(producer=product.producer, name="Carottes")
    client.force_login(coordinator_a)
    found = client.get("/admin/products/", {"q": "poir"}).content.decode()
    assert "Poireaux" in found
    assert "Carottes" not in found

    response = client.post(
        f"/admin/products/edit/{product.pk}/", product_post(product, unit_price="3.20")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert product.unit_price == Decimal("3.20")


def test_another_territorys_objects_are_not_there(
    client: Client, coordinator_a: User, territory_a: Territory, territory_b: Territory
) -> None:
    mine = ProducerFactory(territory=territory_a, name="Ferme de Loos")
    theirs = ProducerFactory(territory=territory_b, name="Ferme de Liévin")
    their_product = ProductFactory(producer=theirs, name="Endives de Liévin")
    client.force_login(coordinator_a)

    listing = client.get("/admin/producers/").content.decode()
    assert "Ferme de Loos" in listing
    assert "Ferme de Liévin" not in listing
    # Not in the products' filter either.
    assert "Ferme de Liévin" not in client.get("/admin/products/").content.decode()

    assert client.get(f"/admin/producers/edit/{theirs.pk}/").status_code == 404
    assert client.get(f"/admin/producers/inspect/{theirs.pk}/").status_code == 404
    response = client.post(
        f"/admin/producers/edit/{theirs.pk}/", producer_post(theirs, name="Volée")
    )
    assert response.status_code == 404
    assert client.get(f"/admin/products/edit/{their_product.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Ferme de Liévin"

    # Nor may a product be moved to their producer, nor a producer to their territory.
    product = ProductFactory(producer=mine)
    refused = client.post(
        f"/admin/products/edit/{product.pk}/", product_post(product, producer=theirs.pk)
    )
    assert refused.status_code == 200
    refused = client.post(
        f"/admin/producers/edit/{mine.pk}/", producer_post(mine, territory=territory_b.pk)
    )
    assert refused.status_code == 200
    product.refresh_from_db()
    mine.refresh_from_db()
    assert product.producer_id == mine.pk
    assert mine.territory_id == territory_a.pk


@pytest.mark.parametrize("role", [Role.HOUSEHOLD, Role.DRIVER, Role.FARMER])
def test_households_drivers_and_farmers_get_no_admin(
    client: Client, territory_a: Territory, role: Role
) -> None:
    producer = ProducerFactory(territory=territory_a)
    user = UserFactory(role=role, territory=territory_a)
    coordination_group_sync(members=[user])  # even put in the group by mistake
    assert not user.groups.exists()
    client.force_login(user)
    home = client.get("/admin/")
    assert home.status_code == 302
    assert home["Location"].startswith("/admin/login/")
    assert client.get("/admin/producers/").status_code == 302
    assert (
        client.post(
            f"/admin/producers/edit/{producer.pk}/", producer_post(producer, name="X")
        ).status_code
        == 302
    )
    producer.refresh_from_db()
    assert producer.name != "X"


def test_the_django_admin_is_for_superusers_only(client: Client, coordinator_a: User) -> None:
    coordinator_a.is_staff = True
    coordinator_a.save()
    client.force_login(coordinator_a)
    assert client.get("/django-admin/").status_code == 302
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    assert client.get("/django-admin/").status_code == 200


def test_bad_input_gives_french_errors_and_changes_nothing(
    client: Client, coordinator_a: User, territory_a: Territory
) -> None:
    producer = ProducerFactory(territory=territory_a, name="Ferme du Marais")
    product = ProductFactory(producer=producer, unit_price=Decimal("2.50"))
    client.force_login(coordinator_a)

    response = client.post(
        f"/admin/producers/edit/{producer.pk}/",
        producer_post(producer, name="", collected_on_round="on", siret="123"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nom: Champ requis." in page
    assert "n&#x27;est pas un numéro SIRET valide" in page
    assert "heures d&#x27;enlèvement" in page or "heures d'enlèvement" in page
    response = client.post(
        f"/admin/products/edit/{product.pk}/", product_post(product, unit_price="-1")
    )
    assert response.status_code == 200
    assert "supérieure ou égale à 0" in response.content.decode()
    producer.refresh_from_db()
    product.refresh_from_db()
    assert producer.name == "Ferme du Marais"
    assert product.unit_price == Decimal("2.50")


def test_an_offer_edit_keeps_what_is_held_and_sold(
    client: Client, coordinator_a: User, territory_a: Territory
) -> None:
    offer = OfferFactory(
        cycle=OrderCycleFactory(territory=territory_a),
        product__producer__territory=territory_a,
        quantity_available=Decimal("10"),
    )
    Offer.objects.filter(pk=offer.pk).update(quantity_held=Decimal("3"), quantity_sold=Decimal("4"))
    client.force_login(coordinator_a)
    page = client.get(f"/admin/offers/edit/{offer.pk}/")
    # Buyers hold one more while the coordinator reads the form.
    Offer.objects.filter(pk=offer.pk).update(quantity_held=Decimal("4"))
    assert page.status_code == 200
    refused = client.post(
        f"/admin/offers/edit/{offer.pk}/",
        {"unit_price": "2.80", "quantity_available": "5", "max_per_order": "10"},
    )
    assert refused.status_code == 200
    assert "ne peut pas être inférieure à 8" in refused.content.decode()
    accepted = client.post(
        f"/admin/offers/edit/{offer.pk}/",
        {"unit_price": "2.80", "quantity_available": "12", "max_per_order": "10"},
    )
    assert accepted.status_code == 302
    offer.refresh_from_db()
    assert (offer.unit_price, offer.quantity_available) == (Decimal("2.80"), Decimal("12"))
    assert (offer.quantity_held, offer.quantity_sold) == (Decimal("4"), Decimal("4"))


def test_orders_and_payments_are_read_only_and_scoped(
    client: Client, coordinator_a: User, territory_a: Territory, territory_b: Territory
) -> None:
    order = place_order(territory=territory_a, email="alice@example.test")
    theirs = place_order(territory=territory_b, email="bruno@example.test")
    total = order.total
    client.force_login(coordinator_a)

    found = client.get("/admin/orders/", {"q": "alice@"}).content.decode()
    assert order.reference in found
    assert theirs.reference not in found
    assert theirs.reference not in client.get("/admin/orders/").content.decode()
    assert client.get(f"/admin/orders/inspect/{order.pk}/").status_code == 200
    assert client.get(f"/admin/orders/inspect/{theirs.pk}/").status_code == 404
    # No edit: the view refuses, and nothing changed.
    refused = client.post(f"/admin/orders/edit/{order.pk}/", {"total": "0"})
    assert refused.status_code in (302, 403)
    order.refresh_from_db()
    assert order.total == total
    assert client.get("/admin/payments/").status_code == 200
    # the local currency's ledger: refused while the territory has none, then open
    assert client.get("/admin/manne_entries/").status_code == 302
    territory_a.local_currency_enabled = True
    territory_a.local_currency_code = "MAN"
    territory_a.save(update_fields=["local_currency_enabled", "local_currency_code"])
    coordinator_a.refresh_from_db()
    assert client.get("/admin/manne_entries/").status_code == 200
    assert client.get("/admin/manne_accounts/").status_code == 200


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        (("18:00", "08:00"), "La fermeture doit venir après l'ouverture."),
        (("09:00", "09:00"), "La fermeture doit venir après l'ouverture."),
        (("09:00", "12:30"), None),
    ],
)
def test_a_rule_of_the_database_reads_as_a_french_sentence_in_the_admin(
    client: Client, coordinator_a: User, territory_a: Territory, hours, message
) -> None:
    """Opening hours the database's own rule refuses (closing before opening) get the rule's
    French message, not the constraint's name, and nothing is saved."""
    from marche.relays.models import RelayOpeningHours
    from tests.factories import RelayPointFactory

    relay = RelayPointFactory(territory=territory_a)
    before = RelayOpeningHours.objects.filter(relay_point=relay).count()
    client.force_login(coordinator_a)
    opens, closes = hours
    response = client.post(
        "/admin/relay_hours/new/",
        {"relay_point": relay.pk, "weekday": "2", "opens_at": opens, "closes_at": closes},
    )
    saved = RelayOpeningHours.objects.filter(relay_point=relay)
    if message is None:
        assert response.status_code == 302
        assert saved.count() == before + 1
        return
    assert response.status_code == 200
    page = response.content.decode().replace("&#x27;", "'")
    assert message in page
    assert "relay_hours_close_after_open" not in page
    assert saved.count() == before
