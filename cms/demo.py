"""The CMS part of a demo territory: its home page is the default site's root. Idempotent."""

from __future__ import annotations

from django.conf import settings
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from cms.models import HomePage
from marche.demo.spec import DemoSpec
from marche.territories.models import Territory

DEMO_INTRO = (
    "<p>Des légumes, des fruits et des produits de l'atelier, cultivés en bio à "
    "{name} et autour, à retirer chaque semaine dans un point relais près de chez vous. "
    "Payez en euros ou en mannes.</p>"
)


def home_page_ensure() -> tuple[Site, HomePage]:
    """The default site and its HomePage root, created if a wiped database lost them."""
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is not None and isinstance(site.root_page.specific, HomePage):
        return site, site.root_page.specific
    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
    home = HomePage.objects.first()
    if home is None:
        home = root.add_child(instance=HomePage(title="Marché local", slug="accueil"))
    site, _ = Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home},
    )
    return site, home


def demo_load_site(*, spec: DemoSpec, territory: Territory) -> None:
    """Point the default site's home page at the demo territory."""
    site, home = home_page_ensure()
    wanted = {
        "title": f"Marché local de {territory.name}",
        "territory_id": territory.pk,
        "intro": DEMO_INTRO.format(name=territory.name),
    }
    if any(getattr(home, name) != value for name, value in wanted.items()):
        for name, value in wanted.items():
            setattr(home, name, value)
        home.draft_title = wanted["title"]
        home.save_revision().publish()
    site.site_name = f"Marché local — {territory.name}"
    site.save(update_fields=["site_name"])
