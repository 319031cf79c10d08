"""Every stop of a round carries its place's contact on site and phone: copied when the plan
is stored, shown to the driver with a call link, on the route sheet and in the planning table."""

from __future__ import annotations

import io
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from logistics.editing import plan_publish
from logistics.models import Depot, PlanStop
from logistics.services import plan_compute
from marche.accounts.models import Role
from marche.core.validators import validate_phone
from marche.producers.models import Producer
from marche.relays.models import RelayPoint
from tests.factories import UserFactory
from tests.logistics.test_canteen_stops import _canteen_order
from tests.logistics.test_plan_problem import build_world


@pytest.mark.parametrize(
    "typed",
    ["06 12 34 56 78", "0612345678", "03.21.69.88.77", "+33 6 12 34 56 78", "+32 470 12 34 56"],
)
def test_phones_as_people_type_them_are_accepted(typed: str) -> None:
    validate_phone(typed)


@pytest.mark.parametrize(
    "typed",
    ["06-12-34-56-78", "tél. 06 12 34 56 78", "06 12 34 56 7a", "++33 6 12 34 56 78", "06 12", " "],
)
def test_other_text_is_refused_as_a_phone_in_french(typed: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_phone(typed)
    assert refused.value.code == "invalid_phone"
    assert "n'est pas un numéro de téléphone" in str(refused.value.messages[0])


@pytest.mark.django_db
def test_a_bad_phone_is_refused_by_the_place_s_form_validation() -> None:
    world = build_world()
    relay = world.relays["poste-lens"]
    relay.phone = "appeler Mme Leroy"
    with pytest.raises(ValidationError) as refused:
        relay.full_clean()
    assert list(refused.value.message_dict) == ["phone"]
    relay.refresh_from_db()
    assert relay.phone == ""


@pytest.mark.django_db
def test_each_stop_copies_its_place_s_contact_and_the_driver_can_call_it() -> None:
    world = build_world(collected=True, chilled=True)
    world.van("van-froid", cold_l=200)
    _canteen_order(world, contact_name="Office", phone="03 53 01 20 01")
    RelayPoint.objects.filter(pk=world.relays["mairie-loos"].pk).update(
        contact_name="Mme Leroy (accueil)", phone="03 53 01 10 01"
    )
    RelayPoint.objects.filter(pk=world.relays["poste-lens"].pk).update(phone="+33 3 53 01 10 02")
    Producer.objects.filter(pk=world.farm.pk).update(contact_name="Paul", phone="06 39 98 00 01")
    Depot.objects.filter(pk=world.depot.pk).update(contact_name="Quai", phone="03.53.01.30.01")

    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=2).plan
    assert plan.unserved == []
    contacts = {stop.place: stop.contact for stop in PlanStop.objects.filter(route__plan=plan)}
    assert contacts == {
        "depot:base-11-19": "Quai · 03.53.01.30.01",
        "relay:mairie-loos": "Mme Leroy (accueil) · 03 53 01 10 01",
        "relay:poste-lens": "+33 3 53 01 10 02",
        "relay:poste-lievin": "",
        "farm:terrils": "Paul · 06 39 98 00 01",
        "canteen:maternelle-jean-mace": "Office · 03 53 01 20 01",
    }
    # A snapshot: the round the driver holds keeps what the place said when it was planned.
    RelayPoint.objects.filter(pk=world.relays["mairie-loos"].pk).update(phone="03 53 01 99 99")
    assert PlanStop.objects.get(route__plan=plan, place="relay:mairie-loos").contact == (
        "Mme Leroy (accueil) · 03 53 01 10 01"
    )

    coordinator = UserFactory(role=Role.COORDINATOR, territory=world.cycle.territory)
    client = Client()
    client.force_login(coordinator)
    table = unescape(client.get(reverse("planning:plan", args=[world.cycle.pk])).content.decode())
    assert "Contact : Mme Leroy (accueil) · 03 53 01 10 01" in table
    assert "Contact : Office · 03 53 01 20 01" in table

    plan = plan_publish(plan_id=plan.pk, version=plan.version, by=None)
    route = plan.routes.select_related("driver").get()
    client.force_login(route.driver)
    page = unescape(client.get(f"/chauffeur/tournees/{route.pk}/").content.decode())
    assert "Contact : Mme Leroy (accueil) · 03 53 01 10 01" in page
    assert 'href="tel:0353011001"' in page
    assert 'href="tel:+33353011002"' in page
    assert 'href="tel:0639980001"' in page
    assert 'href="tel:0353012001"' in page
    pdf = client.get(f"/chauffeur/tournees/{route.pk}/feuille.pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = " ".join(text.split())
    assert "Mme Leroy (accueil) · 03 53 01 10 01" in flat
    assert "Paul · 06 39 98 00 01" in flat
    assert "Office · 03 53 01 20 01" in flat
