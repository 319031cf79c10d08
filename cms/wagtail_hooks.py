"""The site's hooks into the admin: its page groups follow the coordinators, and the pages
that hold the site together are not deleted by them."""

from __future__ import annotations

from django.contrib import messages
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
