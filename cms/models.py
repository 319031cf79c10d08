"""Editorial pages. They show marketplace data through marche's selectors and own none."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.blocks import BodyBlock
from cms.maps import project
from marche.catalog.models import EgalimLabel, Product
from marche.catalog.selectors import product_list_public
from marche.cycles.selectors import product_exclude_withdrawn
from marche.producers.selectors import producer_list_public
from marche.relays.selectors import relay_point_list_public
from marche.territories.models import Territory
from marche.territories.selectors import territory_get_default


@dataclass(frozen=True)
class ProductCard:
    """A product as the home page shows it: its labels valid today and whether it is organic."""

    product: Product
    labels: list[EgalimLabel]

    @property
    def is_organic(self) -> bool:
        return EgalimLabel.BIO in self.labels

    @property
    def estimated_weight_kg(self) -> Decimal | None:
        """The estimated weight of a piece without trailing zeros (1.200 shows as 1,2)."""
        weight = self.product.estimated_weight_kg
        if weight is None:
            return None
        return weight.quantize(Decimal(1)) if weight == weight.to_integral() else weight.normalize()

    @property
    def other_labels(self) -> list[EgalimLabel]:
        return [label for label in self.labels if label != EgalimLabel.BIO]


class HomePage(Page):
    """A territory's home page: its products, producers and relay points, and editorial content."""

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
    subpage_types = ["cms.ContentPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("page d'accueil")

    def get_territory(self) -> Territory | None:
        return self.territory or territory_get_default()

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        territory = self.get_territory()
        context["territory"] = territory
        if territory is not None:
            producers = list(producer_list_public(territory=territory))
            relay_points = list(relay_point_list_public(territory=territory))
            now = timezone.now()
            # A product its farmer withdrew from the cycle open now is not shown at all.
            products = product_exclude_withdrawn(
                products=product_list_public(territory=territory, on=timezone.localdate(now)),
                territory=territory,
                now=now,
            )
            context["products"] = [
                ProductCard(product=product, labels=product.valid_labels) for product in products
            ]
            context["producers"] = producers
            context["relay_points"] = relay_points
            context["map_points"] = project(
                [(r.latitude, r.longitude, r.name, "relay") for r in relay_points]
                + [(p.latitude, p.longitude, p.name, "producer") for p in producers]
            )
        return context


class ContentPage(Page):
    """A free editorial page (about, how it works, the local currency...)."""

    intro = models.CharField(_("chapeau"), max_length=300, blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("contenu"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = ["cms.HomePage", "cms.ContentPage"]
    subpage_types = ["cms.ContentPage"]

    class Meta:
        verbose_name = _("page de contenu")
