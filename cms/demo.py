"""The CMS part of a demo territory: its own Wagtail site, home page and tree. Idempotent."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.html import escape
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from cms.models import (
    ArticleIndexPage,
    ArticleKind,
    ArticlePage,
    CataloguePage,
    ContentPage,
    HomePage,
    ProducerIndexPage,
    ProducerPage,
    RelayPointIndexPage,
    RelayPointPage,
)
from cms.search_index import products_reindex
from marche.catalog.models import Product
from marche.demo.spec import DemoSpec, DemoSpecError
from marche.producers.models import Producer
from marche.relays.models import RelayPoint
from marche.territories.models import Territory

DEMO_INTRO = (
    "<p>Des légumes, des fruits et des produits de l'atelier, cultivés en bio à "
    "{name} et autour, à retirer chaque semaine dans un point relais près de chez vous.{pay}</p>"
)
DEMO_INTRO_PAY = " Payez en euros ou en mannes."
# The hostname of the site a territory's spec gives none: the default site's, as before
# territories had their own sites.
DEFAULT_HOSTNAME = "localhost"


def home_page_ensure(
    *, territory: Territory, hostname: str = DEFAULT_HOSTNAME, default: bool = True
) -> tuple[Site, HomePage]:
    """The territory's site (``hostname``, port 80) and its HomePage root, created if missing.

    Each territory has its own page tree under its own home page. The default site (the one
    that answers any other hostname, ``localhost`` and ``127.0.0.1`` included) goes to the
    territory whose spec asks for it (``default_site``); such a territory also takes over the
    default site's home page when that page names no territory or still answers the generic
    ``localhost`` (the site of a database made before territories had sites), so that loading
    territories in either order gives the same sites and trees.
    """
    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
    current = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    current_home = current.root_page.specific if current is not None else None
    if not isinstance(current_home, HomePage):
        current_home = None
    home = HomePage.objects.filter(territory=territory).order_by("path").first()
    if (
        home is None
        and default
        and current_home is not None
        and current is not None
        and (current_home.territory_id is None or current.hostname == DEFAULT_HOSTNAME)
    ):
        home = current_home
    if home is None:
        slug = territory.slug
        if root.get_children().filter(slug=slug).exists():
            slug = f"{slug}-{territory.pk}"
        home = root.add_child(
            instance=HomePage(title=f"Marché local de {territory.name}", slug=slug)
        )
    site = Site.objects.filter(root_page=home).first() or (
        Site.objects.filter(hostname=hostname, port=80).first()
    )
    if site is None and current is not None and current_home is None:
        # A default site whose root is no home page (Wagtail's welcome page): reuse it.
        site = current
    others = Site.objects.filter(is_default_site=True)
    if site is not None and site.pk is not None:
        others = others.exclude(pk=site.pk)
    make_default = default or not others.exists()
    if make_default:
        others.update(is_default_site=False)
    site = site or Site()
    site.hostname, site.port, site.root_page = hostname, 80, home
    site.is_default_site = make_default
    site.save()
    return site, home


def demo_load_site(*, spec: DemoSpec, territory: Territory) -> None:
    """Give the territory its own site and page tree (home page, sections, one page per
    producer and relay point).

    ``site_hostname`` in the spec's ``[territory]`` names the site (any port: Wagtail matches
    a lone site by hostname); without it the territory takes the default site.
    """
    data = spec.data["territory"]
    hostname = data.get("site_hostname", DEFAULT_HOSTNAME)
    site, home = home_page_ensure(
        territory=territory,
        hostname=hostname,
        default=data.get("default_site", "site_hostname" not in data),
    )
    wanted = {
        "title": f"Marché local de {territory.name}",
        "territory_id": territory.pk,
        "intro": DEMO_INTRO.format(
            name=territory.name, pay=DEMO_INTRO_PAY if territory.local_currency_enabled else ""
        ),
    }
    if any(getattr(home, name) != value for name, value in wanted.items()):
        for name, value in wanted.items():
            setattr(home, name, value)
        home.draft_title = wanted["title"]
        home.save_revision().publish()
    site.site_name = f"Marché local — {territory.name}"
    site.save(update_fields=["site_name"])
    _load_tree(home=home, territory=territory, spec=spec)
    products_reindex()


def _child(parent: Page, model: type[Page], slug: str, **fields: object) -> Page:
    """The parent's child page of that type and slug, created and published if missing.

    An existing page is left as the coordinators edited it.
    """
    found = model.objects.child_of(parent).filter(slug=slug).first()
    if found is not None:
        return found
    page = model(slug=slug, **fields)
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def _paragraph(html: str) -> list[tuple[str, object]]:
    return [("paragraph", html)]


def _load_tree(*, home: HomePage, territory: Territory, spec: DemoSpec) -> None:
    """The demo's pages: sections in the menu, a page per producer and per relay point.

    A territory without a local currency gets no manne page and no word of mannes.
    """
    currency = territory.local_currency_plural or "mannes"
    mannes = territory.local_currency_enabled
    texts = spec.data.get("site", {})
    producers_index = _child(
        home,
        ProducerIndexPage,
        "producteurs",
        title="Nos producteurs",
        show_in_menus=True,
        search_description=f"Les fermes et ateliers en circuit court de {territory.name}.",
        intro=texts.get(
            "producers_intro",
            "<p>Des fermes en conversion bio, une micro-ferme d'insertion et leurs ateliers.</p>",
        ),
    )
    relays_index = _child(
        home,
        RelayPointIndexPage,
        "points-relais",
        title="Points relais",
        show_in_menus=True,
        search_description=f"Où retirer son panier autour de {territory.name} : carte et horaires.",
        intro="<p>Retirez votre panier le jour de livraison, aux horaires du point relais.</p>",
    )
    _child(
        home,
        CataloguePage,
        "catalogue",
        title="Catalogue",
        show_in_menus=True,
        search_description="Tous les produits, leurs prix et disponibilités de la semaine.",
    )
    if mannes:
        _manne_page(home=home, territory=territory, currency=currency)
    _child(
        home,
        ContentPage,
        "cantines",
        title="Cantines",
        show_in_menus=True,
        search_description="Commandes en gros pour la restauration collective, suivi EGalim.",
        intro="Des produits bio et locaux pour la restauration collective.",
        body=_paragraph(
            "<p>Les cantines commandent en gros chaque semaine, sur facture mensuelle, avec "
            "un bon de livraison indiquant les allergènes. Un tableau de bord suit la part "
            "bio et EGalim de leurs achats.</p>"
        ),
    )
    _child(
        home,
        ContentPage,
        "questions",
        title="Questions fréquentes",
        show_in_menus=True,
        search_description="Commander, retirer son panier, payer en euros"
        + (" ou en mannes." if mannes else "."),
        body=[
            ("heading", "Quand commander ?"),
            *_paragraph(
                "<p>Chaque semaine, un cycle de commande s'ouvre puis se clôt avant le jour "
                "de livraison. La page d'accueil dit jusqu'à quand.</p>"
            ),
            ("heading", "Où retirer mon panier ?"),
            *_paragraph("<p>Dans le point relais choisi à la commande, à ses horaires.</p>"),
        ],
    )
    _legal_page(home=home)
    _load_articles(home=home, territory=territory, spec=spec)
    for producer in Producer.objects.filter(territory=territory, is_active=True).order_by("pk"):
        if ProducerPage.objects.filter(producer=producer).exists():
            continue
        page = ProducerPage(
            title=producer.name,
            slug=producer.slug,
            producer=producer,
            story=f"<p>{escape(producer.description)}</p>" if producer.description else "",
            search_description=(producer.production or producer.name)[:160],
        )
        producers_index.add_child(instance=page)
        page.save_revision().publish()
    for relay in RelayPoint.objects.filter(territory=territory, is_active=True).order_by("pk"):
        if RelayPointPage.objects.filter(relay_point=relay).exists():
            continue
        page = RelayPointPage(
            title=relay.name,
            slug=relay.slug,
            relay_point=relay,
            search_description=f"Point relais {relay.name}, {relay.city} : horaires et retraits."[
                :160
            ],
        )
        relays_index.add_child(instance=page)
        page.save_revision().publish()


# The body of the legal page before it showed the territory's own mentions: a page still
# holding it untouched is brought up to date when the demo is loaded again.
GENERIC_LEGAL_TEXT = (
    "<p>Site édité par l'association coordinatrice du marché local. Les données "
    "personnelles servent uniquement aux commandes et ne sont pas cédées.</p>"
)


def _legal_page(*, home: HomePage) -> None:
    """The legal page: the territory's mentions (``legal_*`` of the territory) in one block.

    What it shows is read from the territory when the page is served; coordinators may add
    their own text around the block in Wagtail, and a later load leaves the page as edited.
    """
    body = [("legal_mentions", {})]
    page = _child(
        home,
        ContentPage,
        "mentions-legales",
        title="Mentions légales",
        show_in_menus=True,
        search_description="Éditeur, hébergement et données personnelles.",
        body=body,
    )
    page = page.specific
    old = [(block.block_type, getattr(block.value, "source", None)) for block in page.body]
    if old == [("paragraph", GENERIC_LEGAL_TEXT)]:
        page.body = body
        page.save_revision().publish()


def _manne_page(*, home: HomePage, territory: Territory, currency: str) -> None:
    """The page of the local currency: how to earn it, where to spend it."""
    _child(
        home,
        ContentPage,
        "la-manne",
        title="La manne",
        show_in_menus=True,
        search_description=f"La monnaie locale de {territory.name} : la gagner, la dépenser.",
        intro="Du temps donné qui devient des paniers.",
        body=[
            ("heading", "Gagner des mannes"),
            *_paragraph(
                "<p>La commune et les associations récompensent le temps donné : "
                "bénévolat au marché, jardin prêté pour y cultiver des légumes. "
                "« Donnez-nous vos jardins, gagnez de la manne, recevez des paniers. »</p>"
            ),
            ("heading", "Payer en mannes"),
            *_paragraph(
                f"<p>Les {currency} règlent tout ou partie d'une commande, à côté des euros : "
                "les deux monnaies ne s'additionnent jamais.</p>"
            ),
            ("manne_places", {"title": f"Où payer en {currency}"}),
        ],
    )


def _load_articles(*, home: HomePage, territory: Territory, spec: DemoSpec) -> None:
    """The news and recipes of the territory's file (``[[articles]]``), each once.

    They are data, written for their territory: a recipe links its products of that
    territory, and one marked ``local_currency`` is left out where the territory runs none.
    An existing article is left as the coordinators edited it.
    """
    index = _child(
        home,
        ArticleIndexPage,
        "actualites",
        title="Actualités et recettes",
        show_in_menus=True,
        search_description=f"Les nouvelles du marché local de {territory.name} et des recettes "
        "de saison.",
        intro="<p>Les nouvelles du marché et des recettes avec les produits de la semaine.</p>",
    )
    today = timezone.localdate()
    for item in spec.section("articles"):
        if item.get("local_currency") and not territory.local_currency_enabled:
            continue
        page = _article(item=item, territory=territory, today=today)
        if ArticlePage.objects.child_of(index).filter(slug=page.slug).exists():
            continue
        index.add_child(instance=page)
        page.save_revision().publish()


def _article(*, item: dict[str, Any], territory: Territory, today: date) -> ArticlePage:
    """An article of the demo file, checked (unknown kind, key or product is refused)."""
    slug = item.get("slug", "?")
    kind = item.get("kind", ArticleKind.NEWS)
    if kind not in ArticleKind.values:
        raise DemoSpecError(f"Article {slug} : type inconnu « {kind} » (recipe ou news)")
    try:
        page = ArticlePage(
            slug=item["slug"],
            title=item["title"],
            kind=kind,
            date=today - timedelta(days=int(item["days_ago"])),
            intro=item.get("intro", ""),
            servings=int(item["servings"]) if "servings" in item else None,
            ingredients=item.get("ingredients", "").strip(),
            body=_paragraph(item["body"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise DemoSpecError(f"Article {slug} illisible : {exc}") from exc
    wanted = set(item.get("products", []))
    products = list(Product.objects.filter(producer__territory=territory, slug__in=wanted))
    missing = wanted - {product.slug for product in products}
    if missing:
        raise DemoSpecError(
            f"Article {slug} : produit inconnu de {territory.name} : {', '.join(sorted(missing))}"
        )
    page.products = products
    return page
