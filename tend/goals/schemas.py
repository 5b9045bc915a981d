"""REST API shapes of goals, their alerts and their progress."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, ModelWrapValidatorHandler, model_validator
from pydantic import Field as PydanticField
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from tend.api.schemas import (
    MAX_ID,
    UNSET,
    DecimalText,
    InputSchema,
    Page,
    QueryBool,
    QueryId,
    StrictBool,
    StrictInt,
    TagName,
    UtcDatetime,
)
from tend.customers.channels import CODE_PATTERN
from tend.goals.models import Goal, country_error, goal_metrics, target_error

ComparatorIn = Literal["lte", "gte"]
PeriodIn = Literal["month", "quarter", "year"]
AlertKindIn = Literal["initial", "met", "missed"]

FILTERS_DOC = (
    "Customer slice, as the metrics endpoints take it: `plan` (ids), `channel`, `country` "
    "(two-letter codes), `tag` (names), `segment` (one saved segment's id), each a list. "
    "Empty: all customers."
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
    active: QueryBool | None = Field(True, description="`true` (default), `false` for archived.")
    metric: str | None = Field(None, max_length=40)


class AlertFilters(Schema):
    goal: QueryId | None = Field(None, description="Goal id.")
    kind: AlertKindIn | None = None
    since: UtcDatetime | None = Field(None, description="Recorded at or after this time.")


METRIC_DOC: dict[str, Any] = {"enum": list(goal_metrics())}

# A target fits the column (``max_digits=16, decimal_places=4``); its metric's range (percent
# −100…1000, money 0…10^12 …) is checked by the server: a 422 with code ``range``.
TARGET_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,4})?$"
Target = Annotated[Decimal, DecimalText(TARGET_PATTERN, "2")]
TARGET_DOC = (
    'A decimal string in the metric\'s unit; rates in percent ("2" = 2%). It must lie in '
    "the metric's range (percent −100…1000, money and counts 0…10^12, months 0…1200, ratios "
    "0…1000, scores −100…100), else a 422 with code `range`."
)
PlanRef = (
    Annotated[StrictInt, PydanticField(ge=1, le=MAX_ID)]
    | Annotated[str, PydanticField(pattern=r"^[0-9]{1,18}$")]
)


def _iso_country(value: str) -> str:
    problem = country_error(value)
    if problem:
        # "unknown" when well formed ("QQ"): assigned to no country, which the schema's
        # pattern cannot say; anything else breaks the pattern too.
        well_formed = len(value) == 2 and value.isascii() and value.isupper()
        raise PydanticCustomError("unknown" if well_formed else "country", problem)
    return value


CountryCode = Annotated[
    str,
    PydanticField(min_length=2, max_length=2, json_schema_extra={"pattern": "^[A-Z]{2}$"}),
    AfterValidator(_iso_country),
]


def _with_target_range(data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
    """The schema's own checks and the target's range for its metric, reported together:
    a bad country and a target out of range in one request give both errors."""
    errors: list[InitErrorDetails] = []
    result: Any = None
    try:
        result = handler(data)
    except PydanticValidationError as exc:
        for e in exc.errors():
            message = str(e["msg"])
            errors.append(
                InitErrorDetails(
                    type=PydanticCustomError(e["type"], message),
                    loc=tuple(e["loc"]),
                    input=e.get("input"),
                )
            )
    if isinstance(data, dict) and not any(e["loc"][:1] == ("target",) for e in errors):
        metric, target = data.get("metric"), data.get("target")
        if metric in goal_metrics() and isinstance(target, str):
            try:
                number: Decimal | None = Decimal(target)
            except ArithmeticError:
                number = None
            problem = None
            if number is not None and number.is_finite():
                problem = target_error(metric, number)
            if problem is not None:
                message = problem.messages[0]
                errors.append(
                    InitErrorDetails(
                        type=PydanticCustomError("range", message), loc=("target",), input=target
                    )
                )
    if errors:
        raise PydanticValidationError.from_exception_data("GoalIn", errors)
    return result


class GoalFiltersIn(InputSchema):
    """Which customers a goal covers; a plan id, tag or segment that does not exist is a 422
    with code `unknown`."""

    plan: list[PlanRef] = Field([], description="Plan ids.")
    channel: list[Annotated[str, PydanticField(pattern=f"^{CODE_PATTERN}$")]] = Field(
        [],
        description="Acquisition channel codes: one of your channels, see GET /api/v1/channels "
        "(another code is a 422 with code `unknown`).",
    )
    country: list[CountryCode] = Field(
        [], description="ISO 3166-1 alpha-2 codes, in capitals (`DE`, not `de` or `Ge`)."
    )
    tag: list[TagName] = Field([], description="Tag names.")
    segment: list[PlanRef] = Field(
        [],
        max_length=1,
        description="A saved segment's id, as a list of at most one (`[7]`): the goal covers "
        "the segment's customers, picked by its condition at each reading (see "
        "`GET /api/v1/segments`).",
    )


class GoalPatch(InputSchema):
    """Change only the fields sent. A new metric, comparator, target, period or filters
    starts a new revision: the next evaluation records a first reading, not an alert."""

    name: str = Field(UNSET, max_length=120)
    note: str = Field(UNSET)
    metric: str = Field(UNSET, json_schema_extra=METRIC_DOC)
    comparator: ComparatorIn | None = Field(
        UNSET, description="`lte` (≤) or `gte` (≥); null: ≥ when higher is better, else ≤."
    )
    target: Target = Field(UNSET, description=TARGET_DOC)
    period: PeriodIn = Field(UNSET)
    filters: GoalFiltersIn = Field(UNSET, description=FILTERS_DOC)
    active: StrictBool = Field(UNSET, description="`false` archives, `true` restores.")

    @model_validator(mode="wrap")
    @classmethod
    def _all_errors(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        return _with_target_range(data, handler)


class GoalIn(InputSchema):
    """A new goal: a metric, a target and (optionally) comparator, period and customers."""

    metric: str = Field(..., json_schema_extra=METRIC_DOC, examples=["logo_churn"])
    target: Target = Field(..., description=TARGET_DOC)
    comparator: ComparatorIn | None = Field(
        None, description="`lte` (≤) or `gte` (≥); default: ≥ when higher is better, else ≤."
    )
    period: PeriodIn = "month"
    filters: GoalFiltersIn = Field(
        default_factory=lambda: GoalFiltersIn.model_validate({}), description=FILTERS_DOC
    )
    name: str = Field("", max_length=120)
    note: str = ""

    @model_validator(mode="wrap")
    @classmethod
    def _all_errors(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        return _with_target_range(data, handler)


class ReadingOut(Schema):
    period: str
    start: date
    end: date
    to_date: bool = Field(..., description="The period has not ended: figures run to today.")
    value: Decimal | None = Field(..., description="null: undefined in this period.")
    met: bool | None = Field(
        ..., description="The value (to date, while the period runs) meets the target."
    )
    progress: float = Field(
        ...,
        description="0–100 towards the target (100 when met); of the projection while the "
        "period runs.",
    )
    projected: Decimal | None = Field(
        ...,
        description="While the period runs: the value expected at its end, value at start + "
        "(value to date − value at start) × days in period ÷ days so far (flows and churn "
        "start at 0, CRR/GRR/NRR at 100, MRR/ARR/ARPA at their value when the period began; "
        "renewal rate and CAC as they stand). null for a period that has ended.",
    )
    on_track: bool | None = Field(
        ..., description="While the period runs: the projection meets the target."
    )
    status: Literal["met", "missed", "on_track", "off_track", "no_data"] = Field(
        ...,
        description="`met`/`missed` for a period that has ended; `on_track`/`off_track` (by "
        "the projection) while it runs; `no_data` without a value.",
    )


class ProgressOut(Schema):
    goal_id: int
    previous: ReadingOut | None
    current: ReadingOut | None
    error: str = Field("", description="Why the goal cannot be read (e.g. a deleted tag).")
