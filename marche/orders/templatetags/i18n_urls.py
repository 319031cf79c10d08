"""The address of the current page in the default language, for the language switch.

With ``i18n_patterns(prefix_default_language=False)``, ``set_language`` resolves the ``next``
address while the default language is active: "/en/commander/" then does not resolve to the
shop and comes back unchanged, so choosing FR on an English page stayed in English. Given the
unprefixed address instead, ``set_language`` translates it to any language, both ways.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import translate_url

register = template.Library()


@register.simple_tag(takes_context=True)
def default_language_path(context: template.Context) -> str:
    """The current page's path and query, as the default language (French) addresses it."""
    request = context.get("request")
    if request is None:
        return "/"
    return translate_url(request.get_full_path(), settings.LANGUAGE_CODE)
