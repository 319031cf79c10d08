"""Who may do what in the Wagtail admin, and on which territory's objects.

Coordinators work in the Wagtail admin. Three things decide what they see:

- the ``Coordination`` group gives them Django permissions (``wagtailadmin.access_admin`` and,
  per model, the actions its admin view set allows), kept in step by
  :func:`coordination_group_sync` (``manage.py coordination_group``);
- each model's permission policy (:class:`CoordinatorPolicy`) also requires the coordinator
  role and never allows an action its view set does not offer (a paid order's money is
  read-only even for a superuser);
- every listing, form choice, filter choice and object URL is narrowed to the territory the
  coordinator is bound to (:func:`territory_scope`), as ``user_can_see_territory`` does: a
  coordinator bound to a territory sees only its objects; superusers and unbound
  coordinators see every territory.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms import DecimalField, ModelChoiceField, TextInput
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.admin.ui.tables import BooleanColumn
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from marche.accounts.models import Role, User
from marche.core.numbers import InvalidNumber, NumberKind, parse_decimal
from marche.territories.models import Territory

COORDINATION_GROUP = "Coordination"

# How each model reaches its territory; "" for the territory itself. Filled by the view sets
# (ScopedModelViewSet.territory_lookup) and by the models their forms choose from.
TERRITORY_LOOKUPS: dict[type[models.Model], str] = {}

# The actions each admin-managed model allows; the group's permissions follow it.
MANAGED_ACTIONS: dict[type[models.Model], tuple[str, ...]] = {}


def territory_lookup_register(model: type[models.Model], lookup: str) -> None:
    TERRITORY_LOOKUPS[model] = lookup


def user_is_admin_coordinator(user: Any) -> bool:
    """An active coordinator (or superuser): the people the market's admin is for."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_superuser or user.role == Role.COORDINATOR)
    )


def _territory_without_currency(user: Any) -> bool:
    territory = getattr(user, "territory", None)
    return territory is not None and not territory.local_currency_enabled


def territory_scope(
    queryset: QuerySet[Any], *, user: Any, lookup: str | None = None
) -> QuerySet[Any]:
    """``queryset`` narrowed to what ``user`` may see of it in the admin.

    Nothing for anyone but coordinators; a coordinator bound to a territory, only that
    territory's objects; superusers and unbound coordinators, everything.
    """
    if not user_is_admin_coordinator(user):
        return queryset.none()
    if lookup is None:
        lookup = TERRITORY_LOOKUPS.get(queryset.model)
    if lookup is None or user.is_superuser or user.territory_id is None:
        return queryset
    return queryset.filter(**{lookup or "pk": user.territory_id})


class CoordinatorPolicy(ModelPermissionPolicy):
    """The Django permission, for a coordinator, and only for the actions the view set offers.

    The local currency's views (``needs_local_currency``) are refused to a coordinator whose
    territory has none: their menu is then hidden, and their addresses refused, as Wagtail
    does for any view the policy denies.
    """

    def __init__(
        self,
        model: type[models.Model],
        *,
        actions: Iterable[str],
        needs_local_currency: bool = False,
    ) -> None:
        super().__init__(model)
        self.actions = frozenset(actions)
        self.needs_local_currency = needs_local_currency

    def user_has_permission(self, user: Any, action: str) -> bool:
        return (
            action in self.actions
            and user_is_admin_coordinator(user)
            and not (self.needs_local_currency and _territory_without_currency(user))
            and super().user_has_permission(user, action)
        )

    def user_has_any_permission(self, user: Any, actions: Iterable[str]) -> bool:
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_permission_for_instance(self, user: Any, action: str, instance: Any) -> bool:
        if not self.user_has_permission(user, action):
            return False
        scoped = territory_scope(type(instance)._default_manager.all(), user=user)
        return scoped.filter(pk=instance.pk).exists()


class DecimalTextInput(TextInput):
    """A decimal typed as text; a quantity shows without trailing zeros ("50", "1,5", not
    "50,000", which reads as fifty thousand), a price keeps its cents ("2,50")."""

    def __init__(self, *args: Any, places: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.places = places

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, Decimal) and value.is_finite() and (self.places or 0) > 2:
            text = format(value, "f")
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            value = Decimal(text)
        return super().format_value(value)


