"""Editorial pages. They show marketplace data through marche's selectors and own none.

The tree: a home page (this week's cycle and offers), the producers (one page per producer,
pointing at its ``marche.producers.Producer``), the relay points (one page per
``marche.relays.RelayPoint``), the catalogue (products and their live offers, filtered and
searched; each product at ``produit/<id>/`` under it) and free content pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Page, Site
from wagtail.search import index
from wagtail.search.backends import get_search_backend

from cms import selectors, seo
from cms.blocks import BodyBlock
from cms.forms import SitePageForm
from cms.maps import map_config, map_data
from marche.catalog.models import Category, EgalimLabel, Product
from marche.cycles.models import Offer
from marche.producers.models import Producer
from marche.producers.selectors import producer_list_public
from marche.relays.models import RelayPoint
from marche.relays.selectors import clean_text, relay_point_list_public
from marche.territories.models import Territory
from marche.territories.selectors import territory_get_default

SEARCH_MAX_LENGTH = 100


class SearchableProduct(index.Indexed, Product):  # type: ignore[misc]
    """The catalogue's products as Wagtail's search backend indexes them (a proxy: no table).

    Saving a product re-indexes it (``cms.apps``); ``manage.py update_index`` rebuilds all.
    """

    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.SearchField("description"),
        index.SearchField("production_words"),
        index.RelatedFields("category", [index.SearchField("name")]),
        index.RelatedFields("producer", [index.SearchField("name")]),
        index.FilterField("is_active"),
    ]

    class Meta:
        proxy = True
        verbose_name = _("produit (recherche)")

    @property
    def production_words(self) -> str:
        return self.producer.production if self.producer_id else ""


def product_search_ids(*, query: str, territory: Territory) -> list[int]:
    """The ids of the territory's products matching a full-text query, best first."""
    hits = get_search_backend().search(query, SearchableProduct.objects.filter(is_active=True))
    ids = [product.pk for product in hits]
    mine = set(
        Product.objects.filter(pk__in=ids, producer__territory=territory).values_list(
            "pk", flat=True
        )
    )
    return [pk for pk in ids if pk in mine]


@dataclass(frozen=True)
class OfferCard:
    """A live offer as the pages show it: the offer's price and stock, the product's labels."""

    offer: Offer
    url: str = ""

    @property
    def product(self) -> Product:
        return self.offer.product

    @property
    def labels(self) -> list[EgalimLabel]:
        return self.offer.product.valid_labels

    @property
    def is_organic(self) -> bool:
        return EgalimLabel.BIO in self.labels

    @property
    def other_labels(self) -> list[EgalimLabel]:
        return [label for label in self.labels if label != EgalimLabel.BIO]

    @property
    def estimated_weight_kg(self) -> Decimal | None:
        """The estimated weight of a piece without trailing zeros (1.200 shows as 1,2)."""
        weight = self.offer.product.estimated_weight_kg
        return None if weight is None else selectors.quantity_text(weight)

    @property
    def remaining(self) -> Decimal | None:
        remaining = self.offer.quantity_remaining
        return None if remaining is None else selectors.quantity_text(max(remaining, Decimal(0)))

    @property
    def in_stock(self) -> bool:
        return selectors.offer_in_stock(self.offer)

    @property
    def shop_url(self) -> str:
        return f"{reverse('orders:shop')}?cycle={self.offer.cycle_id}#offre-{self.offer.pk}"


def home_page_of(page: Page) -> HomePage | None:
    """The home page a page sits under (itself for a home page)."""
    if isinstance(page, HomePage):
        return page
    return HomePage.objects.ancestor_of(page).select_related("territory").first()


def territory_of(page: Page) -> Territory | None:
    """The territory a page presents: its home page's, else the default one."""
    home = home_page_of(page)
    return home.get_territory() if home is not None else territory_get_default()


def catalogue_of(request: HttpRequest) -> CataloguePage | None:
    """The live catalogue of the request's site (product pages hang from it), once a request."""
    if not hasattr(request, "_cms_catalogue"):
        pages = CataloguePage.objects.live().order_by("path")
        # Each territory's site has its own catalogue: the one under the request's site.
        site = Site.find_for_request(request)
        own = pages.descendant_of(site.root_page).first() if site is not None else None
        request._cms_catalogue = own or pages.first()  # type: ignore[attr-defined]
    return request._cms_catalogue  # type: ignore[attr-defined]


