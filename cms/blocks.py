"""StreamField blocks of the editorial pages.

The blocks that show marketplace data (this week's offers, the places accepting mannes) store
only which producer or category to show; what they show is read when the page is served.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.images.blocks import ImageBlock

from cms import selectors
from cms.maps import map_config, map_data
from marche.catalog.models import Category
from marche.core.numbers import parse_id_or_none
from marche.producers.models import Producer
from marche.territories.selectors import territory_get_default


def producer_choices() -> list[tuple[str, str]]:
    """The producers an editor may pick, by name."""
    return [
        (str(pk), name)
        for pk, name in Producer.objects.filter(is_active=True)
        .order_by("name")
        .values_list("pk", "name")
    ]


def category_choices() -> list[tuple[str, str]]:
    """The product categories an editor may pick, in the catalogue's order."""
    return [
        (str(pk), name)
        for pk, name in Category.objects.order_by("position", "name").values_list("pk", "name")
    ]


class CallToActionBlock(blocks.StructBlock):
    """A framed invitation with one link, to a page of the site or to any address."""

    title = blocks.CharBlock(label=_("titre"))
    text = blocks.TextBlock(label=_("texte"), required=False)
    link_label = blocks.CharBlock(label=_("libellé du lien"))
    link_page = blocks.PageChooserBlock(label=_("page du site"), required=False)
    link_url = blocks.CharBlock(
        label=_("ou adresse du lien"),
        required=False,
        help_text=_("Une adresse du site (/commander/) ou complète (https://…)."),
    )

    class Meta:
        icon = "link"
        template = "cms/blocks/call_to_action.html"

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not value.get("link_page") and not value.get("link_url"):
            raise StructBlockValidationError(
                block_errors={
                    "link_url": ValidationError(_("Choisissez une page ou saisissez une adresse."))
                }
            )
        return value


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock(label=_("citation"))
    author = blocks.CharBlock(label=_("auteur"), required=False)

    class Meta:
        icon = "openquote"
        template = "cms/blocks/quote.html"


class GalleryBlock(blocks.ListBlock):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ImageBlock(label=_("image")), **kwargs)

    class Meta:
        icon = "image"
        template = "cms/blocks/gallery.html"


class WeekOffersBlock(blocks.StructBlock):
    """This week's live offers of one producer or one category, at their offer prices."""

    title = blocks.CharBlock(label=_("titre"), required=False)
    producer = blocks.ChoiceBlock(choices=producer_choices, label=_("producteur"), required=False)
    category = blocks.ChoiceBlock(choices=category_choices, label=_("catégorie"), required=False)

    class Meta:
        icon = "list-ul"
        template = "cms/blocks/week_offers.html"

    def get_context(self, value: Any, parent_context: dict[str, Any] | None = None) -> dict:
        context = super().get_context(value, parent_context=parent_context)
        territory = (parent_context or {}).get("territory") or territory_get_default()
        offers: list[Any] = []
        if territory is not None:
            week = selectors.week_get(territory=territory, now=timezone.now())
            if week.cycle is not None:
                producer_id = parse_id_or_none(value.get("producer"))
                category_id = parse_id_or_none(value.get("category"))
                producer = Producer.objects.filter(pk=producer_id).first() if producer_id else None
                category = Category.objects.filter(pk=category_id).first() if category_id else None
                # A producer or category deleted since the page was written shows nothing.
                gone = (producer_id and producer is None) or (category_id and category is None)
                if not gone:
                    offers = list(
                        selectors.offer_list_live(
                            cycle=week.cycle, producer=producer, category=category
                        )
                    )
            context["cycle"] = week.cycle
        context["offers"] = offers
        return context


class MannePlacesBlock(blocks.StructBlock):
    """Where mannes are accepted: the territory's producers that take them, listed and mapped."""

    title = blocks.CharBlock(label=_("titre"), default=_("Où payer en mannes"))
    # not offered on the pages of a territory without a local currency (cms.forms)
    needs_local_currency = True

    class Meta:
        icon = "site"
        template = "cms/blocks/manne_places.html"

    def get_context(self, value: Any, parent_context: dict[str, Any] | None = None) -> dict:
        context = super().get_context(value, parent_context=parent_context)
        territory = (parent_context or {}).get("territory") or territory_get_default()
        places = []
        if territory is not None and territory.local_currency_enabled:
            places = list(
                Producer.objects.filter(
                    territory=territory, is_active=True, accepts_local_currency=True
                ).order_by("name")
            )
        context["places"] = places
        context["map_data"] = map_data(places, "producer")
        context["map_config"] = map_config()
        return context


class LegalMentionsBlock(blocks.StructBlock):
    """The territory's legal notice (publisher, director, host, free text), as its coordinator
    keeps it on the territory: the page always shows the current one, and nothing else of
    another territory."""

    class Meta:
        icon = "doc-full"
        template = "cms/blocks/legal_mentions.html"
        label = _("mentions légales du territoire")
        help_text = _(
            "Affiche l'éditeur, la direction de la publication, l'hébergeur et les autres "
            "mentions saisis sur le territoire (administration des territoires)."
        )

    def get_context(self, value: Any, parent_context: dict[str, Any] | None = None) -> dict:
        context = super().get_context(value, parent_context=parent_context)
        context["territory"] = (parent_context or {}).get("territory") or territory_get_default()
        return context


class BodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(
        label=_("intertitre"), form_classname="title", template="cms/blocks/heading.html"
    )
    paragraph = blocks.RichTextBlock(
        label=_("paragraphe"), features=["h3", "bold", "italic", "link", "ol", "ul"]
    )
    image = ImageBlock(label=_("image"), template="cms/blocks/image.html")
    gallery = GalleryBlock(label=_("galerie"))
    quote = QuoteBlock(label=_("citation"))
    call_to_action = CallToActionBlock(label=_("appel à l'action"))
    week_offers = WeekOffersBlock(label=_("offres de la semaine"))
    manne_places = MannePlacesBlock(label=_("lieux acceptant la manne"))
    legal_mentions = LegalMentionsBlock(label=_("mentions légales du territoire"))
