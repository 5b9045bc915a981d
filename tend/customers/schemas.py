"""REST API shapes of customers, contacts and notes.

References are written the way they are read: a plan by its ``code``, an owner by their
``username``, tags by name.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.conf import settings
from ninja import Field, Schema
from pydantic import AfterValidator, field_validator
from pydantic_core import PydanticCustomError

from tend.accounts.models import User
from tend.api.errors import UNKNOWN
from tend.api.schemas import (
    UNSET,
    Amount,
    Country,
    Email,
    Id,
    InputSchema,
    IsoDate,
    Money,
    Page,
    PlanCode,
    QueryId,
    StrictBool,
    StrictInt,
    TagName,
    Username,
    UtcDatetime,
    money,
)
from tend.billing.models import Plan
from tend.customers.channels import CODE_PATTERN, channel_choices
from tend.customers.countries import is_country_code
from tend.customers.models import Channel, Customer, Kind, Stage, TimelineEntry
from tend.customers.traits import MAX_KEY_LENGTH, MAX_KEYS, traits_problems

CustomerSort = Literal[
    "name",
    "-name",
    "mrr",
    "-mrr",
    "signed_up_at",
    "-signed_up_at",
    "last_seen_at",
    "-last_seen_at",
    "updated_at",
    "-updated_at",
    "created_at",
    "-created_at",
    "id",
    "-id",
]
NoteKind = Literal["note", "call", "email", "meeting"]


class CustomerOut(Schema):
    id: int
    external_id: str | None
    kind: str
    name: str
    email: str
    phone: str
    industry: str
    size: int | None
    country: str
    plan: str | None = Field(..., description="Plan code.")
    channel: str
    acquisition_cost: Money | None
    referred_by_id: int | None
    owner: str | None = Field(..., description="Username of the account owner.")
    tags: list[str]
    birthday: date | None
    traits: dict[str, Any]
    stage: str
    stage_changed_at: UtcDatetime
    signed_up_at: UtcDatetime
    first_paid_at: UtcDatetime | None
    churned_at: UtcDatetime | None
    last_seen_at: UtcDatetime | None
    mrr: Money
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @staticmethod
    def resolve_plan(obj: Customer) -> str | None:
        return obj.plan.code if obj.plan is not None else None

    @staticmethod
    def resolve_owner(obj: Customer) -> str | None:
        return obj.owner.username if obj.owner is not None else None

    @staticmethod
    def resolve_tags(obj: Customer) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    @staticmethod
    def resolve_mrr(obj: Customer) -> dict[str, Any] | None:
        return money(obj.mrr, settings.TEND_CURRENCY)

    @staticmethod
    def resolve_acquisition_cost(obj: Customer) -> dict[str, Any] | None:
        return money(obj.acquisition_cost, settings.TEND_CURRENCY)


class CustomerPage(Page):
    items: list[CustomerOut]


# The largest ``condition`` the customers list takes (UTF-8 bytes of the JSON) and how deep it
# may nest: what the condition language itself allows (8 levels) and room for the URL.
MAX_CONDITION_BYTES = 8192
MAX_CONDITION_DEPTH = 8


class CustomerFilters(Schema):
    q: str = Field(
        "",
        max_length=200,
        description="Part of the name or email, or the whole external id (as the web list's "
        "`?q=`). `search` is the same filter under its older name.",
    )
    search: str = Field("", max_length=200, description="The same as `q` (its older name).")
    stage: Stage | None = None
    plan: str | None = Field(None, max_length=60, description="Plan code.")
    owner: str | None = Field(
        None, max_length=150, description="Owner's username, or `none` for no owner."
    )
    tag: str | None = Field(None, max_length=50, description="Tag name.")
    segment: QueryId | None = Field(
        None,
        description="A saved segment's id (see `GET /api/v1/segments`): only its customers. "
        "Membership is evaluated live from the segment's condition, so a segment filters the "
        "moment it is saved. An id of no segment is a 422 with code `unknown`.",
    )
    condition: str | None = Field(
        None,
        max_length=MAX_CONDITION_BYTES,
        description="A condition of the condition language (the JSON a segment stores, "
        'e.g. `{"all": [{"field": "mrr", "op": "gt", "value": 100}]}`), URL-encoded, at most '
        f"{MAX_CONDITION_BYTES} bytes of UTF-8, {MAX_CONDITION_DEPTH} levels deep and 200 tests; "
        "it must hold together with every other filter. A bad condition is a 422 whose "
        "`field` is `condition` followed by the path of the part at fault "
        "(`condition.all[1].value`). Fields and operators: docs/conditions.md.",
    )
    updated_since: UtcDatetime | None = Field(None, description="Changed at or after this time.")
    external_id: str | None = Field(None, max_length=120)
    sort: CustomerSort = Field("name", description="Column; a leading `-` sorts descending.")

    @property
    def text(self) -> str:
        """The search text, from ``q`` or ``search``."""
        return self.q or self.search


# The largest count a PositiveIntegerField holds on every database.
MAX_SIZE = 2_147_483_647


# Checks that read stored data run inside the schema, so that one answer names every bad
# field: a bad email (format) and an unknown country or plan (data) are reported together.
def _unknown(message: str, **params: Any) -> PydanticCustomError:
    return PydanticCustomError(UNKNOWN, message, params)


def _known_country(code: str) -> str:
    if code and not is_country_code(code):
        raise _unknown("“{value}” is not an ISO 3166-1 alpha-2 country code.", value=code)
    return code


def _known_channel(code: str) -> str:
    if code and code not in Channel.values:
        codes = [c for c, _label in channel_choices(include_archived=True)]
        if code not in codes:
            raise _unknown(
                "“{value}” is not one of your acquisition channels ({allowed}).",
                value=code,
                allowed=", ".join(codes),
            )
    return code


def _known_plan(code: str | None) -> str | None:
    if code is not None and not Plan.objects.filter(code=code).exists():
        raise _unknown("No plan with code “{value}”.", value=code)
    return code


def _known_owner(username: str | None) -> str | None:
    if username is not None and not User.objects.filter(username=username, is_active=True).exists():
        raise _unknown("No active user with username “{value}”.", value=username)
    return username


def _known_customer(pk: int | None) -> int | None:
    if pk is not None and not Customer.objects.filter(pk=pk).exists():
        raise _unknown("No customer with id {value}.", value=pk)
    return pk


def _traits_fit(traits: dict[str, Any]) -> dict[str, Any]:
    problems = traits_problems(traits, flat=False)
    if problems:
        raise PydanticCustomError("too_large", " ".join(problems))
    return traits


CustomerCountry = Annotated[Country, AfterValidator(_known_country)]
ChannelCode = Annotated[
    str,
    Field(
        pattern=f"^({CODE_PATTERN})?$",
        description="One of your acquisition channels (see GET /api/v1/channels), or empty. "
        "Another code is a 422 with code `unknown` listing the allowed ones.",
    ),
    AfterValidator(_known_channel),
]
KnownPlan = Annotated[PlanCode, AfterValidator(_known_plan)]
KnownOwner = Annotated[Username, AfterValidator(_known_owner)]
KnownCustomer = Annotated[Id, AfterValidator(_known_customer)]
# Key lengths are checked by _traits_fit, so that the error names ``traits``, not the key.
Traits = Annotated[
    dict[str, Any],
    Field(
        max_length=MAX_KEYS,
        json_schema_extra={"propertyNames": {"minLength": 1, "maxLength": MAX_KEY_LENGTH}},
        description=(
            f"Free-form facts. At most {MAX_KEYS} keys of at most {MAX_KEY_LENGTH} characters, "
            "64 KB as JSON."
        ),
    ),
    AfterValidator(_traits_fit),
]


class CustomerPatch(InputSchema):
    """Change only the fields sent. ``tags`` replaces the whole set; ``stage`` moves the stage.

    Read-only fields (``mrr``, ``first_paid_at``, ``churned_at``, ``last_seen_at``, ``id``,
    ``created_at``, ``updated_at``, ``stage_changed_at``) are billing's or the server's: sending
    one is a 422 like any field the schema does not take.
    """

    name: str = Field(UNSET, min_length=1, max_length=200)
    kind: Kind = Field(UNSET)
    external_id: str | None = Field(UNSET, max_length=120)
    email: Email = Field(UNSET)
    phone: str = Field(UNSET, max_length=40)
    industry: str = Field(UNSET, max_length=80)
    size: Annotated[StrictInt, Field(ge=0, le=MAX_SIZE)] | None = Field(
        UNSET, description="Employees."
    )
    country: CustomerCountry = Field(UNSET)
    plan: KnownPlan | None = Field(UNSET)
    channel: ChannelCode = Field(UNSET)
    acquisition_cost: Amount | None = Field(UNSET, description="In the reporting currency.")
    referred_by_id: KnownCustomer | None = Field(UNSET, description="The referring customer's id.")
    owner: KnownOwner | None = Field(UNSET)
    birthday: IsoDate | None = Field(UNSET)
    traits: Traits = Field(UNSET)
    signed_up_at: UtcDatetime = Field(UNSET)
    tags: list[TagName] = Field(UNSET, description="Tag names; replaces the whole set.")
    stage: Stage = Field(UNSET)


class CustomerIn(CustomerPatch):
    """A new customer; only ``name`` is required."""

    name: str = Field(..., min_length=1, max_length=200)


class StageIn(InputSchema):
    stage: Stage
    reason: str = Field("", max_length=200)


class NoteIn(InputSchema):
    body: str = Field(..., min_length=1, pattern=r"\S")
    kind: NoteKind = "note"
    at: UtcDatetime | None = Field(UNSET, description="When it happened; defaults to now.")

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a note cannot be empty")
        return value.strip()


class NoteOut(Schema):
    id: int
    customer_id: int
    kind: str
    at: UtcDatetime
    body: str
    author: str | None = Field(..., description="Username of the writer.")

    @staticmethod
    def resolve_author(obj: TimelineEntry) -> str | None:
        return obj.author.username if obj.author is not None else None


class ContactOut(Schema):
    id: int
    customer_id: int
    external_id: str | None
    name: str
    email: str
    phone: str
    title: str
    is_primary: bool
    traits: dict[str, Any]
    created_at: UtcDatetime
    marketing_consent: str = Field(
        ..., description="unknown (not asked), granted or withdrawn (tend.customers.consent)."
    )
    consent_changed_at: UtcDatetime | None
    consent_source: str = Field(..., description="Where the last change came from.")


class ContactPage(Page):
    items: list[ContactOut]


class ContactPatch(InputSchema):
    name: str = Field(UNSET, min_length=1, max_length=200)
    external_id: str | None = Field(UNSET, max_length=120)
    email: Email = Field(UNSET)
    phone: str = Field(UNSET, max_length=40)
    title: str = Field(UNSET, max_length=120)
    is_primary: StrictBool = Field(
        UNSET, description="Making a contact primary unmarks the previous."
    )
    traits: Traits = Field(UNSET)
    marketing_consent: Literal["unknown", "granted", "withdrawn"] = Field(
        UNSET,
        description="Marketing-email consent; withdrawn stops every outreach email to the "
        "address. Recorded with its source (api), time and an audit row.",
    )


class ContactIn(ContactPatch):
    name: str = Field(..., min_length=1, max_length=200)


# --- acquisition channels (the founder's own list) -------------------------------------------


class AcquisitionChannelOut(Schema):
    code: str
    name: str = Field(..., description="The founder's name; empty for a built-in channel.")
    label: str = Field(..., description="What pages show: the name, else the built-in label.")
    position: int = Field(..., description="Place in the list, 1 first.")
    archived_at: UtcDatetime | None = Field(
        ..., description="Set when archived: not offered for new choices, still shown."
    )
    customers: int = Field(..., description="Customers who came through this channel.")

    @staticmethod
    def resolve_customers(obj: Any) -> int:
        return int(getattr(obj, "customer_count", 0) or 0)


class AcquisitionChannelPage(Page):
    items: list[AcquisitionChannelOut]


class AcquisitionChannelIn(InputSchema):
    """A new channel. Without ``code`` one is made from the name (``"Trade fairs"`` →
    ``trade_fairs``); a code already taken is a 409."""

    name: str = Field(..., min_length=1, max_length=80)
    code: str = Field(UNSET, pattern=f"^{CODE_PATTERN}$", description="1–20 of a-z, 0-9, _ and -.")


class AcquisitionChannelPatch(InputSchema):
    """Change only the fields sent: ``name`` renames (empty: a built-in channel's own label),
    ``position`` moves it (1 = first), ``archived`` archives (`true`) or restores (`false`)."""

    name: str = Field(UNSET, max_length=80)
    position: Annotated[StrictInt, Field(ge=1, le=10_000)] = Field(UNSET)
    archived: StrictBool = Field(UNSET)
