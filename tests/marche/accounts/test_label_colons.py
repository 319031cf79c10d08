"""A label and its colon are translated together: English pages read "Role:", not "Role :".

French puts a space before a colon, English does not; a colon typed in the template after
``{% translate "Rôle" %}`` stays French on every language. Whole labels (``"Rôle :"``) or
sentences in ``{% blocktranslate %}`` let each language write its own punctuation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import TerritoryFactory, UserFactory

TEMPLATES = Path(settings.BASE_DIR) / "frontend" / "templates"
BLOCK = re.compile(r"\{%\s*blocktrans(?:late)?\b.*?%\}.*?\{%\s*endblocktrans(?:late)?\s*%\}", re.S)
TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)
# A colon standing alone in the template's own text (after a space, or a no-break space).
COLON = re.compile(r"(?:^|[^\S\n]|&nbsp;|\u00a0|\u202f):(?=\s|$|<|\")", re.M)


def hard_coded_colons(text: str) -> list[int]:
    """Line numbers of colons written in the template, outside any translated text."""
    stripped = TAG.sub("\x00", BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), text))
    return [stripped.count("\n", 0, found.start()) + 1 for found in COLON.finditer(stripped)]


@pytest.mark.parametrize(
    ("template", "lines"),
    [
        ('<p>{% trans "Rôle" %} : <strong>{{ role }}</strong></p>', [1]),
        ("<input aria-label=\"{% translate 'Nombre' %} : {{ name }}\">", [1]),
        ("{% translate \"Total\" %} : {{ total }}\n{% translate 'Retrait :' %} x", [1]),
        ('<p>{% trans "Rôle :" %} <strong>{{ role }}</strong></p>', []),
        ("{% blocktranslate with n=name %}{{ n }} : commandes{% endblocktranslate %}", []),
        ('<a href="https://example.org">lien</a> {{ a }}:{{ b }}', []),
    ],
)
def test_the_check_finds_colons_outside_translations(template: str, lines: list[int]) -> None:
    assert hard_coded_colons(template) == lines


def test_no_template_types_a_colon_after_a_translated_label() -> None:
    found = [
        f"{path.relative_to(TEMPLATES)}:{line}"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.suffix in {".html", ".txt"}
        for line in hard_coded_colons(path.read_text())
    ]
    assert found == []


@pytest.mark.django_db
def test_the_account_page_writes_its_role_label_whole(client: Client) -> None:
    user = UserFactory(territory=TerritoryFactory(slug="loos"))
    client.force_login(user)
    page = client.get("/compte/").content.decode()
    assert 'Rôle : <strong data-role="household">Foyer</strong>' in page