class ScopedFormMixin:
    """Every choice of a related object offers only the user's territory's objects, and
    every decimal (prices, quantities) is typed as people write it ("2,50" in French).

    A browser's ``type=number`` input refuses a decimal comma in some locales and loses what
    it cannot read; a text input with the decimal keypad (``inputmode``), read in the active
    language, takes "2,50" and "2.50" alike, and shows "2,50" back.
    """

    fields: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self, "for_user", None)
        for field in self.fields.values():
            if isinstance(field, ModelChoiceField) and field.queryset.model in TERRITORY_LOOKUPS:
                field.queryset = territory_scope(field.queryset, user=user)
                if (
                    field.queryset.model is Territory
                    and field.initial is None
                    and getattr(user, "territory_id", None)
                ):
                    field.initial = user.territory_id  # a coordinator's own, chosen already
            elif isinstance(field, DecimalField):
                field.localize = True
                attrs = {
                    key: value
                    for key, value in field.widget.attrs.items()
                    if key not in {"step", "min", "max"}
                }
                field.widget = DecimalTextInput(
                    attrs={**attrs, "inputmode": "decimal", "autocomplete": "off"},
                    places=field.decimal_places,
                )
                field.widget.is_localized = True
                field.widget.is_required = field.required
                field.to_python = _typed_decimal_reader(field)  # type: ignore[method-assign]


# No bound of the parser's own: the model field's digits and validators bound the value.
UNBOUNDED = Decimal(10) ** 30


def _typed_decimal_reader(field: DecimalField) -> Any:
    """``to_python`` for an admin decimal: the text read by the site's one number parser.

    Django's own reading (localized) refuses "1 234,56" or "1.234,56" with a bare "Saisissez
    un nombre."; the parser reads them as the farmers' and households' forms do, and refuses
    what it cannot read with the expected format. The field's own validators (digits, bounds)
    still run afterwards.
    """
    places = field.decimal_places if field.decimal_places is not None else 10
    kind = NumberKind(
        label=_("La valeur"),
        places=places,
        minimum=field.min_value if field.min_value is not None else -UNBOUNDED,
        maximum=field.max_value if field.max_value is not None else UNBOUNDED,
        example="3" if places == 0 else "2,50" if places == 2 else "1,5",
    )

    def to_python(value: Any) -> Decimal | None:
        if value in field.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        try:
            return parse_decimal(str(value), kind)
        except InvalidNumber as error:
            raise ValidationError(error.message, code="invalid") from error

    return to_python


class ScopedAdminModelForm(ScopedFormMixin, WagtailAdminModelForm):
    pass


class ScopedFilterSet(WagtailFilterSet):
    """A listing's filters offer only the user's territory's objects."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        for filter_ in self.filters.values():
            queryset = getattr(filter_, "queryset", None)
            if isinstance(queryset, QuerySet) and queryset.model in TERRITORY_LOOKUPS:
                filter_.queryset = territory_scope(queryset, user=user)


class ScopedListingMixin:
    """For an index view: the listing holds only the user's territory's objects."""

    territory_lookup: str | None = None
    list_select_related: tuple[str, ...] = ()
    list_prefetch_related: tuple[str, ...] = ()
    request: Any

    def get_base_queryset(self) -> QuerySet[Any]:
        queryset = super().get_base_queryset()  # type: ignore[misc]
        if self.list_select_related:
            queryset = queryset.select_related(*self.list_select_related)
        if self.list_prefetch_related:
            queryset = queryset.prefetch_related(*self.list_prefetch_related)
        return territory_scope(queryset, user=self.request.user, lookup=self.territory_lookup)


class ScopedObjectMixin:
    """For a view of one object: another territory's object is not found (404)."""

    territory_lookup: str | None = None
    request: Any
    model: Any

    def get_object(self, *args: Any, **kwargs: Any) -> Any:
        instance = super().get_object(*args, **kwargs)  # type: ignore[misc]
        if instance is None:  # the create view
            return instance
        visible = territory_scope(
            self.model._default_manager.filter(pk=instance.pk),
            user=self.request.user,
            lookup=self.territory_lookup,
        )
        if not visible.exists():
            raise Http404
        return instance


class InspectDisplayMixin:
    """For an inspect view: an empty value reads "—", a yes/no field "oui" or "non" (not
    "None", "True" or "False"), and a moment in the territory's time zone."""

    def get_field_display_value(self, field_name: str, field: Any) -> Any:
        value = super().get_field_display_value(field_name, field)  # type: ignore[misc]
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return _("oui") if value else _("non")
        if isinstance(value, datetime):
            return date_format(timezone.localtime(value), "DATETIME_FORMAT")
        return value


def _scoped(view_class: type, mixin: type) -> type:
    return type(f"Scoped{view_class.__name__}", (mixin, view_class), {})


