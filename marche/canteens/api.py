"""Canteen managers' API, ``/api/v1/cantines/``: orders and standing orders."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["cantines"])
