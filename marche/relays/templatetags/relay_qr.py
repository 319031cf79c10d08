"""``{% order_qr order %}``: the order's QR code as inline SVG, for the relay point to scan."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from marche.orders.models import Order
from marche.relays.qr import order_qr_svg
from marche.territories.selectors import territory_site_url

register = template.Library()


@register.simple_tag
def order_qr(order: Order) -> SafeString:
    """The SVG segno writes (it escapes the title; the rest is path data it generates)."""
    title = _("Code QR de la commande %(ref)s") % {"ref": order.reference}
    base_url = territory_site_url(territory=order.cycle.territory)
    return mark_safe(order_qr_svg(order.reference, title=title, base_url=base_url))  # noqa: S308
