"""The site's hooks into the admin: its page groups follow the coordinators, and the pages
that hold the site together are not deleted by them."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from wagtail import hooks
from wagtail.models import Page

from cms.models import (
    ArticleIndexPage,
    CataloguePage,
    HomePage,
    ProducerIndexPage,
    RelayPointIndexPage,
)
from cms.permissions import site_editors_sync

# The site's structure: its header, sitemap, product and producer pages hang from them.
STRUCTURAL_PAGES = (
    HomePage,
    ProducerIndexPage,
    RelayPointIndexPage,
    CataloguePage,
    ArticleIndexPage,
)


@hooks.register("marche_coordination_sync")
def coordination_sync_site_editors() -> None:
    site_editors_sync()


@hooks.register("before_delete_page")
def keep_structural_pages(request: HttpRequest, page: Page) -> HttpResponse | None:
    """Only a superuser deletes a page the site is built on; a coordinator unpublishes it."""
    if request.user.is_superuser or not issubclass(page.specific_class, STRUCTURAL_PAGES):
        return None
    messages.error(
        request,
        _(
            "« %(title)s » structure le site : elle ne peut pas être supprimée. "
            "Dépubliez-la pour la retirer du site."
        )
        % {"title": page.title},
    )
    return redirect("wagtailadmin_explore", page.get_parent().pk)


@hooks.register("construct_page_chooser_queryset")
def chooser_pages_of_own_territory(pages: QuerySet[Page], request: HttpRequest) -> QuerySet[Page]:
    """A coordinator bound to a territory links only to their own site's pages: the page
    chooser (links, calls to action) lists and searches that territory's tree, and the root
    to browse from. Unbound coordinators and superusers choose among every site's pages."""
    user = request.user
    territory_id = getattr(user, "territory_id", None)
    if user.is_superuser or territory_id is None:
        return pages
    own = Q(depth=1)
    for path in HomePage.objects.filter(territory_id=territory_id).values_list("path", flat=True):
        own |= Q(path__startswith=path)
    return pages.filter(own)
