"""The shop card of a product sold in variants reads well on a phone: each variant's name and
price on a line, then "Nombre [1] × 5 kg [Ajouter]" lined up with "Quantité [1] kg [Ajouter]"."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from marche.catalog.models import ProductVariant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("width", [390, 1280])
def test_variant_rows_have_a_label_a_unit_and_line_up(  # type: ignore[no-untyped-def]
    browser, live_server, artifacts_dir: Path, width: int
) -> None:
    call_command("load_demo", stdout=io.StringIO())
    variant = ProductVariant.objects.filter(is_active=True).order_by("pk").first()
    assert variant is not None, "the demo sells a product in variants"
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + "/commander/")
    card = page.locator("li.card").filter(
        has=page.locator(f'input[name=variant][value="{variant.pk}"]')
    )
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(artifacts_dir / f"shop-variants-{width}.png"))

    forms = card.locator("form.add-form")
    assert forms.count() >= 2
    rows = [forms.nth(i) for i in range(forms.count())]
    labels = [row.locator("label").inner_text().strip() for row in rows]
    assert labels[0] == "Quantité" and set(labels[1:]) == {"Nombre"}
    units = [row.locator(".unit").inner_text().strip() for row in rows]
    assert all(units), units
    assert all(unit.startswith("× ") for unit in units[1:]), units  # "× 5 kg": what one holds
    assert rows[1].locator(".variant-head").inner_text().startswith(variant.name)

    # Each row's label, field, unit and button on one line, fields one under the other.
    field_x = set()
    for row in rows:
        boxes = [
            row.locator(selector).bounding_box()
            for selector in ("label", "input[name=count]", ".unit", "button")
        ]
        assert all(box is not None for box in boxes)
        middles = [box["y"] + box["height"] / 2 for box in boxes]  # type: ignore[index]
        # On a phone the card is the screen's width: all on one line. On a desktop's narrow
        # cards the button may go under, the label, field and unit stay together.
        together = middles if width == PHONE["width"] else middles[:3]
        assert max(together) - min(together) < 8, (row.inner_text(), middles)
        right = max(box["x"] + box["width"] for box in boxes)  # type: ignore[index]
        assert right <= width, right
        field_x.add(round(boxes[1]["x"]))  # type: ignore[index]
    assert len(field_x) == 1, field_x
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
