"""What every API router shares: one pagination for every list."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# The furthest row a page may start at: beyond it no list can have rows, and PostgreSQL's
# OFFSET (a bigint) would overflow long before; such a page is simply empty.
MAX_OFFSET = 10_000_000


class Pagination(PageNumberPagination):
    """``?page=2&page_size=50``: 20 items a page by default, 100 at most.

    A page past the end is empty (``items: []``, with the real ``count``), however large
    its number: it is answered without asking the database for rows.
    """

    class Input(Schema):
        page: int = Field(1, ge=1, description="Numéro de page, à partir de 1.")
        page_size: int | None = Field(
            None,
            ge=1,
            description=f"Éléments par page ({PAGE_SIZE} par défaut, {MAX_PAGE_SIZE} au plus).",
        )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE, **kwargs)

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Input, request: HttpRequest, **params: Any
    ) -> Any:
        page_size = self._get_page_size(pagination.page_size)
        offset = (pagination.page - 1) * page_size
        if offset > MAX_OFFSET:
            return {self.items_attribute: [], "count": self._items_count(queryset)}
        return {
            self.items_attribute: queryset[offset : offset + page_size],
            "count": self._items_count(queryset),
        }
