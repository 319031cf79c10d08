"""Coordinators edit and publish their own territory's pages, as coordinators, not superusers;
another territory's coordinator and a household cannot."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from cms.models import ContentPage, HomePage
from cms.permissions import territory_group_name
from marche.accounts.models import Role, User
from marche.core.admin_access import coordination_group_sync
from tests.factories import TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit(client: Client, page: ContentPage, title: str):  # type: ignore[no-untyped-def]
    """Post the page's edit form, as the admin's "Publish" button does."""
    return client.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        {
            "title": title,
            "slug": page.slug,
            "intro": page.intro,
            "body-count": "0",
            "action-publish": "publish",
        },
    )


def test_the_demo_coordinator_is_no_superuser_and_publishes_a_page(demo: None) -> None:
    coordinator = User.objects.get(email="coordination@demo.test")
    assert not coordinator.is_superuser
    assert coordinator.groups.filter(name="Coordination").exists()
    home = HomePage.objects.get()
    assert coordinator.groups.filter(name=territory_group_name(home.get_territory())).exists()
    page = ContentPage.objects.descendant_of(home).order_by("path").first()
    assert page is not None
    client = logged_in(coordinator)
    response = edit(client, page, "Questions fréquentes (mise à jour)")
    assert response.status_code == 302, response.content.decode()[:2000]
    page.refresh_from_db()
    assert page.title == "Questions fréquentes (mise à jour)"
    assert page.live and not page.has_unpublished_changes


def test_another_territorys_coordinator_and_a_household_cannot_edit(demo: None) -> None:
    home = HomePage.objects.get()
    page = ContentPage.objects.descendant_of(home).order_by("path").first()
    assert page is not None
    title = page.title
    elsewhere = UserFactory(role=Role.COORDINATOR, territory=TerritoryFactory())
    household = User.objects.get(email="foyer@demo.test")
    coordination_group_sync()
    assert not elsewhere.groups.filter(name=territory_group_name(home.get_territory())).exists()
    assert edit(logged_in(elsewhere), page, "Piraté").status_code in {302, 403}
    assert edit(logged_in(household), page, "Piraté").status_code in {302, 403}
    page.refresh_from_db()
    assert page.title == title
    explorer = logged_in(elsewhere).get(reverse("wagtailadmin_explore", args=[home.pk]))
    assert explorer.status_code in {302, 403}


def test_a_coordinator_who_changes_territory_changes_group(demo: None) -> None:
    home = HomePage.objects.get()
    group = territory_group_name(home.get_territory())
    coordinator = User.objects.get(email="coordination@demo.test")
    coordinator.territory = TerritoryFactory()
    coordinator.save()
    coordination_group_sync()
    assert not coordinator.groups.filter(name=group).exists()
    coordinator.territory = None  # unbound: every territory
    coordinator.save()
    coordination_group_sync()
    assert coordinator.groups.filter(name=group).exists()


def test_a_coordinator_cannot_delete_a_page_the_site_is_built_on(demo: None) -> None:
    """The catalogue (no child page, so Wagtail alone would allow it) stays; a free page goes."""
    from cms.models import CataloguePage

    coordinator = User.objects.get(email="coordination@demo.test")
    client = logged_in(coordinator)
    catalogue = CataloguePage.objects.get()
    response = client.post(reverse("wagtailadmin_pages:delete", args=[catalogue.pk]), follow=True)
    assert "structure le site" in response.content.decode()
    assert CataloguePage.objects.filter(pk=catalogue.pk).exists()
    home = HomePage.objects.get()
    page = ContentPage.objects.child_of(home).get(slug="questions")
    client.post(reverse("wagtailadmin_pages:delete", args=[page.pk]))
    assert not ContentPage.objects.filter(pk=page.pk).exists()
