"""Coordinators edit their own territory's site: a page group per territory.

Each territory whose site has a home page gets a group, "Coordination · <territory>", that
may add, edit, publish, lock and unlock the pages under that home page (Wagtail's page
permissions), and add, edit and choose images and documents in the territory's own media
collection (a child of the root collection named after it): one territory's coordinators
neither see nor change another's images and documents. A
coordinator bound to a territory is in that territory's group only; an unbound coordinator
(who sees every territory in the admin) is in every one. The market's data (producers,
offers, orders...) stays with the "Coordination" group (:mod:`marche.core.admin_access`).

Run by ``coordination_group_sync`` through the ``marche_coordination_sync`` hook.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission

from marche.accounts.models import Role, User
from marche.territories.models import Territory
from marche.territories.selectors import territory_get_default

GROUP_PREFIX = "Coordination · "
PAGE_ACTIONS = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
MEDIA_ACTIONS = {
    "wagtailimages": ("add_image", "change_image", "choose_image"),
    "wagtaildocs": ("add_document", "change_document", "choose_document"),
}


def territory_group_name(territory: Territory) -> str:
    return f"{GROUP_PREFIX}{territory.name}"[:150]


def territory_collection(*, territory: Territory, root: Collection) -> Collection:
    """The territory's media collection, under the root one; created the first time."""
    name = territory.name[:255]
    found = root.get_children().filter(name=name).first()
    return found if found is not None else root.add_child(name=name)


@transaction.atomic
def site_editors_sync() -> list[Group]:
    """One page group per territory with a home page, with its page and media permissions
    and exactly its coordinators; groups of territories without a home page are emptied."""
    from cms.models import HomePage

    page_permissions = list(
        Permission.objects.filter(content_type__app_label="wagtailcore", codename__in=PAGE_ACTIONS)
    )
    media_permissions = [
        permission
        for app_label, codenames in MEDIA_ACTIONS.items()
        for permission in Permission.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
    ]
    root_collection = Collection.get_first_root_node()
    default = territory_get_default()
    coordinators = User.objects.filter(role=Role.COORDINATOR, is_active=True)
    groups: list[Group] = []
    kept: set[int] = set()
    for home in HomePage.objects.select_related("territory").order_by("path"):
        territory = home.territory or default
        if territory is None:
            continue
        group, _created = Group.objects.get_or_create(name=territory_group_name(territory))
        kept.add(group.pk)
        GroupPagePermission.objects.filter(group=group).exclude(page=home).delete()
        for permission in page_permissions:
            GroupPagePermission.objects.get_or_create(group=group, page=home, permission=permission)
        if root_collection is not None:
            collection = territory_collection(territory=territory, root=root_collection)
            GroupCollectionPermission.objects.filter(group=group).exclude(
                collection=collection
            ).delete()
            for permission in media_permissions:
                GroupCollectionPermission.objects.get_or_create(
                    group=group, collection=collection, permission=permission
                )
        members = coordinators.filter(Q(territory=territory) | Q(territory__isnull=True))
        group.user_set.set(members)
        groups.append(group)
    for stale in Group.objects.filter(name__startswith=GROUP_PREFIX).exclude(pk__in=kept):
        stale.user_set.clear()
        GroupPagePermission.objects.filter(group=stale).delete()
        GroupCollectionPermission.objects.filter(group=stale).delete()
    return groups
