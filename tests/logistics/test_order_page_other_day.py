"""A household whose relay point the published rounds leave to "un autre jour" reads it on its
order page too (not only in the e-mail), through marche's relay selector and the logistics hook."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from logistics.editing import plan_publish, plan_unserved_decide
from logistics.relay_status import relay_unserved_decision as hook
from marche.orders.models import Order, OrderStatus
from marche.relays.selectors import order_delivery_moved, relay_unserved_decision
from tests.logistics.test_plan_editing import UNSERVED, build_plan, coordinator

pytestmark = pytest.mark.django_db

NOTICE = "Livraison reportée à un autre jour"


def order_page(order: Order) -> str:
    client = Client()
    client.force_login(order.customer)
    response = client.get(reverse("orders:detail", args=[order.reference]))
    assert response.status_code == 200
    return unescape(response.content.decode())


def decided(decision: str, *, publish: bool = True):  # type: ignore[no-untyped-def]
    plan = build_plan(unserved=[dict(u) for u in UNSERVED])
    by = coordinator(plan)
    plan = plan_unserved_decide(
        plan_id=plan.pk, place="relay:poste-lens", decision=decision, version=1, by=by
    )
    if publish:
        plan = plan_publish(plan_id=plan.pk, version=plan.version, by=by)
    return plan, by


def test_the_order_page_says_the_delivery_comes_another_day_once_published() -> None:
    plan, by = decided("other_day", publish=False)
    moved = Order.objects.select_related("customer").get(customer__email="c@example.test")
    served = Order.objects.select_related("customer").get(customer__email="a@example.test")
    assert NOTICE not in order_page(moved)  # a draft: nobody is told yet

    plan_publish(plan_id=plan.pk, version=plan.version, by=by)
    page = order_page(moved)
    assert NOTICE in page
    day = plan.cycle.delivery_date
    assert "Votre commande ne sera pas livrée au point relais poste-lens le " in page
    assert f" {day.day} " in page.split(NOTICE)[1].split("</div>")[0]
    assert "Elle sera livrée un autre jour ; la coordination vous dira lequel" in page
    assert NOTICE not in order_page(served)  # mairie-loos is on the rounds

    # Once collected (or cancelled), the order says nothing more about it.
    Order.objects.filter(pk=moved.pk).update(status=OrderStatus.COLLECTED)
    moved.refresh_from_db()
    assert order_delivery_moved(order=moved) is False
    assert NOTICE not in order_page(moved)


@pytest.mark.parametrize("decision", ["hub_pickup", "other_vehicle"])
def test_other_decisions_are_not_shown_as_another_day(decision: str) -> None:
    plan, _by = decided(decision)
    order = Order.objects.select_related("customer", "relay_point").get(
        customer__email="c@example.test"
    )
    assert relay_unserved_decision(relay_point=order.relay_point, cycle=plan.cycle) == decision
    assert order_delivery_moved(order=order) is False
    assert NOTICE not in order_page(order)


def test_the_hook_reads_only_the_published_plan_and_its_relay_point() -> None:
    plan, by = decided("other_day", publish=False)
    lens = Order.objects.select_related("relay_point").get(customer__email="c@example.test")
    loos = Order.objects.select_related("relay_point").get(customer__email="a@example.test")
    assert hook(lens.relay_point, plan.cycle) is None  # draft
    plan_publish(plan_id=plan.pk, version=plan.version, by=by)
    assert hook(lens.relay_point, plan.cycle) == "other_day"
    assert hook(loos.relay_point, plan.cycle) is None


def test_without_the_hook_or_with_an_odd_answer_nothing_is_said(settings) -> None:  # type: ignore[no-untyped-def]
    decided("other_day")
    order = Order.objects.select_related("customer", "relay_point", "cycle").get(
        customer__email="c@example.test"
    )
    assert order_delivery_moved(order=order) is True
    settings.MARCHE_RELAY_UNSERVED_DECISION = ""
    assert order_delivery_moved(order=order) is False
    assert NOTICE not in order_page(order)
    settings.MARCHE_RELAY_UNSERVED_DECISION = "tests.logistics.test_order_page_other_day.odd_hook"
    assert relay_unserved_decision(relay_point=order.relay_point, cycle=order.cycle) is None


def odd_hook(relay_point: object, cycle: object) -> str:
    return "tomorrow"
