"""REST API shapes of segments, their members, history, live count and the field catalog."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, Union

from django.conf import settings
from ninja import Field, Schema

from tend.api.schemas import UNSET, InputSchema, IsoDate, Money, Page, UtcDatetime
from tend.segments.fields import OPERATORS
from tend.segments.models import Segment, SegmentMember

CONDITION_DOC = (
    'A condition tree as JSON: `{"all": [...]}`, `{"any": [...]}`, `{"not": C}` or a test '
    '`{"field": "mrr", "op": "gt", "value": 100}` (traits: `"field": "trait:seats", '
    '"type": "number"`). Fields and operators: `GET /segments/catalog`; the language: '
    "docs/conditions.md. An invalid condition is a 422 whose error field is "
    "`condition.<path>`, e.g. `condition.all[1].value`."
)


# The condition's shape, so the OpenAPI document says what a well-formed condition is. Whether
# a field exists and takes that operator and value is checked by the server (a 422 with code
# ``unknown`` for a field nobody registered, ``range`` for a field, operator and value that are
# valid alone but not together, or a plan or segment id that is not stored).
OperatorName = Literal[tuple(sorted({op for ops in OPERATORS.values() for op in ops}))]  # type: ignore[valid-type]


class ConditionTest(InputSchema):
    field: str = Field(
        ...,
        min_length=1,
        max_length=200,
        description="A field of `GET /segments/catalog`, or `trait:KEY`.",
    )
    type: Literal["number", "text", "bool", "date"] | None = Field(
        None, description="For `trait:KEY` fields only: how to read the trait."
    )
    op: OperatorName  # type: ignore[valid-type]
    value: Any = Field(None, description="What the operator takes (catalog: `value`).")


class ConditionAll(InputSchema):
    all: list[Condition] = Field(..., max_length=200, description="Every child holds.")


class ConditionAny(InputSchema):
    any: list[Condition] = Field(
        ..., min_length=1, max_length=200, description="At least one child holds."
    )


class ConditionNot(InputSchema):
    not_: Condition = Field(..., alias="not", description="The child does not hold.")


Condition = Union[ConditionAll, ConditionAny, ConditionNot, ConditionTest]  # noqa: UP007
for _model in (ConditionAll, ConditionAny, ConditionNot):
    _model.model_rebuild()


def condition_json(condition: Any) -> Any:
    """The parsed request condition back as plain JSON (the keys sent, nothing added)."""
    if hasattr(condition, "model_dump"):
        return condition.model_dump(by_alias=True, exclude_unset=True)
    return condition


class ChangeOut(Schema):
    entered: int = Field(..., description="Customers who entered in the last 30 days (UTC).")
    left: int = Field(..., description="Customers who left in the last 30 days (UTC).")


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    condition: dict[str, Any] = Field(..., description=CONDITION_DOC)
    rule: str | None = Field(
        ...,
        description="The condition as a sentence, in the caller's language. Null in lists "
        "(naming plans and segments costs a query per segment): read one segment for it.",
    )
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
    condition: Condition = Field(  # type: ignore[valid-type]
        default_factory=lambda: ConditionAll(all=[]),
        description=CONDITION_DOC + " Default: every customer.",
    )


class SegmentPatch(InputSchema):
    name: str = Field(UNSET, min_length=1, max_length=120)
    description: str = Field(UNSET, max_length=2000)
    condition: Condition = Field(UNSET, description=CONDITION_DOC)  # type: ignore[valid-type]


class CountIn(InputSchema):
    condition: Condition = Field(..., description=CONDITION_DOC)  # type: ignore[valid-type]


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
