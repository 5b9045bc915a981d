"""REST API shapes of segments, their members, history, live count and the field catalog."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from ninja import Field, Schema

from tend.api.schemas import UNSET, InputSchema, IsoDate, Money, Page, UtcDatetime
from tend.segments.models import Segment, SegmentMember

CONDITION_DOC = (
    'A condition tree as JSON: `{"all": [...]}`, `{"any": [...]}`, `{"not": C}` or a test '
    '`{"field": "mrr", "op": "gt", "value": 100}` (traits: `"field": "trait:seats", '
    '"type": "number"`). Fields and operators: `GET /segments/catalog`; the language: '
    "docs/conditions.md. An invalid condition is a 422 whose error field is "
    "`condition.<path>`, e.g. `condition.all[1].value`."
)


class ChangeOut(Schema):
    entered: int = Field(..., description="Customers who entered in the last 30 days (UTC).")
    left: int = Field(..., description="Customers who left in the last 30 days (UTC).")


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    condition: dict[str, Any] = Field(..., description=CONDITION_DOC)
    rule: str = Field(..., description="The condition as a sentence, in the caller's language.")
    member_count: int = Field(..., description="Members at the last refresh.")
    refreshed_at: UtcDatetime | None
    refreshed_on: date | None = Field(..., description="The day (UTC) of the last refresh.")
    refresh_error: str = Field(
        ..., description="Why the last refresh failed; empty when it worked."
    )
    change_30d: ChangeOut
    created_by: str | None = Field(..., description="Username.")
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @staticmethod
    def resolve_created_by(obj: Segment) -> str | None:
        return obj.created_by.username if obj.created_by is not None else None


class SegmentPage(Page):
    items: list[SegmentOut]


class SegmentIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    description: str = Field("", max_length=2000)
    condition: dict[str, Any] = Field(
        default_factory=lambda: {"all": []},
        description=CONDITION_DOC + " Default: every customer.",
    )


class SegmentPatch(InputSchema):
    name: str = Field(UNSET, min_length=1, max_length=120)
    description: str = Field(UNSET, max_length=2000)
    condition: dict[str, Any] = Field(UNSET, description=CONDITION_DOC)


class CountIn(InputSchema):
    condition: dict[str, Any] = Field(..., description=CONDITION_DOC)


class CountQuery(Schema):
    condition: str = Field(
        '{"all": []}', max_length=20_000, description="The condition as JSON text."
    )


class CountOut(Schema):
    count: int = Field(..., description="Customers matching the condition now.")
    rule: str = Field(..., description="The condition as a sentence.")
    condition: dict[str, Any] = Field(..., description="The condition as it would be stored.")


class MemberOut(Schema):
    customer_id: int
    name: str
    email: str
    stage: str
    mrr: Money
    since: date = Field(..., description="The day (UTC) the customer entered.")

    @staticmethod
    def resolve_name(obj: SegmentMember) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_email(obj: SegmentMember) -> str:
        return obj.customer.email

    @staticmethod
    def resolve_stage(obj: SegmentMember) -> str:
        return obj.customer.stage

    @staticmethod
    def resolve_mrr(obj: SegmentMember) -> dict[str, Any]:
        return {"amount": obj.customer.mrr, "currency": settings.TEND_CURRENCY}


class MemberPage(Page):
    items: list[MemberOut]


class HistoryQuery(Schema):
    since: IsoDate | None = Field(None, description="First day (UTC), inclusive.")
    until: IsoDate | None = Field(None, description="Last day (UTC), exclusive.")


class DayOut(Schema):
    day: date
    entered: int
    left: int
    members: int = Field(..., description="Members at the end of the day.")


class HistoryOut(Schema):
    segment_id: int
    days: list[DayOut] = Field(
        ..., description="Days with at least one move, oldest first (one net move per customer)."
    )


class OperatorOut(Schema):
    name: str
    label: str
    value: str = Field(
        ...,
        description="What the operator takes: none, number, number_range, text, list, day, "
        "day_range or days.",
    )


class ChoiceOut(Schema):
    value: int | str
    label: str


class FieldOut(Schema):
    name: str = Field(..., description="`trait:` stands for any `trait:KEY`.")
    label: str
    type: str
    type_label: str
    operators: list[OperatorOut] = []
    choices: list[ChoiceOut] | None = None
    description: str = ""
    types: dict[str, list[OperatorOut]] | None = Field(
        None, description="For `trait:`: the operators of each type a trait can be read as."
    )
