"""The site's page form in the admin: its choices of the market's objects are the editor's."""

from __future__ import annotations

import copy
from typing import Any

from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.blocks import BlockField, BlockWidget
from wagtail.blocks.stream_block import BaseStreamBlock, StreamValue
from wagtail.models import Page

from marche.core.admin_access import ScopedFormMixin
from marche.territories.models import Territory


def without_currency_blocks(block: BaseStreamBlock) -> BaseStreamBlock:
    """The same stream of blocks, less those that speak of a local currency (flagged
    ``needs_local_currency``): what a territory without one is offered to write with."""
    kept = {
        name: child
        for name, child in block.child_blocks.items()
        if not getattr(child, "needs_local_currency", False)
    }
    if len(kept) == len(block.child_blocks):
        return block
    narrowed = copy.copy(block)
    narrowed.child_blocks = type(block.child_blocks)(kept)
    return narrowed


class SitePageForm(ScopedFormMixin, WagtailAdminPageForm):
    """A page's choice of a territory, producer or relay point offers only those of the
    coordinator's territory (all of them to a superuser or an unbound coordinator), as the
    market's own admin forms do: a territory's pages never show another's data.

    On the site of a territory without a local currency, the blocks that show one (the
    places accepting it) are not offered: they would render nothing there. Such a block
    written before the currency was turned off is dropped when the page is next saved.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        territory = self._page_territory()
        if territory is None or territory.local_currency_enabled:
            return
        for name, field in self.fields.items():
            if isinstance(field, BlockField) and isinstance(field.block, BaseStreamBlock):
                narrowed = without_currency_blocks(field.block)
                if narrowed is not field.block:
                    field.block = narrowed
                    field.widget = BlockWidget(narrowed)
                    value = self.initial.get(name)
                    if isinstance(value, StreamValue):
                        self.initial[name] = StreamValue(
                            narrowed,
                            [
                                (child.block_type, child.value, child.id)
                                for child in value
                                if child.block_type in narrowed.child_blocks
                            ],
                        )

    def _page_territory(self) -> Territory | None:
        """The territory of the site the page is (or is being created) in."""
        from cms.models import HomePage

        page: Page | None = self.instance if self.instance.pk else self.parent_page
        if page is None or not page.pk:
            return None
        home = HomePage.objects.ancestor_of(page, inclusive=True).select_related("territory")
        found = home.first()
        return found.get_territory() if found is not None else None
