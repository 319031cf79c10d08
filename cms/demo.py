"""The CMS part of a demo territory: its home page is the site root. Idempotent."""

from __future__ import annotations

from wagtail.models import Site

from cms.models import HomePage
from marche.demo.spec import DemoSpec
from marche.territories.models import Territory

DEMO_INTRO = (
    "<p>Des légumes, des fruits et des produits de l'atelier, cultivés en bio à "
    "{name} et autour, à retirer chaque semaine dans un point relais près de chez vous. "
    "Payez en euros ou en mannes.</p>"
)


def demo_load_site(*, spec: DemoSpec, territory: Territory) -> None:
    """Point the default site's home page at the demo territory."""
    site = Site.objects.get(is_default_site=True)
    home = site.root_page.specific
    if not isinstance(home, HomePage):
        return
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
