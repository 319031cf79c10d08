"""The QR code each order carries: scanned at the relay point, it opens the order there.

It encodes the absolute address ``/relais/commande/<reference>/`` on the order's territory's
own site (``territory_site_url``: its hostname, else ``MARCHE_SITE_URL``), where the relay
keeper is signed in, in the site's default language so the printed code and the one on
screen are the same whatever language the page was shown in. What the address shows depends
on who opens it (``marche.relays.views.order_qr_open``): the code itself carries no secret,
only the reference printed next to it.
"""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.urls import reverse
from django.utils import translation

QR_ERROR = "m"  # medium correction (segno raises it when the version has room to spare)


def order_pickup_url(reference: str, *, base_url: str | None = None) -> str:
    """The absolute address an order's QR code encodes, on ``base_url`` (the order's
    territory's site, ``territory_site_url``; the instance's address by default)."""
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("relays:order_qr", kwargs={"reference": reference})
    return (base_url or settings.MARCHE_SITE_URL).rstrip("/") + path


def order_qr(reference: str, *, base_url: str | None = None) -> segno.QRCode:
    """The order's QR code (a full QR code, never a micro one: phones read those badly)."""
    url = order_pickup_url(reference, base_url=base_url)
    return segno.make(url, error=QR_ERROR, micro=False)


def order_qr_svg(reference: str, *, title: str, base_url: str | None = None) -> str:
    """The QR code as an inline SVG element, sized by CSS (a view box, no fixed size).

    Dark modules on a white background with the standard four-module quiet zone, so it
    reads on a dark screen too; ``title`` is what screen readers say.
    """
    buffer = io.BytesIO()
    order_qr(reference, base_url=base_url).save(
        buffer,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        omitsize=True,
        border=4,
        dark="#000",
        light="#fff",
        title=title,
        svgclass="order-qr",
        lineclass=None,
    )
    return buffer.getvalue().decode()


def order_qr_rows(reference: str, *, base_url: str | None = None) -> list[tuple[int, ...]]:
    """The QR code's modules row by row (1 dark, 0 light), without the quiet zone: to draw
    it where SVG does not go (a PDF)."""
    return [tuple(row) for row in order_qr(reference, base_url=base_url).matrix_iter(border=0)]
