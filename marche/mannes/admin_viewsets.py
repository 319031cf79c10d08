"""The manne ledger, read-only in the coordinators' Wagtail admin: accounts, postings, entries.

The ledger is immutable: corrections are new opposite postings made by the ledger's services,
never edits here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from marche.core.admin_access import ScopedModelViewSet
from marche.mannes.models import Account, Entry, Transaction


class AccountViewSet(ScopedModelViewSet):
    needs_local_currency = True
    model = Account
    icon = "user"
    menu_label = _("Comptes")
    actions = ("view",)
    list_display = ["__str__", "kind", "currency", "balance", "held", "limit"]
    list_filter = ["kind", "currency"]
    list_select_related = ("user", "producer")
    search_fields = ["user__email", "user__last_name", "producer__name"]
    ordering = ["kind", "pk"]


class TransactionViewSet(ScopedModelViewSet):
    needs_local_currency = True
    model = Transaction
    icon = "resubmit"
    menu_label = _("Opérations")
    actions = ("view",)
    list_display = ["__str__", "kind", "memo", "status", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["memo", "key"]
    ordering = ["-created_at", "-pk"]
    inspect_view_fields_exclude = ["fingerprint"]


class EntryViewSet(ScopedModelViewSet):
    needs_local_currency = True
    model = Entry
    icon = "list-ul"
    menu_label = _("Écritures")
    territory_lookup = "transaction__territory"
    actions = ("view",)
    list_display = ["transaction", "account", "amount", "currency"]
    list_filter = ["currency", "transaction__kind"]
    list_select_related = ("transaction", "account__user", "account__producer")
    search_fields = ["transaction__memo", "account__user__email", "account__producer__name"]
    ordering = ["-transaction__created_at", "-pk"]


account_viewset = AccountViewSet("manne_accounts")
transaction_viewset = TransactionViewSet("manne_transactions")
entry_viewset = EntryViewSet("manne_entries")
