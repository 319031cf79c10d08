"""A third territory, described in a TOML file written here, runs a whole cycle with no
code change: loaded by ``load_demo --spec``, its households' orders are taken in its open
cycle, the cycle closes, its rounds are planned from its own depot, fleet and detour
factor, and the plan is published. What differs from the shipped territories is data only:
its name and site, no local currency, its detour factor, its cutoff and fleet, the sender
of its e-mails, its van's emission factor and its legal mentions.
"""

from __future__ import annotations

import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from wagtail.models import Site

from logistics.models import DeliveryPlan, PlanRoute, PlanStatus, PlanStop, SolveState
from logistics.services import plan_compute
from marche.demo.spec import DATA_DIR
from marche.orders.models import Order
from marche.territories.models import Territory
from marche.territories.selectors import territory_from_email

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SPEC = """
[territory]
name = "Hulluch"
slug = "hulluch"
insee_code = "62464"
commune = "62464"
timezone = "Europe/Paris"
contact_email = "coordination-hulluch@demo.test"
local_currency_enabled = false
routing_detour_factor = "1.45"
site_hostname = "hulluch.localhost"
email_sender = "Marché local de Hulluch <bonjour@hulluch.demo.test>"
emission_factors = { van = "0.15" }
legal_publisher = "Association du marché de Hulluch (exemple du test)"

[[categories]]
slug = "legumes"
name = "Légumes"

[[producers]]
slug = "jardins-de-hulluch"
name = "Jardins de Hulluch (test)"
kind = "farm"
commune = "62464"
approximate = true
production = "Légumes"
description = "Producteur écrit par le test."

[[products]]
producer = "jardins-de-hulluch"
slug = "carottes"
name = "Carottes de Hulluch"
category = "legumes"
family = "FRUITS_ET_LEGUMES"
unit = "kg"
unit_price = "2.20"
months = []
stock = "200"
[[products]]
producer = "jardins-de-hulluch"
slug = "poireaux"
name = "Poireaux de Hulluch"
category = "legumes"
family = "FRUITS_ET_LEGUMES"
unit = "kg"
unit_price = "3.00"
months = []
stock = "200"

[schedule]
name = "Cycle du vendredi"
delivery_weekday = 4
opens_weekday = 0
opens_time = "08:00"
closes_weekday = 2
closes_time = "18:00"
minimum_order_amount = "5.00"
weeks_ahead = 1

[pickup_hours]
default = [
  [0, "08:00", "19:00"], [1, "08:00", "19:00"], [2, "08:00", "19:00"],
  [3, "08:00", "19:00"], [4, "08:00", "19:00"], [5, "08:00", "19:00"],
  [6, "08:00", "19:00"],
]
slot_minutes = 60

[[relay_points]]
slug = "hulluch-mairie"
name = "Hulluch — mairie"
place = "P002"
kind = "town_hall"
capacity_per_day = 60
slot_capacity = 20
[[relay_points]]
slug = "hulluch-grenay"
name = "Grenay — mairie"
place = "P003"
kind = "town_hall"
capacity_per_day = 60
slot_capacity = 20

[[depots]]
slug = "depot-hulluch"
name = "Dépôt de Hulluch"
commune = "62464"
approximate = true

[[vehicles]]
slug = "camionnette"
name = "Camionnette"
kind = "van"
depot = "depot-hulluch"
capacity_kg = 600
capacity_crates = 50
cold_volume_litres = 0
average_speed_kmh = "30"
cost_per_km = "0.300"
cost_per_hour = "22.00"
shift = ["00:00", "23:59"]

[[driver_shifts]]
vehicle = "camionnette"
driver = "livreur-hulluch@demo.test"
weekdays = [0, 1, 2, 3, 4, 5, 6]

[[accounts]]
email = "livreur-hulluch@demo.test"
first_name = "Rémi"
last_name = "Test"
role = "driver"
[[accounts]]
email = "coordination-hulluch@demo.test"
first_name = "Anne"
last_name = "Test"
role = "coordinator"

[due_cycle]
orders = 12
seed = 3
opened_days_before = 6
closes_minutes_after_load = -10
delivery_in_days = 1
stock_factor = "4"
basket_share = "0"
manne_share = "0"
solidarity_share = "0"
first_names = ["Camille", "Hugo"]
last_names = ["Martin", "Leroy"]
"""


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    for name in ("places-lensois.csv", "communes-lensois.csv"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    path = tmp_path / "hulluch.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_a_territory_from_a_toml_file_runs_a_whole_cycle(spec_file: Path) -> None:
    call_command("load_demo", spec=spec_file, force=True, due_cycle=True)

    territory = Territory.objects.get(slug="hulluch")
    assert not territory.local_currency_enabled
    assert territory.routing_detour_factor == Decimal("1.45")
    assert territory_from_email(territory=territory) == (
        "Marché local de Hulluch <bonjour@hulluch.demo.test>"
    )
    assert territory.legal_publisher == "Association du marché de Hulluch (exemple du test)"
    site = Site.objects.get(hostname="hulluch.localhost")
    assert site.root_page.specific.territory_id == territory.pk

    orders = Order.objects.filter(cycle__territory=territory)
    assert orders.count() == 12
    cycle = orders.first().cycle
    assert not orders.filter(payments__method="manne").exists()

    result = plan_compute(cycle_id=cycle.pk, time_limit=2)
    plan = DeliveryPlan.objects.get(pk=result.plan.pk)
    assert plan.solve_state == SolveState.DONE, plan.solve_error
    routes = PlanRoute.objects.filter(plan=plan)
    assert {route.vehicle.territory_id for route in routes} == {territory.pk}
    served = set(PlanStop.objects.filter(route__plan=plan).values_list("place", flat=True))
    ordered = {f"relay:{slug}" for slug in orders.values_list("relay_point__slug", flat=True)}
    assert ordered and ordered <= served
    assert plan.unserved == []
    assert routes and all(
        route.co2_kg
        == (route.km * Decimal("0.15")).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        for route in routes
    )

    call_command("load_demo", spec=spec_file, force=True, due_cycle=True)  # idempotent
    assert Order.objects.filter(cycle__territory=territory).count() == 12
    assert DeliveryPlan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT
