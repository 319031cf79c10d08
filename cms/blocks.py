"""StreamField blocks of the editorial pages."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageBlock


class CallToActionBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("titre"))
    text = blocks.TextBlock(label=_("texte"), required=False)
    link_label = blocks.CharBlock(label=_("libellé du lien"))
    link_url = blocks.CharBlock(label=_("adresse du lien"))

    class Meta:
        icon = "link"
        template = "cms/blocks/call_to_action.html"


class BodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(
        label=_("intertitre"), form_classname="title", template="cms/blocks/heading.html"
    )
    paragraph = blocks.RichTextBlock(
        label=_("paragraphe"), features=["bold", "italic", "link", "ol", "ul"]
    )
    image = ImageBlock(label=_("image"))
    call_to_action = CallToActionBlock(label=_("appel à l'action"))
