"""REST endpoints for health: a customer's current health and history, scorecards (read by
every key; written only with an owner's key or session), and recompute (owners).

Errors have the API's one shape; a scorecard that cannot be saved is a 422 naming the field
("measures[1].thresholds[0].points"), and nothing is written.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.api.auth import Principal
from tend.api.errors import FieldError
from tend.api.schemas import (
    ERRORS,
    ERRORS_404,
    MAX_ID,
    InputSchema,
    IsoDate,
    Page,
    PageParams,
    PathId,
    paginate,
)
from tend.health.engine import FORMULA, day_problem, health_compute, today_utc
from tend.health.models import CustomerHealth, HealthScore, Scorecard
from tend.health.panel import COMPARE_DAYS, lines_explained
from tend.health.scorecards import (
    ScorecardError,
    scorecard_as_dict,
    scorecard_delete,
    scorecard_save,
)
from tend.lib.access import require_manage

router = Router(tags=["health"])


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def _owner(request: HttpRequest) -> Any:
    return require_manage(_principal(request).user)


class MeasureLineOut(Schema):
    measure: str
    label: str
    params: dict[str, Any]
    weight: float
    raw: float | None = Field(..., description="The measure's value; null = no data.")
    points: float | None = Field(..., description="0–100; null = no data, left out.")
    text: str = Field(..., description="The value in plain words.")


class HealthOut(Schema):
    customer_id: int
    day: date | None = Field(..., description="The day scored (UTC); null = never scored.")
    score: int | None = Field(..., description="0–100; null when no measure had data.")
    colour: str = Field(..., description="`red`, `yellow`, `green`, or empty (no score).")
    colour_since: date | None
    scorecard: str
    formula: str
    measures: list[MeasureLineOut]


class HistoryItem(Schema):
    day: date
    score: int | None
    colour: str
    colour_since: date | None
    scorecard: str


class HistoryPage(Page):
    items: list[HistoryItem]


class HistoryFilters(Schema):
    since: IsoDate | None = Field(None, description="First day (inclusive), YYYY-MM-DD.")
    until: IsoDate | None = Field(None, description="Last day (inclusive), YYYY-MM-DD.")


Threshold = Annotated[
    list[Annotated[float, Field(ge=-1e12, le=1e12, allow_inf_nan=False)]],
    Field(min_length=2, max_length=2, description="`[value, points]`; points 0–100."),
]


class MeasureLineIn(InputSchema):
    measure: str = Field(
        ..., min_length=1, max_length=60, description="A registered measure's name."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="The measure's parameters (e.g. `days`, `events`)."
    )
    weight: float = Field(..., ge=0, le=1000, allow_inf_nan=False)
    mapping: Literal["thresholds", "percentile"] = "thresholds"
    direction: Literal["higher", "lower"] | None = None
    thresholds: list[Threshold] = Field(
        default_factory=list,
        max_length=20,
        description="`[value, points]` pairs, values going up (mapping `thresholds`).",
    )


class ScorecardIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120, pattern=r"\S")
    position: int = Field(0, ge=0, le=10_000)
    condition: dict[str, Any] | None = Field(
        None, description="A condition in the shared condition language (not for the default)."
    )
    segment: int | None = Field(
        None, ge=1, le=MAX_ID, description="A saved segment's id (not for the default)."
    )
    red_below: int = Field(..., ge=0, le=100)
    green_from: int = Field(..., ge=0, le=100)
    measures: list[MeasureLineIn] = Field(..., min_length=1, max_length=20)


class ScorecardLineOut(Schema):
    measure: str
    params: dict[str, Any]
    weight: float
    mapping: str
    direction: str
    thresholds: list[list[float]]


class ScorecardOut(Schema):
    id: int
    name: str
    position: int
    is_default: bool
    condition: Any | None
    segment: int | None
    red_below: int
    green_from: int
    measures: list[ScorecardLineOut]


class ScorecardPage(Page):
    items: list[ScorecardOut]


class RecomputeIn(InputSchema):
    day: IsoDate | None = Field(
        None, description="The day to score (default: today, UTC); 2000-01-01 to tomorrow."
    )


class RecomputeOut(Schema):
    day: date
    scored: int
    changed: int


def _customer_exists(pk: int) -> None:
    from tend.customers.models import Customer

    if not Customer.objects.filter(pk=pk).exists():
        raise Http404(f"Customer {pk} not found.")


@router.get("/health/customers/{customer_id}", response={200: HealthOut, **ERRORS_404})
def health_retrieve(request: HttpRequest, customer_id: PathId) -> dict[str, Any]:
    """A customer's latest health: score, colour, since when, and each measure in words."""
    _customer_exists(customer_id)
    health = CustomerHealth.objects.filter(customer_id=customer_id).first()
    out: dict[str, Any] = {
        "customer_id": customer_id,
        "day": None,
        "score": None,
        "colour": "",
        "colour_since": None,
        "scorecard": "",
        "formula": FORMULA,
        "measures": [],
    }
    if health is None:
        return out
    rows = {
        row.day: row
        for row in HealthScore.objects.filter(
            customer_id=customer_id,
            day__in=[health.day, date.fromordinal(health.day.toordinal() - COMPARE_DAYS)],
        )
    }
    latest = rows.get(health.day)
    out.update(
        day=health.day, score=health.score, colour=health.colour, colour_since=health.colour_since
    )
    if latest is not None:
        earlier = rows.get(date.fromordinal(health.day.toordinal() - COMPARE_DAYS))
        out["scorecard"] = latest.scorecard
        lines = latest.details.get("lines", []) if isinstance(latest.details, dict) else []
        out["measures"] = [
            {
                "measure": entry.get("measure", ""),
                "label": text["label"],
                "params": entry.get("params") or {},
                "weight": entry.get("weight") or 0,
                "raw": entry.get("raw"),
                "points": entry.get("points"),
                "text": text["text"],
            }
            for entry, text in zip(lines, _texts_in_order(latest, earlier), strict=True)
        ]
    return out


def _texts_in_order(latest: HealthScore, earlier: HealthScore | None) -> list[dict[str, Any]]:
    """The plain-word lines in the order the measures are stored (one per line)."""
    out = []
    for entry in latest.details.get("lines", []):
        one = {"lines": [entry]}
        out += lines_explained(one, latest.score, earlier.details if earlier else None)
    return out


@router.get("/health/customers/{customer_id}/history", response={200: HistoryPage, **ERRORS_404})
def health_history_list(
    request: HttpRequest,
    customer_id: PathId,
    filters: Query[HistoryFilters],
    paging: Query[PageParams],
) -> dict[str, Any]:
    """A customer's daily scores, newest first."""
    _customer_exists(customer_id)
    qs: QuerySet[HealthScore] = HealthScore.objects.filter(customer_id=customer_id)
    if filters.since:
        qs = qs.filter(day__gte=filters.since)
    if filters.until:
        qs = qs.filter(day__lte=filters.until)
    return paginate(qs.order_by("-day").defer("details"), paging)


def _card(pk: int) -> Scorecard:
    card = Scorecard.objects.prefetch_related("measures").filter(pk=pk).first()
    if card is None:
        raise Http404(f"Scorecard {pk} not found.")
    return card


def _save(
    request: HttpRequest, payload: ScorecardIn, instance: Scorecard | None, by: Any
) -> Scorecard:
    try:
        card = scorecard_save(
            payload.model_dump(), instance=instance, by=by, label=_principal(request).label
        )
    except ScorecardError as exc:
        status = 409 if exc.code == "taken" else 422
        raise FieldError(_api_field(exc.field), exc.message, status, exc.code) from None
    return _card(card.pk)


def _api_field(field: str) -> str:
    """The API's spelling of a field path: ``measures.1.thresholds.0.points``."""
    return field.replace("[", ".").replace("]", "")


@router.get("/health/scorecards", response={200: ScorecardPage, **ERRORS})
def scorecard_list(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    """Scorecards in the order they are tried (by position; the default last)."""
    qs = Scorecard.objects.prefetch_related("measures").order_by("is_default", "position", "id")
    page = paginate(qs, paging)
    page["items"] = [scorecard_as_dict(card) for card in page["items"]]
    return page


@router.get("/health/scorecards/{scorecard_id}", response={200: ScorecardOut, **ERRORS_404})
def scorecard_retrieve(request: HttpRequest, scorecard_id: PathId) -> dict[str, Any]:
    """One scorecard with its measures."""
    return scorecard_as_dict(_card(scorecard_id))


@router.post("/health/scorecards", response={201: ScorecardOut, **ERRORS})
def scorecard_create_endpoint(request: HttpRequest, payload: ScorecardIn) -> Status[dict[str, Any]]:
    """Create a scorecard for a segment or condition (owners only)."""
    by = _owner(request)
    return Status(201, scorecard_as_dict(_save(request, payload, None, by)))


@router.put("/health/scorecards/{scorecard_id}", response={200: ScorecardOut, **ERRORS_404})
def scorecard_replace_endpoint(
    request: HttpRequest, scorecard_id: PathId, payload: ScorecardIn
) -> dict[str, Any]:
    """Replace a scorecard and all its measures (owners only)."""
    by = _owner(request)
    return scorecard_as_dict(_save(request, payload, _card(scorecard_id), by))


@router.delete("/health/scorecards/{scorecard_id}", response={204: None, **ERRORS_404})
def scorecard_delete_endpoint(request: HttpRequest, scorecard_id: PathId) -> Status[None]:
    """Delete a scorecard (owners only); the default one cannot be deleted (422)."""
    by = _owner(request)
    try:
        scorecard_delete(_card(scorecard_id), by=by, label=_principal(request).label)
    except ScorecardError as exc:
        raise FieldError(exc.field, exc.message, 422, exc.code) from None
    return Status(204, None)


@router.post("/health/recompute", response={200: RecomputeOut, **ERRORS})
def health_recompute_endpoint(request: HttpRequest, payload: RecomputeIn) -> dict[str, Any]:
    """Score every customer for a day now (owners only)."""
    _owner(request)
    day = payload.day or today_utc()
    problem = day_problem(day)
    if problem:
        raise FieldError("day", problem, 422, "range")
    counts = health_compute(day)
    return {"day": day, "scored": counts["scored"], "changed": counts["changed"]}