class ScopedModelViewSet(ModelViewSet):
    """A Wagtail model view set for coordinators, narrowed to their territory.

    ``territory_lookup`` says how the model reaches its territory; ``actions`` which of
    add / change / delete / view coordinators get (``view`` alone: a read-only listing with
    an inspect view).
    """

    territory_lookup: ClassVar[str] = "territory"
    actions: ClassVar[tuple[str, ...]] = ("add", "change", "view")
    needs_local_currency: ClassVar[bool] = False  # refused where the territory has none
    list_select_related: ClassVar[tuple[str, ...]] = ()
    list_prefetch_related: ClassVar[tuple[str, ...]] = ()
    form_fields: ClassVar[list[str]] = []
    edit_form_fields: ClassVar[list[str] | None] = None
    form_base: ClassVar[type] = ScopedAdminModelForm
    inspect_view_enabled = True
    copy_view_enabled = False

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        territory_lookup_register(self.model, self.territory_lookup)
        MANAGED_ACTIONS[self.model] = tuple(self.actions)
        register_permission_policy(
            self.model,
            CoordinatorPolicy(
                self.model, actions=self.actions, needs_local_currency=self.needs_local_currency
            ),
            exact_class=True,
        )
        self.index_view_class = _scoped(self.index_view_class, ScopedListingMixin)
        for name_ in ("edit", "delete", "inspect", "history", "usage"):
            attribute = f"{name_}_view_class"
            setattr(self, attribute, _scoped(getattr(self, attribute), ScopedObjectMixin))
        self.inspect_view_class = _scoped(self.inspect_view_class, InspectDisplayMixin)

    @cached_property
    def url_namespace(self) -> str:
        """``admin_<name>``: the apps' own namespaces (``producers``, ``orders``...) stay theirs."""
        return f"admin_{self.name}"

    def get_common_view_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_common_view_kwargs(territory_lookup=self.territory_lookup, **kwargs)

    def get_index_view_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        if self.list_display is not self.UNDEFINED:
            kwargs.setdefault("list_display", [self._column(item) for item in self.list_display])
        return super().get_index_view_kwargs(
            list_select_related=self.list_select_related,
            list_prefetch_related=self.list_prefetch_related,
            base_filterset_class=ScopedFilterSet,
            **kwargs,
        )

    def _column(self, item: Any) -> Any:
        """A boolean field shows as Wagtail's tick or cross, not as "True"/"False"."""
        if not isinstance(item, str):
            return item
        try:
            field = self.model._meta.get_field(item)
        except FieldDoesNotExist:
            return item
        if isinstance(field, models.BooleanField):
            return BooleanColumn(item, label=capfirst(field.verbose_name), sort_key=item)
        return item

    def get_form_class(self, for_update: bool = False) -> type:
        from django.forms import modelform_factory

        fields = self.form_fields
        if for_update and self.edit_form_fields is not None:
            fields = self.edit_form_fields
        return modelform_factory(
            self.model,
            form=self.form_base,
            fields=fields,
            formfield_callback=self.formfield_for_dbfield,
        )

    def get_permissions_to_register(self) -> QuerySet[Permission]:
        content_type = ContentType.objects.get_for_model(self.model)
        codenames = [f"{action}_{self.model._meta.model_name}" for action in self.actions]
        return Permission.objects.filter(content_type=content_type, codename__in=codenames)


def _group_permissions() -> list[Permission]:
    permissions = [
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    ]
    for model, actions in MANAGED_ACTIONS.items():
        content_type = ContentType.objects.get_for_model(model)
        codenames = [f"{action}_{model._meta.model_name}" for action in actions]
        permissions.extend(
            Permission.objects.filter(content_type=content_type, codename__in=codenames)
        )
    return permissions


@transaction.atomic
def coordination_group_sync(*, members: Iterable[User] = ()) -> Group:
    """The ``Coordination`` group with exactly the admin's permissions, and ``members`` in it;
    then each ``marche_coordination_sync`` hook (the site's page groups).

    Every active coordinator not yet in the group joins it; a member who is no longer a
    coordinator leaves it.
    """
    hooks.search_for_hooks()  # imports the admin view sets, which fill MANAGED_ACTIONS
    group, _created = Group.objects.get_or_create(name=COORDINATION_GROUP)
    group.permissions.set(_group_permissions())
    coordinators = User.objects.filter(role=Role.COORDINATOR, is_active=True)
    group.user_set.add(*coordinators, *members)
    group.user_set.remove(*group.user_set.exclude(role=Role.COORDINATOR))
    # The apps' own groups (the site's pages per territory, in cms).
    for sync in hooks.get_hooks("marche_coordination_sync"):
        sync()
    return group
