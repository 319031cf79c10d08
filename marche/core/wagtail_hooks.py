"""The market's data in the coordinators' Wagtail admin: the "Marché" and "Monnaie" menus."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.base import ViewSetGroup

from marche.accounts.models import User
from marche.catalog.admin_viewsets import product_viewset
from marche.core.admin_access import territory_lookup_register
from marche.cycles.admin_viewsets import offer_viewset, order_cycle_viewset
from marche.cycles.models import CycleSchedule
from marche.mannes.admin_viewsets import account_viewset, entry_viewset, transaction_viewset
from marche.orders.admin_viewsets import order_viewset
from marche.payments.admin_viewsets import payment_viewset, refund_viewset
from marche.producers.admin_viewsets import producer_viewset
from marche.relays.admin_viewsets import relay_hours_viewset, relay_point_viewset
from marche.territories.admin_viewsets import territory_viewset
from marche.territories.models import Territory

# The models the admin's forms choose from, narrowed to the coordinator's territory too.
territory_lookup_register(Territory, "")
territory_lookup_register(CycleSchedule, "territory")
territory_lookup_register(User, "territory")


class MarketGroup(ViewSetGroup):
    menu_label = _("Marché")
    menu_icon = "tag"
    menu_order = 200
    items = (
        producer_viewset,
        product_viewset,
        relay_point_viewset,
        relay_hours_viewset,
        order_cycle_viewset,
        offer_viewset,
        order_viewset,
        payment_viewset,
        refund_viewset,
        territory_viewset,
    )


class CurrencyGroup(ViewSetGroup):
    """The local currency's ledger; hidden, like its views, from a coordinator whose
    territory has no local currency (``needs_local_currency``)."""

    menu_label = _("Monnaie")
    menu_name = "local-currency"
    menu_icon = "resubmit"
    menu_order = 220
    items = (account_viewset, transaction_viewset, entry_viewset)


@hooks.register("register_admin_viewset")
def register_market_viewsets() -> ViewSetGroup:
    return MarketGroup()


@hooks.register("register_admin_viewset")
def register_currency_viewsets() -> ViewSetGroup:
    return CurrencyGroup()
