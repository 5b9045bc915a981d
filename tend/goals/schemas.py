"""REST API shapes of goals, their alerts and their progress."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema

from tend.api.schemas import UNSET, InputSchema, Page, UtcDatetime
from tend.goals.models import Goal, goal_metrics

ComparatorIn = Literal["lte", "gte"]
PeriodIn = Literal["month", "quarter", "year"]
AlertKindIn = Literal["initial", "met", "missed"]

FILTERS_DOC = (
    "Customer slice, as the metrics endpoints take it: `plan` (ids), `channel`, `country` "
    "(two-letter codes), `tag` (names), each a list. Empty: all customers."
)


class AlertOut(Schema):
    id: int
    goal_id: int
    period: str = Field(..., description="`2026-03`, `2026-Q1` or `2026`.")
    period_start: date
    kind: str = Field(
        ...,
        description="`initial`: the period's first reading (not emailed); `met`/`missed`: "
        "a crossing, emailed to the owners.",
    )
    value: Decimal
    target: Decimal
    comparator: str
    met: bool
    final: bool = Field(..., description="The period had ended: its figures are final.")
    at: UtcDatetime
    notified_at: UtcDatetime | None


class AlertPage(Page):
    items: list[AlertOut]


class GoalOut(Schema):
    id: int
    name: str
    title: str = Field(..., description="The name, or the metric, comparator and target.")
    metric: str
    metric_label: str
    formula: str
    unit: str
    comparator: str
    target: Decimal
    period: str
    filters: dict[str, list[str]] = Field(..., description=FILTERS_DOC)
    note: str
    active: bool
    revision: int
    created_by: str | None = Field(..., description="Username.")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    last_alert: AlertOut | None = Field(..., description="The latest status change recorded.")

    @staticmethod
    def resolve_title(obj: Goal) -> str:
        return str(obj.title)

    @staticmethod
    def resolve_metric_label(obj: Goal) -> str:
        return str(obj.formula.label)

    @staticmethod
    def resolve_formula(obj: Goal) -> str:
        return str(obj.formula.formula)

    @staticmethod
    def resolve_created_by(obj: Goal) -> str | None:
        return obj.created_by.username if obj.created_by is not None else None

    @staticmethod
    def resolve_last_alert(obj: Goal) -> object:
        return getattr(obj, "last_alert", None)


class GoalPage(Page):
    items: list[GoalOut]


class GoalFilters(Schema):
    active: bool | None = Field(True, description="`true` (default), `false` for archived.")
    metric: str | None = None


class AlertFilters(Schema):
    goal: int | None = Field(None, description="Goal id.")
    kind: AlertKindIn | None = None
    since: UtcDatetime | None = Field(None, description="Recorded at or after this time.")


METRIC_DOC: dict[str, Any] = {"enum": list(goal_metrics())}


class GoalPatch(InputSchema):
    """Change only the fields sent. A new metric, comparator, target, period or filters
    starts a new revision: the next evaluation records a first reading, not an alert."""

    name: str = Field(UNSET, max_length=120)
    note: str = Field(UNSET)
    metric: str = Field(UNSET, json_schema_extra=METRIC_DOC)
    comparator: ComparatorIn | None = Field(
        UNSET, description="`lte` (≤) or `gte` (≥); null: ≥ when higher is better, else ≤."
    )
    target: Decimal = Field(UNSET, description="In the metric's unit; rates in percent (2 = 2%).")
    period: PeriodIn = Field(UNSET)
    filters: dict[str, list[str | int]] = Field(UNSET, description=FILTERS_DOC)
    active: bool = Field(UNSET, description="`false` archives, `true` restores.")


class GoalIn(InputSchema):
    """A new goal: a metric, a target and (optionally) comparator, period and customers."""

    metric: str = Field(..., json_schema_extra=METRIC_DOC, examples=["logo_churn"])
    target: Decimal = Field(
        ..., description="In the metric's unit; rates in percent (2 = 2%).", examples=["2"]
    )
    comparator: ComparatorIn | None = Field(
        None, description="`lte` (≤) or `gte` (≥); default: ≥ when higher is better, else ≤."
    )
    period: PeriodIn = "month"
    filters: dict[str, list[str | int]] = Field({}, description=FILTERS_DOC)
    name: str = Field("", max_length=120)
    note: str = ""


class ReadingOut(Schema):
    period: str
    start: date
    end: date
    to_date: bool = Field(..., description="The period has not ended: figures run to today.")
    value: Decimal | None = Field(..., description="null: undefined in this period.")
    met: bool | None
    progress: float = Field(..., description="0–100 towards the target (100 when met).")


class ProgressOut(Schema):
    goal_id: int
    previous: ReadingOut | None
    current: ReadingOut | None
    error: str = Field("", description="Why the goal cannot be read (e.g. a deleted tag).")
