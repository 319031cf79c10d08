"""What every API router shares: one pagination for every list."""

from typing import Any

from ninja.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """``?page=2&page_size=50``: 20 items a page by default, 100 at most."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(page_size=20, max_page_size=100, **kwargs)
