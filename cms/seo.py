"""What search engines and social networks read of a page: description, sharing image, JSON-LD.

The structured data follows schema.org: the territory's market as an ``Organization`` on the
home page, a ``Product`` with its ``Offer`` on product pages, a ``LocalBusiness`` with its place
and opening hours on relay point pages. Values come from marche's models, never from copies.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

DESCRIPTION_LENGTH = 160
DEFAULT_IMAGE = "img/partage.png"
SCHEMA_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# As Django's json_script: nothing in the data can close the <script> element.
_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def description_text(*parts: str) -> str:
    """Plain text of at most 160 characters from the first non-empty part (HTML stripped)."""
    for part in parts:
        text = " ".join(strip_tags(part or "").split())
        if text:
            return Truncator(text).chars(DESCRIPTION_LENGTH)
    return ""


def absolute(request: HttpRequest, url: str) -> str:
    return url if url.startswith(("http://", "https://")) else request.build_absolute_uri(url)


def default_image_url(request: HttpRequest) -> str:
    return absolute(request, static(DEFAULT_IMAGE))


def ld_json(data: dict[str, Any]) -> SafeString:
    """A ``<script type="application/ld+json">`` element holding ``data``."""
    text = json.dumps(data, ensure_ascii=False, default=str).translate(_JSON_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308


def price_text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def organization_data(*, territory: Any, url: str, logo: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": _("Marché local %(territory)s") % {"territory": territory.name},
        "url": url,
        "logo": logo,
        "areaServed": {"@type": "City", "name": territory.name},
    }
    if territory.contact_email:
        data["email"] = territory.contact_email
    return data


def product_data(
    *, product: Any, url: str, image: str, offer: Any | None, in_stock: bool, currency: str
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "url": url,
        "image": image,
        "category": product.category.name,
        "brand": {"@type": "Brand", "name": product.producer.name},
    }
    if product.description:
        data["description"] = product.description
    if offer is not None:
        data["offers"] = {
            "@type": "Offer",
            "url": url,
            "price": price_text(offer.unit_price),
            "priceCurrency": currency,
            "availability": "https://schema.org/InStock"
            if in_stock
            else "https://schema.org/OutOfStock",
            "seller": {"@type": "Organization", "name": product.producer.name},
        }
        if offer.cycle.closes_at:
            data["offers"]["priceValidUntil"] = offer.cycle.closes_at.date().isoformat()
    return data


def relay_point_data(*, relay: Any, hours: list[Any], url: str, image: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "LocalBusiness",
        "name": relay.name,
        "url": url,
        "image": image,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": relay.address,
            "postalCode": relay.postcode,
            "addressLocality": relay.city,
            "addressCountry": "FR",
        },
        "openingHoursSpecification": [
            {
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": f"https://schema.org/{SCHEMA_DAYS[slot.weekday]}",
                "opens": slot.opens_at.strftime("%H:%M"),
                "closes": slot.closes_at.strftime("%H:%M"),
            }
            for slot in hours
        ],
    }
    if relay.latitude is not None and relay.longitude is not None:
        data["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": float(relay.latitude),
            "longitude": float(relay.longitude),
        }
    if relay.phone:
        data["telephone"] = relay.phone
    return data


def article_data(*, page: Any, url: str, image: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": page.title[:110],
        "url": url,
        "image": image,
        "datePublished": page.date.isoformat(),
    }
    if page.intro:
        data["description"] = page.intro
    return data


def recipe_data(*, page: Any, url: str, image: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Recipe",
        "name": page.title,
        "url": url,
        "image": image,
        "datePublished": page.date.isoformat(),
        "recipeIngredient": page.ingredient_lines,
    }
    if page.intro:
        data["description"] = page.intro
    if page.servings:
        data["recipeYield"] = str(page.servings)
    return data