def product_url(catalogue: CataloguePage | None, product_id: int, request: HttpRequest) -> str:
    if catalogue is None:
        return ""
    base = catalogue.get_url(request=request) or ""
    return base + catalogue.reverse_subpage("product", args=[product_id])


def page_urls(page_model: type[Page], key: str, request: HttpRequest) -> dict[int, str]:
    """The live pages of a type by the id they point at (``producer_id``...), with their url."""
    return {
        getattr(page, key): page.get_url(request=request) or ""
        for page in page_model.objects.live().only(
            "id", "url_path", "path", "depth", "locale_id", key
        )
        if getattr(page, key) is not None
    }


def places_on_map(
    context: dict[str, Any],
    places: list[Any],
    page_model: type[Page],
    key: str,
    kind: str,
    request: HttpRequest,
) -> dict[str, Any]:
    """An index's places get their page's url, and the context the map they are drawn on."""
    urls = page_urls(page_model, key, request)
    for place in places:
        place.page_url = urls.get(place.pk, "")
    context["map_data"] = map_data(places, kind, urls)
    context["map_config"] = map_config()
    return context


class SitePage(Page):
    """What every page of the public site shares: its territory and the site's sections."""

    base_form_class = SitePageForm

    class Meta:
        abstract = True

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        home = home_page_of(self)
        context["home"] = home
        context["territory"] = home.get_territory() if home else territory_get_default()
        context["sections"] = (
            list(home.get_children().live().in_menu().specific()) if home is not None else []
        )
        return context

    def meta_description(self, context: dict[str, Any]) -> str:
        """The page's search description, else a text drawn from what the page shows."""
        return seo.description_text(
            self.search_description, *self.description_sources(context), self.title
        )

    def description_sources(self, context: dict[str, Any]) -> list[str]:
        return [getattr(self, "intro", "")]

    def sharing_image_url(self, request: HttpRequest) -> str:
        """The image shown when the page is shared; empty: the site's default image."""
        return ""

    def structured_data(self, request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
        """The page's schema.org data (JSON-LD); empty: none."""
        return {}

    def get_sitemap_urls(self, request: HttpRequest | None = None) -> list[dict[str, Any]]:
        if not self.is_public():
            return []
        return super().get_sitemap_urls(request)

    def is_public(self) -> bool:
        """False when the page answers 404 (its producer or relay point is withdrawn)."""
        return True


class HomePage(SitePage):
    """A territory's home page: this week's cycle, its offers and featured basket."""

    territory = models.ForeignKey(
        Territory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("territoire"),
        help_text=_("Territoire présenté ; vide : le territoire par défaut."),
    )
    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])
    body = StreamField(BodyBlock(), verbose_name=_("contenu"), blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("territory"),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "cms.ContentPage",
        "cms.ProducerIndexPage",
        "cms.RelayPointIndexPage",
        "cms.CataloguePage",
        "cms.ArticleIndexPage",
    ]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("page d'accueil")

    def get_territory(self) -> Territory | None:
        return self.territory or territory_get_default()

    def description_sources(self, context: dict[str, Any]) -> list[str]:
        territory = context.get("territory")
        fallback = (
            _(
                "Les produits des fermes de %(territory)s, à commander chaque semaine "
                "et à retirer en point relais."
            )
            % {"territory": territory.name}
            if territory
            else ""
        )
        return [self.intro, fallback]

    def structured_data(self, request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
        territory = context.get("territory")
        if territory is None:
            return {}
        return seo.organization_data(
            territory=territory,
            url=request.build_absolute_uri(self.get_url(request=request) or "/"),
            logo=seo.default_image_url(request),
        )

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        territory = context["territory"]
        if territory is None:
            return context
        week = selectors.week_get(territory=territory, now=timezone.now())
        context["week"] = week
        catalogue = catalogue_of(request)
        context["catalogue"] = catalogue
        if week.cycle is not None:
            context["offers"] = [
                OfferCard(offer=offer, url=product_url(catalogue, offer.product_id, request))
                for offer in selectors.offer_list_live(cycle=week.cycle)
            ]
            context["basket"] = selectors.basket_featured(cycle=week.cycle)
        producers = list(producer_list_public(territory=territory))
        relay_points = list(relay_point_list_public(territory=territory))
        producer_urls = page_urls(ProducerPage, "producer_id", request)
        relay_urls = page_urls(RelayPointPage, "relay_point_id", request)
        for producer in producers:
            producer.page_url = producer_urls.get(producer.pk, "")
        for relay in relay_points:
            relay.page_url = relay_urls.get(relay.pk, "")
        context["producers"] = producers
        context["relay_points"] = relay_points
        context["producer_index"] = next(
            (p for p in context["sections"] if isinstance(p, ProducerIndexPage)), None
        )
        context["relay_index"] = next(
            (p for p in context["sections"] if isinstance(p, RelayPointIndexPage)), None
        )
        return context


class ContentPage(SitePage):
    """A free editorial page (the manne, canteens, FAQ, legal notices...)."""

    intro = models.CharField(_("chapeau"), max_length=300, blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("contenu"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = ["cms.HomePage", "cms.ContentPage"]
    subpage_types = ["cms.ContentPage"]

    class Meta:
        verbose_name = _("page de contenu")


class ProducerIndexPage(SitePage):
    """The territory's producers, each linked to its page."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.ProducerPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("liste des producteurs")

    def description_sources(self, context: dict[str, Any]) -> list[str]:
        territory = context.get("territory")
        names = ", ".join(producer.name for producer in context.get("producers", []))
        return [
            self.intro,
            _("Les producteurs de %(territory)s : %(names)s.")
            % {"territory": territory.name if territory else "", "names": names}
            if names
            else "",
        ]

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        territory = context["territory"]
        producers = list(producer_list_public(territory=territory)) if territory else []
        context["producers"] = producers
        return places_on_map(context, producers, ProducerPage, "producer_id", "producer", request)


class ProducerPage(SitePage):
    """One producer's page: its story and photos; its products and this week's offers."""

    producer = models.ForeignKey(
        Producer,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("producteur"),
    )
    story = RichTextField(
        _("histoire"), blank=True, features=["h3", "bold", "italic", "link", "ol", "ul"]
    )
    photos = StreamField(
        [("photo", ImageBlock(label=_("photo")))], verbose_name=_("photos"), blank=True
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("producer"),
        FieldPanel("story"),
        FieldPanel("photos"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("story")]
    parent_page_types = ["cms.ProducerIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("page d'un producteur")
        constraints = [
            models.UniqueConstraint(fields=["producer"], name="one_page_per_producer"),
        ]

    def is_public(self) -> bool:
        return self.producer is not None and self.producer.is_active

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.is_public():
            raise Http404
        return super().serve(request, *args, **kwargs)

    def description_sources(self, context: dict[str, Any]) -> list[str]:
        producer = self.producer
        if producer is None:
            return [self.story]
        summary = " · ".join(
            part
            for part in (producer.get_kind_display(), producer.city, producer.production)
            if part
        )
        return [self.story, producer.description, f"{producer.name} — {summary}"]

    def sharing_image_url(self, request: HttpRequest) -> str:
        for block in self.photos:
            image = getattr(block.value, "get_rendition", None)
            if image is not None:
                return seo.absolute(request, image("fill-1200x630").url)
        return ""

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        producer = self.producer
        assert producer is not None
        now = timezone.now()
        week = selectors.week_get(territory=producer.territory, now=now)
        products = list(
            selectors.product_list_listed(territory=producer.territory, now=now).filter(
                producer=producer
            )
        )
        offers = selectors.offer_by_product(
            cycle=week.cycle, product_ids=[product.pk for product in products]
        )
        catalogue = catalogue_of(request)
        for product in products:
            product.offer = offers.get(product.pk)
            product.url = product_url(catalogue, product.pk, request)
        context.update(
            producer=producer,
            week=week,
            products=products,
            offered=[product for product in products if product.offer is not None],
            labels=selectors.labels_of(products),
            catalogue=catalogue,
        )
        return context


class RelayPointIndexPage(SitePage):
    """The relay points on a map, and each one listed in text with its page."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.RelayPointPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("liste des points relais")

    def description_sources(self, context: dict[str, Any]) -> list[str]:
        names = ", ".join(relay.name for relay in context.get("relay_points", []))
        return [
            self.intro,
            _("Où retirer sa commande : %(names)s.") % {"names": names} if names else "",
        ]

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        territory = context["territory"]
        relay_points = list(relay_point_list_public(territory=territory)) if territory else []
        context["relay_points"] = relay_points
        return places_on_map(
            context, relay_points, RelayPointPage, "relay_point_id", "relay", request
        )


class RelayPointPage(SitePage):
    """One relay point: where, its opening hours and the next pickup days and slots."""

    relay_point = models.ForeignKey(
        RelayPoint,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("point relais"),
    )
    body = RichTextField(_("informations"), blank=True, features=["bold", "italic", "link", "ul"])

    content_panels = [*Page.content_panels, FieldPanel("relay_point"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("body")]
    parent_page_types = ["cms.RelayPointIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("page d'un point relais")
        constraints = [
            models.UniqueConstraint(fields=["relay_point"], name="one_page_per_relay_point"),
        ]

    def is_public(self) -> bool:
        return self.relay_point is not None and self.relay_point.is_active

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.is_public():
            raise Http404
        return super().serve(request, *args, **kwargs)

    def description_sources(self, context: dict[str, Any]) -> list[str]:
        relay = self.relay_point
        if relay is None:
            return [self.body]
        where = _(
            "Point relais %(name)s, %(address)s : horaires d'ouverture et prochains retraits."
        ) % {
            "name": relay.name,
            "address": relay.full_address,
        }
        return [self.body, relay.description, where]

    def structured_data(self, request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
        relay = context.get("relay")
        if relay is None:
            return {}
        return seo.relay_point_data(
            relay=relay,
            hours=context.get("hours", []),
            url=request.build_absolute_uri(request.path),
            image=self.sharing_image_url(request) or seo.default_image_url(request),
        )

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        relay = self.relay_point
        assert relay is not None
        hours = list(relay.opening_hours.order_by("weekday", "opens_at"))
        context.update(
            relay=relay,
            hours=hours,
            pickup_days=selectors.relay_pickup_days(
                relay_point=relay, territory=relay.territory, today=timezone.localdate()
            ),
            map_data=map_data([relay], "relay"),
            map_config=map_config(),
        )
        return context


class CatalogueFilterForm(forms.Form):
    """The catalogue's GET filters. A value that is not valid filters nothing."""

    q = forms.CharField(label=_("Rechercher"), required=False, max_length=SEARCH_MAX_LENGTH)
    categorie = forms.ModelChoiceField(
        label=_("Catégorie"),
        queryset=Category.objects.order_by("position", "name"),
        to_field_name="slug",
        required=False,
        empty_label=_("Toutes"),
    )
    producteur = forms.ModelChoiceField(
        label=_("Producteur"),
        queryset=Producer.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label=_("Tous"),
    )
    bio = forms.BooleanField(label=_("Bio seulement"), required=False)
    en_stock = forms.BooleanField(label=_("Disponible cette semaine"), required=False)

    def __init__(self, *args: Any, territory: Territory | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if territory is not None:
            self.fields["producteur"].queryset = Producer.objects.filter(  # type: ignore[attr-defined]
                territory=territory, is_active=True
            ).order_by("name")

    def cleaned(self) -> dict[str, Any]:
        """The valid filters; a field sent wrong (unknown slug, junk) is left out."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        query = clean_text(self.data.get("q", ""), SEARCH_MAX_LENGTH)
        return {
            "q": query,
            "category": data.get("categorie"),
            "producer": data.get("producteur"),
            "organic": bool(data.get("bio")),
            "in_stock": bool(data.get("en_stock")),
        }


class CataloguePage(RoutablePageMixin, SitePage):
    """Every product of the territory with this week's offer; filters, search, product pages."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("catalogue")

    def description_sources(self, context: dict[str, Any]) -> list[str]:
        territory = territory_of(self)
        return [
            self.intro,
            _(
                "Tous les produits des fermes de %(territory)s, "
                "avec l'offre et le stock de la semaine."
            )
            % {"territory": territory.name}
            if territory
            else "",
        ]

    def get_sitemap_urls(self, request: HttpRequest | None = None) -> list[dict[str, Any]]:
        """The catalogue, then one entry per product page it routes (``produit/<id>/``)."""
        entries = super().get_sitemap_urls(request)
        territory = territory_of(self)
        base = self.get_full_url(request=request)
        if not entries or territory is None or not base:
            return entries
        products = selectors.product_list_listed(territory=territory, now=timezone.now())
        for pk, updated_at in products.order_by("pk").values_list("pk", "updated_at"):
            entries.append(
                {
                    "location": base + self.reverse_subpage("product", args=[pk]),
                    "lastmod": updated_at,
                }
            )
        return entries

    @path("")
    def index_route(self, request: HttpRequest) -> HttpResponse:
        context = self._catalogue_context(request)
        return self.render(request, context_overrides=context)

    @path("produit/<int:product_id>/", name="product")
    def product_route(self, request: HttpRequest, product_id: int) -> HttpResponse:
        territory = territory_of(self)
        if territory is None:
            raise Http404
        now = timezone.now()
        product = (
            selectors.product_list_listed(territory=territory, now=now)
            .filter(pk=product_id)
            .first()
        )
        if product is None:
            raise Http404
        week = selectors.week_get(territory=territory, now=now)
        offer = selectors.offer_by_product(cycle=week.cycle, product_ids=[product.pk]).get(
            product.pk
        )
        producer_page = ProducerPage.objects.live().filter(producer_id=product.producer_id).first()
        card = OfferCard(offer=offer) if offer is not None else None
        photo = next(iter(product.photos.all()), None)
        image = seo.absolute(request, photo.image.url) if photo else seo.default_image_url(request)
        url = request.build_absolute_uri(request.path)
        return self.render(
            request,
            template="cms/product_page.html",
            context_overrides={
                "product": product,
                "week": week,
                "card": card,
                "producer_page": producer_page,
                "page_title": product.name,
                "meta_description": seo.description_text(
                    product.description,
                    f"{product.name} — {product.producer.name} · {product.category.name}",
                ),
                "og_image": image,
                "og_type": "product",
                "structured_data": seo.product_data(
                    product=product,
                    url=url,
                    image=image,
                    offer=offer,
                    in_stock=card.in_stock if card is not None else False,
                    currency=territory.currency or "EUR",
                ),
            },
        )

    def _catalogue_context(self, request: HttpRequest) -> dict[str, Any]:
        territory = territory_of(self)
        if territory is None:
            return {"products": []}
        now = timezone.now()
        form = CatalogueFilterForm(request.GET or None, territory=territory)
        wanted = form.cleaned()
        ids = product_search_ids(query=wanted["q"], territory=territory) if wanted["q"] else None
        week = selectors.week_get(territory=territory, now=now)
        products = list(
            selectors.product_list_catalogue(
                territory=territory,
                now=now,
                cycle=week.cycle,
                filters=selectors.CatalogueFilters(
                    category=wanted["category"],
                    producer=wanted["producer"],
                    organic=wanted["organic"],
                    in_stock=wanted["in_stock"],
                    ids=ids,
                ),
            )
        )
        if ids is not None:
            rank = {pk: position for position, pk in enumerate(ids)}
            products.sort(key=lambda product: rank.get(product.pk, len(rank)))
        offers = selectors.offer_by_product(
            cycle=week.cycle, product_ids=[product.pk for product in products]
        )
        for product in products:
            product.offer = offers.get(product.pk)
            product.card = OfferCard(offer=product.offer) if product.offer else None
            product.url = product_url(self, product.pk, request)
        return {
            "form": form,
            "query": wanted["q"],
            "products": products,
            "week": week,
            "filtered": any(value for value in wanted.values()),
        }


class ArticleKind(models.TextChoices):
    NEWS = "news", _("actualité")
    RECIPE = "recipe", _("recette")


ARTICLE_KIND_PARAMS = {
    "actualites": ArticleKind.NEWS,
    "recettes": ArticleKind.RECIPE,
    ArticleKind.NEWS.value: ArticleKind.NEWS,
    ArticleKind.RECIPE.value: ArticleKind.RECIPE,
}


class ArticleIndexPage(SitePage):
    """News and recipes, newest first, a page of 12 at a time, filtered by kind."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.ArticlePage"]
    max_count_per_parent = 1
    per_page = 12

    class Meta:
        verbose_name = _("actualités et recettes")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        articles = (
            ArticlePage.objects.live()
            .child_of(self)
            .select_related("image")
            .order_by("-date", "-pk")
        )
        # The filter's French words, and the kinds' own values (older links).
        kind = ARTICLE_KIND_PARAMS.get(request.GET.get("type", ""), "")
        if kind:
            articles = articles.filter(kind=kind)
        paginator = Paginator(articles, self.per_page)
        try:
            page_of = paginator.page(request.GET.get("page", 1))
        except PageNotAnInteger:
            page_of = paginator.page(1)
        except EmptyPage:
            page_of = paginator.page(paginator.num_pages)
        context.update(
            articles=page_of,
            kind=kind,
            kind_param={ArticleKind.NEWS: "actualites", ArticleKind.RECIPE: "recettes"}.get(
                kind, ""
            ),
            kinds=[
                ("actualites", ArticleKind.NEWS, _("Actualités")),
                ("recettes", ArticleKind.RECIPE, _("Recettes")),
            ],
        )
        return context


class ArticlePage(SitePage):
    """A news item or a recipe; a recipe's products link to the catalogue and show this
    week's offer when there is one."""

    kind = models.CharField(
        _("type"), max_length=10, choices=ArticleKind.choices, default=ArticleKind.NEWS
    )
    date = models.DateField(_("date"), default=timezone.localdate)
    intro = models.CharField(_("chapeau"), max_length=300, blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("image"),
    )
    servings = models.PositiveSmallIntegerField(
        _("nombre de parts"), null=True, blank=True, help_text=_("Pour une recette.")
    )
    ingredients = models.TextField(
        _("ingrédients"), blank=True, help_text=_("Un ingrédient par ligne (pour une recette).")
    )
    products = ParentalManyToManyField(
        Product,
        blank=True,
        related_name="articles",
        verbose_name=_("produits du marché"),
        help_text=_("Les produits à commander pour cette recette ou dont parle l'article."),
    )
    body = StreamField(BodyBlock(), verbose_name=_("contenu"), blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("kind"),
        FieldPanel("date"),
        FieldPanel("intro"),
        FieldPanel("image"),
        MultiFieldPanel(
            [FieldPanel("servings"), FieldPanel("ingredients"), FieldPanel("products")],
            heading=_("Recette"),
        ),
        FieldPanel("body"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("intro"),
        index.SearchField("ingredients"),
        index.SearchField("body"),
        index.FilterField("kind"),
    ]
    parent_page_types = ["cms.ArticleIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("article")

    @property
    def ingredient_lines(self) -> list[str]:
        return [line.strip() for line in self.ingredients.splitlines() if line.strip()]

    def sharing_image_url(self, request: HttpRequest) -> str:
        if self.image is None:
            return ""
        return request.build_absolute_uri(self.image.get_rendition("fill-1200x630").url)

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        territory = context["territory"]
        products = list(
            self.products.filter(is_active=True).select_related("producer").order_by("name")
        )
        catalogue = catalogue_of(request)
        week = selectors.week_get(territory=territory, now=timezone.now()) if territory else None
        offers = selectors.offer_by_product(
            cycle=week.cycle if week else None, product_ids=[p.pk for p in products]
        )
        context["products"] = [
            {
                "product": product,
                "url": product_url(catalogue, product.pk, request),
                "offer": offers.get(product.pk),
            }
            for product in products
        ]
        return context

    def structured_data(self, request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
        url = request.build_absolute_uri(self.get_url(request=request) or "/")
        image = self.sharing_image_url(request) or seo.default_image_url(request)
        if self.kind == ArticleKind.RECIPE:
            return seo.recipe_data(page=self, url=url, image=image)
        return seo.article_data(page=self, url=url, image=image)
