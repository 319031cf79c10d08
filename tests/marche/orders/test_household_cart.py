"""The household's cart: quantities read as French people type them, adds that add up, lines
that can be removed, an add made while logged out that survives the login, and no input and no
stored line that can make the shop or the cart fail."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.urls import reverse

from marche.accounts.models import Role
from marche.core.numbers import InvalidNumber
from marche.orders.errors import WholeNumberRequired
from marche.orders.models import Cart, CartItem, Order
from marche.orders.services import cart_add_item, cart_quote, cart_remove_item, cart_set_item
from marche.orders.views import PENDING_ADD
from tests.factories import ProductVariantFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD = reverse("orders:cart_add")
SET = reverse("orders:cart_update")
REMOVE = reverse("orders:cart_remove")


def add(client, market, **fields):  # type: ignore[no-untyped-def]
    """Post what a shop card's form posts, its ``next`` (the card's anchor) included."""
    anchor = f"panier-{fields['basket']}" if "basket" in fields else f"offre-{fields.get('offer')}"
    data = {"cycle": market.cycle.pk, "count": "1", **fields}
    data.setdefault("next", f"/commander/?cycle={market.cycle.pk}#{anchor}")
    return client.post(ADD, data)


def cart_items(market) -> list[tuple[int | None, int | None, Decimal]]:  # type: ignore[no-untyped-def]
    return list(CartItem.objects.order_by("pk").values_list("offer_id", "basket_id", "count"))


def shop_anchor(market, offer_id: int) -> str:  # type: ignore[no-untyped-def]
    return f"/commander/?cycle={market.cycle.pk}#offre-{offer_id}"


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


# --- 1. quantities: the one parser, bounded; nothing stored can break a page -------------------


@pytest.mark.parametrize(
    "typed",
    ["1e-9", "1E+30", "0.0001", "0,0000001", "1_000", "²", "1" * 5000, "", "abc", "-1", "0"],
)
def test_a_quantity_no_one_means_is_refused_in_the_shop_and_changes_nothing(
    client, market, typed: str
) -> None:
    client.force_login(market.household)
    response = add(client, market, offer=market.carrots.pk, count=typed)
    assert response.status_code == 302
    assert response["Location"] == shop_anchor(market, market.carrots.pk)
    assert CartItem.objects.count() == 0
    page = client.get(response["Location"])
    assert page.status_code == 200
    errors = [m for m in page.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1


def test_the_refusal_of_an_exponent_says_why_in_french(client, market) -> None:
    client.force_login(market.household)
    response = add(client, market, offer=market.carrots.pk, count="1e-9")
    assert messages_of(client.get(response["Location"])) == [
        "La quantité doit être un nombre, par exemple 1,5."
    ]


@pytest.mark.parametrize("typed", ["0.0000001", "1e-9", "100000"])
def test_modifier_in_the_cart_refuses_what_the_shop_refuses(client, market, typed: str) -> None:
    client.force_login(market.household)
    add(client, market, offer=market.carrots.pk, count="2")
    cart_url = reverse("orders:cart", args=[market.cycle.pk])
    response = client.post(
        SET,
        {"cycle": market.cycle.pk, "offer": market.carrots.pk, "count": typed, "next": cart_url},
    )
    assert response["Location"] == cart_url
    assert cart_items(market) == [(market.carrots.pk, None, Decimal("2.000"))]
    assert client.get(cart_url).status_code == 200


def test_services_hold_api_and_stored_counts_to_the_same_bounds(market) -> None:
    user = market.household
    for count in (Decimal("1E-9"), Decimal("0.0001"), Decimal("100000")):
        with pytest.raises(InvalidNumber):
            cart_set_item(
                customer=user, cycle_id=market.cycle.pk, offer_id=market.carrots.pk, count=count
            )
        with pytest.raises(InvalidNumber):
            cart_add_item(
                customer=user, cycle_id=market.cycle.pk, offer_id=market.carrots.pk, count=count
            )
    with pytest.raises(WholeNumberRequired):
        cart_add_item(
            customer=user, cycle_id=market.cycle.pk, offer_id=market.eggs.pk, count=Decimal("1.5")
        )
    assert CartItem.objects.count() == 0


def test_a_large_crate_ordered_many_times_is_refused_before_the_database_would(market) -> None:
    from marche.cycles.errors import InvalidQuantity

    crate = ProductVariantFactory(product=market.carrots.product, name="Palette", content="500")
    with pytest.raises(InvalidQuantity):
        cart_add_item(
            customer=market.household,
            cycle_id=market.cycle.pk,
            offer_id=market.carrots.pk,
            variant_id=crate.pk,
            count=Decimal("2001"),  # 1 000 500 kg: past what an order line may hold
        )
    assert CartItem.objects.count() == 0


def stored_invalid_lines(market) -> tuple[CartItem, CartItem]:  # type: ignore[no-untyped-def]
    """Lines stored before the rules were enforced: half a dozen eggs, a 0.001 basket."""
    cart = Cart.objects.create(customer=market.household, cycle=market.cycle)
    eggs = CartItem.objects.create(cart=cart, offer=market.eggs, count=Decimal("0.5"))
    basket = CartItem.objects.create(cart=cart, basket=market.basket, count=Decimal("0.001"))
    return eggs, basket


def test_stored_invalid_lines_are_shown_with_their_error_and_can_be_removed(client, market) -> None:
    eggs, basket = stored_invalid_lines(market)
    cart = Cart.objects.get()
    CartItem.objects.create(cart=cart, offer=market.carrots, count=Decimal("1.5"))
    client.force_login(market.household)
    shop = client.get(reverse("orders:shop"))
    assert shop.status_code == 200
    assert "Un article de votre panier est à corriger." in shop.content.decode()
    cart_url = reverse("orders:cart", args=[market.cycle.pk])
    response = client.get(cart_url)
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "Ce produit se commande à l'unité : indiquez un nombre entier." in body
    assert body.count('class="message error" data-cart-item=') == 2
    assert f'name="item" value="{eggs.pk}"' in body
    assert 'id="cart-total">3,75 €<' in body  # the valid line still priced: 1,5 kg × 2,50 €
    assert "Commander (" not in body  # no checkout while a line is to be corrected

    client.post(REMOVE, {"item": eggs.pk, "next": cart_url})
    client.post(REMOVE, {"item": basket.pk, "next": cart_url})
    assert cart_items(market) == [(market.carrots.pk, None, Decimal("1.500"))]
    assert "à corriger" not in client.get(cart_url).content.decode()


def test_checkout_refuses_a_cart_with_an_invalid_line_and_changes_nothing(client, market) -> None:
    stored_invalid_lines(market)
    client.force_login(market.household)
    response = client.post(
        reverse("orders:checkout", args=[market.cycle.pk]),
        {"relay": market.relay.pk, "slot": market.slots[0].pk, "payment_method": "pickup"},
        follow=True,
    )
    assert response.status_code == 200
    assert Order.objects.count() == 0
    assert CartItem.objects.count() == 2


def test_the_shop_renders_after_logout_whatever_the_cart_holds(client, market) -> None:
    stored_invalid_lines(market)
    client.force_login(market.household)
    client.logout()
    assert client.get(reverse("orders:shop")).status_code == 200


def test_lenient_quote_sets_invalid_lines_aside_and_strict_quote_refuses(market) -> None:
    eggs, basket = stored_invalid_lines(market)
    cart = Cart.objects.get()
    quote = cart_quote(cart=cart, lenient=True)
    assert quote.lines == []
    assert [(p.cart_item_id, p.name, p.count) for p in quote.problems] == [
        (eggs.pk, "Œufs", Decimal("0.500")),
        (basket.pk, market.basket.name, Decimal("0.001")),
    ]
    with pytest.raises(WholeNumberRequired):
        cart_quote(cart=cart)


# --- 2. French decimal comma -------------------------------------------------------------------


def test_one_and_a_half_kilos_typed_with_a_comma_is_one_and_a_half(client, market) -> None:
    client.force_login(market.household)
    add(client, market, offer=market.carrots.pk, count="1,5")
    assert cart_items(market) == [(market.carrots.pk, None, Decimal("1.500"))]


def test_quantity_and_manne_fields_are_text_inputs_a_french_browser_cannot_reinterpret(
    client, market
) -> None:
    client.force_login(market.household)
    add(client, market, offer=market.carrots.pk, count="1,5")
    pages = [
        client.get(reverse("orders:shop")).content.decode(),
        client.get(
            reverse("orders:cart", args=[market.cycle.pk]), {"relay": market.relay.pk}
        ).content.decode(),
    ]
    for body in pages:
        assert 'type="number"' not in body
        assert not re.search(r'<input[^>]*lang="en"', body)
        assert re.search(r'<input type="text" name="count"[^>]*inputmode="decimal"', body)
    assert 'value="1,5" inputmode="decimal"' in pages[1]


# --- 3. "Ajouter" while logged out ---------------------------------------------------------


def test_a_get_on_the_add_address_goes_to_the_shop_never_a_405(client, market) -> None:
    for url in (ADD, SET, REMOVE):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, "/commander/")
    client.force_login(market.household)
    for url in (ADD, SET, REMOVE):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, "/commander/")
    checkout = client.get(reverse("orders:checkout", args=[market.cycle.pk]))
    assert (checkout.status_code, checkout["Location"]) == (
        302,
        reverse("orders:cart", args=[market.cycle.pk]),
    )


def test_add_while_logged_out_is_applied_at_login_and_lands_on_the_card(client, market) -> None:
    response = add(client, market, offer=market.carrots.pk, count="1,5")
    target = shop_anchor(market, market.carrots.pk)
    assert response.status_code == 302
    login_url, _, query = response["Location"].partition("?next=")
    assert (login_url, unquote(query)) == ("/compte/connexion/", target)
    assert client.session[PENDING_ADD] == {
        "cycle": str(market.cycle.pk),
        "count": "1.500",
        "offer": str(market.carrots.pk),
    }
    assert CartItem.objects.count() == 0

    login = client.post(
        login_url,
        {"username": market.household.email, "password": "mot-de-passe-test", "next": target},
    )
    assert (login.status_code, login["Location"]) == (302, target)
    assert cart_items(market) == [(market.carrots.pk, None, Decimal("1.500"))]
    assert PENDING_ADD not in client.session
    shop = client.get(target)
    assert messages_of(shop)[-1] == "Ajouté à votre panier : 1,5 kg Carottes."
    assert "Dans votre panier : 1,5 kg" in shop.content.decode()


def test_a_pending_add_refused_at_login_becomes_a_message_and_login_succeeds(
    client, market
) -> None:
    add(client, market, offer=market.carrots.pk, count="8")
    CartItem.objects.create(
        cart=Cart.objects.create(customer=market.household, cycle=market.cycle),
        offer=market.carrots,
        count=Decimal("5"),
    )
    login = client.post(
        "/compte/connexion/",
        {"username": market.household.email, "password": "mot-de-passe-test"},
        follow=True,
    )
    assert login.status_code == 200
    assert "_auth_user_id" in client.session
    assert cart_items(market) == [(market.carrots.pk, None, Decimal("5.000"))]
    assert "Stock insuffisant" in " ".join(messages_of(login))


def test_a_pending_add_is_dropped_for_a_farmer(client, market) -> None:
    farmer = UserFactory(role=Role.FARMER)
    add(client, market, offer=market.carrots.pk)
    client.post("/compte/connexion/", {"username": farmer.email, "password": "mot-de-passe-test"})
    assert CartItem.objects.count() == 0
    assert PENDING_ADD not in client.session


# --- 4. adds add up, back to the card, the card shows the cart, Modifier and Retirer ------------


def test_ajouter_twice_adds_up_and_comes_back_to_the_card(client, market) -> None:
    client.force_login(market.household)
    first = add(client, market, offer=market.carrots.pk, count="1,5")
    second = add(client, market, offer=market.carrots.pk, count="1,5")
    assert first["Location"] == second["Location"] == shop_anchor(market, market.carrots.pk)
    assert cart_items(market) == [(market.carrots.pk, None, Decimal("3.000"))]
    add(client, market, basket=market.basket.pk)
    basket_add = add(client, market, basket=market.basket.pk)
    assert (
        basket_add["Location"] == f"/commander/?cycle={market.cycle.pk}#panier-{market.basket.pk}"
    )
    body = client.get(reverse("orders:shop")).content.decode()
    assert f'id="offre-{market.carrots.pk}"' in body
    assert "Dans votre panier : 3 kg" in body
    assert "Dans votre panier : 2<" in body


def test_an_add_beyond_the_stock_left_is_refused_and_keeps_the_first(client, market) -> None:
    client.force_login(market.household)
    add(client, market, offer=market.carrots.pk, count="6")
    response = add(client, market, offer=market.carrots.pk, count="6")
    assert cart_items(market) == [(market.carrots.pk, None, Decimal("6.000"))]
    assert messages_of(client.get(response["Location"]))[-1] == (
        "Stock insuffisant : il n'en reste plus assez pour cette quantité."
    )


def test_adds_of_a_variant_add_up_and_the_card_says_so(client, market) -> None:
    variant = ProductVariantFactory(
        product=market.eggs.product, name="Demi-douzaine", content=Decimal("0.5")
    )
    client.force_login(market.household)
    add(client, market, offer=market.eggs.pk, variant=variant.pk, count="1")
    add(client, market, offer=market.eggs.pk, variant=variant.pk, count="2")
    assert list(CartItem.objects.values_list("variant_id", "count")) == [
        (variant.pk, Decimal("3.000"))
    ]
    assert "Dans votre panier : 3 × Demi-douzaine" in client.get("/commander/").content.decode()


def test_cart_lines_have_a_visible_modifier_and_a_retirer(client, market) -> None:
    client.force_login(market.household)
    add(client, market, offer=market.carrots.pk, count="2")
    add(client, market, offer=market.eggs.pk, count="1")
    cart_url = reverse("orders:cart", args=[market.cycle.pk])
    body = client.get(cart_url).content.decode()
    assert body.count('class="button secondary small">Modifier</button>') == 2
    assert body.count(">Retirer</button>") == 2
    assert 'class="link-button">Modifier' not in body

    client.post(
        SET,
        {"cycle": market.cycle.pk, "offer": market.carrots.pk, "count": "2,5", "next": cart_url},
    )
    eggs = CartItem.objects.get(offer=market.eggs)
    removed = client.post(REMOVE, {"item": eggs.pk, "next": cart_url})
    assert removed["Location"] == cart_url
    assert cart_items(market) == [(market.carrots.pk, None, Decimal("2.500"))]


def test_no_one_removes_a_line_of_someone_elses_cart(client, market) -> None:
    client.force_login(market.household)
    add(client, market, offer=market.carrots.pk, count="2")
    item = CartItem.objects.get()
    other = UserFactory()
    assert cart_remove_item(customer=other, item_id=item.pk) is False
    client.force_login(other)
    client.post(REMOVE, {"item": item.pk})
    assert cart_items(market) == [(market.carrots.pk, None, Decimal("2.000"))]


# --- 7. ids and keys nobody types never give a 500 ----------------------------------------------


@pytest.mark.parametrize("bad", ["²", "99999999999999999999", "9223372036854775808", "-3", "1.5"])
def test_bad_ids_in_cart_forms_are_refused_without_a_500(client, market, bad: str) -> None:
    client.force_login(market.household)
    for url, data in (
        (ADD, {"cycle": market.cycle.pk, "offer": bad, "count": "1"}),
        (ADD, {"cycle": bad, "offer": market.carrots.pk, "count": "1"}),
        (ADD, {"cycle": market.cycle.pk, "offer": market.eggs.pk, "variant": bad, "count": "1"}),
        (ADD, {"cycle": market.cycle.pk, "basket": bad, "count": "1"}),
        (SET, {"cycle": market.cycle.pk, "offer": bad, "count": "1"}),
        (REMOVE, {"item": bad}),
    ):
        response = client.post(url, data)
        assert response.status_code == 302, (url, data)
    assert CartItem.objects.count() == 0
    assert client.get(reverse("orders:shop"), {"cycle": bad}).status_code == 200
    assert (
        client.get(reverse("orders:cart", args=[market.cycle.pk]), {"relay": bad}).status_code
        == 200
    )


@pytest.mark.parametrize("bad_cycle", ["99999999999999999999", "9223372036854775808"])
def test_a_cycle_past_bigint_in_the_address_is_a_404(client, market, bad_cycle: str) -> None:
    client.force_login(market.household)
    assert client.get(f"/commander/panier/{bad_cycle}/").status_code == 404
    assert client.post(f"/commander/panier/{bad_cycle}/valider/").status_code == 404


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"idempotency_key": "k" * 121}, {302}),
        ({"idempotency_key": "k" * 5000}, {302}),
        ({"idempotency_key": "clé avec espaces"}, {302}),
        ({"relay": "²"}, {302}),
        ({"slot": "²"}, {302}),
        ({"slot": "99999999999999999999"}, {302}),
        # A well-formed id of no slot: refused by the relays app (back to the form, or the
        # error page if that refusal is a "not found", see DomainErrorMiddleware).
        ({"slot": "9223372036854775807"}, {302, 404}),
    ],
)
def test_checkout_refuses_forged_fields_without_a_500(client, market, fields, status) -> None:  # type: ignore[no-untyped-def]
    client.force_login(market.household)
    add(client, market, offer=market.eggs.pk, count="2")
    data = {
        "relay": market.relay.pk,
        "slot": market.slots[0].pk,
        "payment_method": "pickup",
        "idempotency_key": "form-1",
        **fields,
    }
    response = client.post(reverse("orders:checkout", args=[market.cycle.pk]), data)
    assert response.status_code in status
    assert Order.objects.count() == 0
    assert cart_items(market) == [(market.eggs.pk, None, Decimal("2.000"))]
