"""The fields a condition can test (``tend.segments.conditions``), in one registry.

A field is either a path to a column (``lookup``, e.g. ``"mrr"`` or ``"health__score"``
through the one-to-one ``Customer.health``) or a computed value: an SQL ``expression(now)``
that the compiled query embeds (a correlated subquery or EXISTS, never a loop over customers)
together with ``value(customer, now)``, the same value computed in Python for one customer.

Apps add their own fields from ``AppConfig.ready()``::

    from tend.segments.fields import ConditionField, condition_fields
    condition_fields.register(ConditionField("rfm_recency", _("RFM recency"), "number",
                                             lookup="rfm__recency"))

Field types and their operators are listed in ``OPERATORS``; docs/conditions.md explains
each one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, Max, Min, OuterRef, Subquery
from django.db.models import fields as model_fields
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tend.lib.registry import Registry

if TYPE_CHECKING:
    from tend.customers.models import Customer

# Every field type and, in order, the operators it takes (the names are the JSON's "op").
OPERATORS: dict[str, tuple[str, ...]] = {
    "number": ("eq", "ne", "gt", "gte", "lt", "lte", "between", "is_empty", "is_not_empty"),
    "text": (
        "eq",
        "ne",
        "contains",
        "not_contains",
        "starts_with",
        "in",
        "is_empty",
        "is_not_empty",
    ),
    "choice": ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty"),
    "date": (
        "before",
        "on_or_after",
        "between",
        "within_last",
        "more_than_days_ago",
        "within_next",
        "is_empty",
        "is_not_empty",
    ),
    "tags": ("has", "has_any", "has_all", "has_none", "is_empty", "is_not_empty"),
    "bool": ("is_true", "is_false"),
}
FIELD_TYPES = tuple(OPERATORS)
# The types a trait (``trait:KEY``) may be read as.
TRAIT_TYPES = ("number", "text", "bool", "date")
TRAIT_PREFIX = "trait:"

Choices = Callable[[], Sequence[tuple[Any, str]]]


@dataclass(frozen=True)
class ConditionField:
    """One thing about a customer that a condition can test.

    - ``lookup``: ORM path from Customer ("mrr", "plan", "health__score"); a missing related
      row (no ``health``) reads as empty.
    - ``expression(now)`` + ``value(customer, now)``: a computed field, SQL and Python.
    - ``rows(now)``: optionally, the same computed value for all customers at once, as
      ``<QuerySet>.values("customer_id").annotate(value=Min(…))`` (customers without a row
      are empty). Conditions then test ``customer IN (… GROUP BY customer_id HAVING …)``: one
      pass over the table instead of a correlated subquery per customer.
    - ``choices()``: (value, label) pairs for the builder; with ``strict`` a condition naming
      a value outside them is refused; ``valid(value)`` checks a value without listing all.
      ``choice_kind`` is "str" or "int" (ids).
    - ``operators``: a subset of the type's operators when not all make sense.
    """

    name: str
    label: str | Promise
    type: str
    lookup: str = ""
    expression: Callable[[datetime], Any] | None = None
    rows: Callable[[datetime], Any] | None = None
    value: Callable[[Customer, datetime], Any] | None = None
    choices: Choices | None = None
    strict: bool = False
    valid: Callable[[Any], bool] | None = None
    choice_kind: str = "str"
    operators: tuple[str, ...] = ()
    description: str | Promise = ""
    # trait:KEY fields carry their key here (built by ``trait_field``, never registered).
    trait_key: str = ""
    # The "segment" field: its values are segment ids, each compiled from that segment's own
    # condition (read when the condition is parsed), so it has no lookup of its own.
    names_segments: bool = False

    def __post_init__(self) -> None:
        if self.type not in OPERATORS:
            raise ValueError(f"condition field {self.name}: unknown type {self.type!r}")
        if (
            not self.trait_key
            and not self.names_segments
            and bool(self.lookup) == bool(self.expression)
        ):
            raise ValueError(f"condition field {self.name}: give a lookup or an expression")
        if self.expression is not None and self.value is None:
            raise ValueError(f"condition field {self.name}: an expression needs a value()")
        bad = set(self.operators) - {*OPERATORS[self.type], "is_empty", "is_not_empty"}
        if bad:
            raise ValueError(f"condition field {self.name}: operators {bad} not of its type")
        from django.apps import apps

        if self.lookup and self.type != "tags" and apps.models_ready:
            self.model_field()  # refuses a path through a to-many relation

    @property
    def ops(self) -> tuple[str, ...]:
        return self.operators or OPERATORS[self.type]

    def model_field(self) -> model_fields.Field[Any, Any] | None:
        """The model field at the end of ``lookup`` (None for computed fields and traits)."""
        if not self.lookup:
            return None
        from tend.customers.models import Customer

        model: Any = Customer
        found: Any = None
        for part in self.lookup.split("__"):
            found = model._meta.get_field(part)
            if found.one_to_many or found.many_to_many:
                raise ValueError(
                    f"condition field {self.name}: {self.lookup} goes through a to-many "
                    "relation; give an expression (EXISTS / subquery) instead"
                )
            if found.is_relation and found.related_model is not None:
                model = found.related_model
        if found is not None and found.is_relation and (found.many_to_one or found.one_to_one):
            # "plan" / "owner": compare the id, as the JSON value does.
            return found.target_field  # type: ignore[no-any-return]
        return found  # type: ignore[no-any-return]


condition_fields: Registry[ConditionField] = Registry("condition field")


def trait_field(key: str, type_: str) -> ConditionField:
    """The field ``trait:KEY`` read as ``type_`` (a JSON value of another type is empty)."""
    return ConditionField(
        f"{TRAIT_PREFIX}{key}",
        key,
        type_,
        trait_key=key,
        operators=(OPERATORS["bool"] + ("is_empty", "is_not_empty") if type_ == "bool" else ()),
    )


# --- choices -------------------------------------------------------------------------------


def _stage_choices() -> list[tuple[str, str]]:
    from tend.customers.models import Stage

    return [(value, str(label)) for value, label in Stage.choices]


def _kind_choices() -> list[tuple[str, str]]:
    from tend.customers.models import Kind

    return [(value, str(label)) for value, label in Kind.choices]


def _plan_choices() -> list[tuple[int, str]]:
    from tend.billing.models import Plan

    return [(p.pk, str(p)) for p in Plan.objects.order_by("name", "pk")]


def _owner_choices() -> list[tuple[int, str]]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True).order_by("username")
    return [(u.pk, u.get_full_name() or u.get_username()) for u in users]


def _channel_choices() -> list[tuple[str, str]]:
    from tend.customers.channels import channel_choices

    return list(channel_choices(include_archived=True))


def _country_choices() -> list[tuple[str, str]]:
    from tend.customers.countries import country_choices

    return [(code, name) for code, name in country_choices() if code]


def _is_country(code: Any) -> bool:
    from tend.customers.countries import is_country_code

    return is_country_code(code)


def _segment_choices() -> list[tuple[int, str]]:
    from tend.segments.models import Segment

    return [(s.pk, s.name) for s in Segment.objects.order_by("name")]


def _colour_choices() -> list[tuple[str, str]]:
    return [
        ("red", str(pgettext_lazy("health colour", "Red"))),
        ("yellow", str(pgettext_lazy("health colour", "Yellow"))),
        ("green", str(pgettext_lazy("health colour", "Green"))),
    ]


# --- computed fields -----------------------------------------------------------------------

TOUCH_KINDS = ("note", "call", "email", "meeting")


def _renewals(now: datetime) -> Any:
    from tend.billing.models import MRR_STATUSES, Subscription

    return Subscription.objects.filter(status__in=MRR_STATUSES, current_period_end__gte=now)


def _next_renewal_sql(now: datetime) -> Any:
    rows = _renewals(now).filter(customer=OuterRef("pk")).order_by("current_period_end")
    return Subquery(
        rows.values("current_period_end")[:1], output_field=model_fields.DateTimeField()
    )


def _next_renewal_rows(now: datetime) -> Any:
    return _grouped(_renewals(now), Min("current_period_end"))


def _grouped(rows: Any, value: Any) -> Any:
    return rows.order_by().values("customer_id").annotate(value=value)


def _next_renewal(customer: Customer, now: datetime) -> Any:
    rows = _renewals(now).filter(customer=customer).order_by("current_period_end")
    return rows.values_list("current_period_end", flat=True).first()


def _active_subscriptions() -> Any:
    from tend.billing.models import MRR_STATUSES, Subscription

    return Subscription.objects.filter(status__in=MRR_STATUSES)


def _has_active_sql(now: datetime) -> Any:
    return Exists(_active_subscriptions().filter(customer=OuterRef("pk")))


def _has_active(customer: Customer, now: datetime) -> Any:
    return _active_subscriptions().filter(customer=customer).exists()


def _touches() -> Any:
    from tend.customers.models import TimelineEntry

    return TimelineEntry.objects.filter(kind__in=TOUCH_KINDS)


def _last_touch_sql(now: datetime) -> Any:
    rows = _touches().filter(customer=OuterRef("pk")).order_by("-at")
    return Subquery(rows.values("at")[:1], output_field=model_fields.DateTimeField())


def _last_touch_rows(now: datetime) -> Any:
    return _grouped(_touches(), Max("at"))


def _last_touch(customer: Customer, now: datetime) -> Any:
    return _touches().filter(customer=customer).order_by("-at").values_list("at", flat=True).first()


def _expansions() -> Any:
    from tend.billing.models import MovementKind, MrrMovement

    return MrrMovement.objects.filter(kind=MovementKind.EXPANSION)


def _last_expansion_sql(now: datetime) -> Any:
    rows = _expansions().filter(customer=OuterRef("pk")).order_by("-at")
    return Subquery(rows.values("at")[:1], output_field=model_fields.DateTimeField())


def _last_expansion_rows(now: datetime) -> Any:
    return _grouped(_expansions(), Max("at"))


def _last_expansion(customer: Customer, now: datetime) -> Any:
    rows = _expansions().filter(customer=customer).order_by("-at")
    return rows.values_list("at", flat=True).first()


BUILT_IN = (
    ConditionField("name", _("Name"), "text", lookup="name"),
    ConditionField("email", pgettext_lazy("email address", "Email"), "text", lookup="email"),
    ConditionField("industry", _("Industry"), "text", lookup="industry"),
    ConditionField("kind", _("Kind"), "choice", lookup="kind", choices=_kind_choices, strict=True),
    ConditionField(
        "stage",
        _("Lifecycle stage"),
        "choice",
        lookup="stage",
        choices=_stage_choices,
        strict=True,
    ),
    ConditionField(
        "plan", _("Plan"), "choice", lookup="plan", choices=_plan_choices, choice_kind="int"
    ),
    ConditionField(
        "owner",
        pgettext_lazy("person responsible for a customer", "Owner"),
        "choice",
        lookup="owner",
        choices=_owner_choices,
        choice_kind="int",
    ),
    ConditionField(
        "channel", _("Acquisition channel"), "choice", lookup="channel", choices=_channel_choices
    ),
    ConditionField(
        "country",
        _("Country"),
        "choice",
        lookup="country",
        choices=_country_choices,
        valid=_is_country,
    ),
    ConditionField("size", _("Employees"), "number", lookup="size"),
    ConditionField("mrr", _("MRR"), "number", lookup="mrr"),
    ConditionField("tags", _("Tags"), "tags", lookup="tags"),
    ConditionField("signed_up", _("Signed up"), "date", lookup="signed_up_at"),
    ConditionField("first_paid", _("First paid"), "date", lookup="first_paid_at"),
    ConditionField("last_seen", _("Last seen"), "date", lookup="last_seen_at"),
    ConditionField("churned", pgettext_lazy("date column", "Churned"), "date", lookup="churned_at"),
    ConditionField("birthday", _("Birthday"), "date", lookup="birthday"),
    ConditionField(
        "next_renewal",
        _("Next renewal"),
        "date",
        expression=_next_renewal_sql,
        rows=_next_renewal_rows,
        value=_next_renewal,
        description=_(
            "The earliest end of the current period, from now on, of a subscription that "
            "counts towards MRR (active or past due)."
        ),
    ),
    ConditionField(
        "has_active_subscription",
        _("Has an active subscription"),
        "bool",
        expression=_has_active_sql,
        value=_has_active,
        description=_("At least one subscription counts towards MRR (active or past due)."),
    ),
    ConditionField(
        "last_touch",
        _("Last touch"),
        "date",
        expression=_last_touch_sql,
        rows=_last_touch_rows,
        value=_last_touch,
        description=_("When the latest note, call, email or meeting on the timeline happened."),
    ),
    ConditionField(
        "last_expansion",
        _("Last expansion"),
        "date",
        expression=_last_expansion_sql,
        rows=_last_expansion_rows,
        value=_last_expansion,
        description=_("When the customer's MRR last grew (an expansion movement)."),
    ),
    ConditionField(
        "segment",
        _("Segment"),
        "choice",
        names_segments=True,
        choices=_segment_choices,
        choice_kind="int",
        operators=("eq", "ne", "in", "not_in"),
        description=_("Membership evaluated now from the segment's own condition."),
    ),
    # The latest health (tend.health keeps one CustomerHealth row per customer); a customer
    # not scored yet has no row and these read as empty.
    ConditionField("health_score", _("Health score"), "number", lookup="health__score"),
    ConditionField(
        "health_colour",
        _("Health colour"),
        "choice",
        lookup="health__colour",
        choices=_colour_choices,
        strict=True,
    ),
    ConditionField(
        "health_colour_since",
        _("Health colour since"),
        "date",
        lookup="health__colour_since",
    ),
)

for _field in BUILT_IN:
    condition_fields.register(_field)
