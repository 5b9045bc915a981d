"""REST endpoints for churn risk: the active model and its backtest, the training history, the
day's scores, one customer's risk with trend and drivers, and "train now" (owners).

Texts meant for people (drivers, the verdict, the not-enough-data message) are in the
language of the key's user (Settings → Language), else the request's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils import translation
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.api.auth import Principal
from tend.api.schemas import (
    ERRORS,
    ERRORS_404,
    ErrorOut,
    IsoDate,
    Page,
    PageParams,
    PathId,
    paginate,
)
from tend.lib.access import require_manage
from tend.predict import churn_display as display
from tend.predict.models import ChurnModel, ChurnScore, TrainingStatus

router = Router(tags=["predict"])

TREND_DAYS = 90
RISK_FORMULA = (
    "risk = the model's calibrated probability of churning within horizon_days after `day`, "
    "from data before `day`; percentile = share of customers scored that day with a lower risk"
)


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


@contextmanager
def _user_language(request: HttpRequest) -> Iterator[None]:
    user = _principal(request).user
    codes = {code for code, _name in settings.LANGUAGES}
    language = getattr(user, "language", "") or ""
    with translation.override(language if language in codes else translation.get_language()):
        yield


class MetricOut(Schema):
    key: str = Field(..., description="`auc`, `lift_top_decile` or `brier`.")
    label: str
    formula: str
    model: float | None
    baseline: float | None = Field(..., description="Days since last activity, ranked.")
    better: bool | None = Field(..., description="Whether the model beats the baseline.")
    reading: str


class ChurnRunOut(Schema):
    version: int
    mode: str = Field(..., description="`history` (time-based backtest) or `traits` (5-fold CV).")
    status: str = Field(..., description="`trained`, `not_enough_data` or `failed`.")
    message: str = Field(..., description="Why the run did not train, in the reader's language.")
    kind: str = Field(..., description="`logistic`, `boosting`, or empty.")
    is_active: bool
    horizon_days: int
    train_start: date | None
    train_end: date | None
    test_start: date | None
    test_end: date | None
    rows: int
    positives: int = Field(..., description="Rows followed by a churn.")
    customers: int
    auc: float | None
    baseline_auc: float | None
    trained_at: Any = Field(..., description="ISO 8601, UTC.")
    trained_by: str
    seconds: float


class ChurnModelDetailOut(ChurnRunOut):
    features: list[str]
    params: dict[str, Any]
    metrics: dict[str, Any] = Field(
        ...,
        description="Per kind (logistic, boosting, baseline): auc, lift_top_decile, brier, "
        "reliability, lift.",
    )
    importances: list[dict[str, Any]]


class ChurnModelStatusOut(Schema):
    status: str = Field(
        ...,
        description="`active` (a model scores customers), `not_enough_data`, `failed` or "
        "`none` (never trained): the latest run's outcome when no model is active.",
    )
    message: str = Field(..., description="The not-enough-data or failure message, or empty.")
    model: ChurnModelDetailOut | None
    summary: list[MetricOut]
    verdict: str = Field(..., description="Whether the model earns its place, in words.")
    earns_its_place: bool | None
    latest_run: ChurnRunOut | None


class RunPage(Page):
    items: list[ChurnRunOut]


class ScoreOut(Schema):
    customer_id: int
    customer_name: str
    day: date
    risk: float = Field(..., description="0–1.")
    percentile: float = Field(..., description="0–1: share scored that day with a lower risk.")
    top: str = Field(..., description="The rank in words (“top 5%”).")
    model_version: int


class ScorePage(Page):
    day: date | None = Field(..., description="The day listed (default: the latest scored).")
    items: list[ScoreOut]


class ScoreFilters(Schema):
    day: IsoDate | None = Field(None, description="YYYY-MM-DD; default the latest scored day.")
    min_risk: float | None = Field(
        None, ge=0, le=1, allow_inf_nan=False, description="Only risks ≥ this (0–1)."
    )


class TrendPoint(Schema):
    day: date
    risk: float


class DriverOut(Schema):
    feature: str
    label: str
    text: str = Field(..., description="In plain words, in the key's user's language.")
    effect: float = Field(..., description="> 0 raises the risk, < 0 lowers it.")
    direction: str = Field(..., description="`up` or `down`.")


class CustomerChurnOut(Schema):
    customer_id: int
    scored: bool
    day: date | None
    risk: float | None
    percentile: float | None
    top: str
    model_version: int | None
    model_trained_at: Any | None
    change: float | None = Field(..., description=f"Risk now − risk {TREND_DAYS} days ago.")
    trend: list[TrendPoint] = Field(..., description=f"Daily risk, last {TREND_DAYS} days.")
    drivers: list[DriverOut]
    formula: str


class TrainOut(Schema):
    status: str = Field(..., description="`queued` (the worker trains) or `done` (trained).")
    task_id: str


def _run(m: ChurnModel) -> dict[str, Any]:
    ours, base = display.chosen_metrics(m)
    return {
        "version": m.version,
        "mode": m.mode,
        "status": m.status,
        "message": display.model_message(m),
        "kind": m.kind,
        "is_active": m.is_active,
        "horizon_days": m.horizon_days,
        "train_start": m.train_start,
        "train_end": m.train_end,
        "test_start": m.test_start,
        "test_end": m.test_end,
        "rows": m.rows,
        "positives": m.positives,
        "customers": m.customers,
        "auc": display._num(ours.get("auc")),
        "baseline_auc": display._num(base.get("auc")),
        "trained_at": m.trained_at,
        "trained_by": m.trained_by,
        "seconds": m.seconds,
    }


@router.get("/predict/churn/model", response={200: ChurnModelStatusOut, **ERRORS})
def churn_model_retrieve(request: HttpRequest) -> dict[str, Any]:
    """The active churn model with its backtest next to the baseline, or why there is none
    (e.g. "Not enough data to train: 12 churned, need 20.")."""
    with _user_language(request):
        active = ChurnModel.objects.defer("artifact").active()
        latest = ChurnModel.objects.defer("artifact").order_by("-version").first()
        out: dict[str, Any] = {
            "status": "none",
            "message": "",
            "model": None,
            "summary": [],
            "verdict": "",
            "earns_its_place": None,
            "latest_run": _run(latest) if latest else None,
        }
        if latest is not None and latest.status != TrainingStatus.TRAINED:
            out["message"] = (
                display.not_enough_data_text(latest)
                if latest.status == TrainingStatus.NOT_ENOUGH_DATA
                else display.model_message(latest)
            )
            out["status"] = latest.status
        if active is not None:
            verdict = display.verdict(active)
            out.update(
                status="active",
                model={
                    **_run(active),
                    "features": active.features if isinstance(active.features, list) else [],
                    "params": active.params if isinstance(active.params, dict) else {},
                    "metrics": active.metrics if isinstance(active.metrics, dict) else {},
                    "importances": active.importances
                    if isinstance(active.importances, list)
                    else [],
                },
                summary=[
                    {k: str(v) if k in {"label", "formula"} else v for k, v in row.items()}
                    for row in display.metric_rows(active)
                ],
                verdict=verdict["text"],
                earns_its_place=verdict["earns"] is True or verdict["earns"] == "marginal"
                if verdict["earns"] is not None
                else None,
            )
        return out


@router.get("/predict/churn/models", response={200: RunPage, **ERRORS})
def churn_model_list(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    """Every training run, newest first (trained, not enough data, failed)."""
    with _user_language(request):
        page = paginate(ChurnModel.objects.defer("artifact").order_by("-version"), paging)
        page["items"] = [_run(m) for m in page["items"]]
        return page


@router.get("/predict/churn/scores", response={200: ScorePage, **ERRORS})
def churn_score_list(
    request: HttpRequest, filters: Query[ScoreFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """One day's churn scores, riskiest first (drivers: ``/customers/{id}/churn``)."""
    day = filters.day or display.latest_score_day()
    qs = ChurnScore.objects.filter(day=day) if day else ChurnScore.objects.none()
    if filters.min_risk is not None:
        qs = qs.filter(risk__gte=filters.min_risk)
    qs = (
        qs.select_related("customer", "model")
        .only("customer_id", "customer__name", "day", "risk", "percentile", "model__version")
        .order_by("-risk", "customer_id")
    )
    with _user_language(request):
        page = paginate(qs, paging)
        page["day"] = day
        page["items"] = [
            {
                "customer_id": s.customer_id,
                "customer_name": s.customer.name,
                "day": s.day,
                "risk": round(s.risk, 4),
                "percentile": round(s.percentile, 4),
                "top": display.top_text(s.percentile),
                "model_version": s.model.version,
            }
            for s in page["items"]
        ]
        return page


@router.get("/customers/{customer_id}/churn", response={200: CustomerChurnOut, **ERRORS_404})
def customer_churn_retrieve(request: HttpRequest, customer_id: PathId) -> dict[str, Any]:
    """A customer's churn risk now, its 90-day trend and the drivers in plain words."""
    from tend.customers.models import Customer

    if not Customer.objects.filter(pk=customer_id).exists():
        raise Http404(f"Customer {customer_id} not found.")
    history = list(
        ChurnScore.objects.filter(customer_id=customer_id)
        .select_related("model")
        .defer("model__artifact", "model__metrics", "model__importances", "model__preprocessing")
        .order_by("-day")[:TREND_DAYS]
    )
    history.reverse()
    out: dict[str, Any] = {
        "customer_id": customer_id,
        "scored": False,
        "day": None,
        "risk": None,
        "percentile": None,
        "top": "",
        "model_version": None,
        "model_trained_at": None,
        "change": None,
        "trend": [],
        "drivers": [],
        "formula": RISK_FORMULA,
    }
    if not history:
        return out
    latest = history[-1]
    span = [s for s in history if latest.day - s.day < timedelta(days=TREND_DAYS)]
    with _user_language(request):
        row = display.score_as_dict(latest)
        out.update(
            scored=True,
            day=latest.day,
            risk=row["risk"],
            percentile=row["percentile"],
            top=row["top"],
            model_version=latest.model.version,
            model_trained_at=latest.model.trained_at,
            change=round(latest.risk - span[0].risk, 4) if len(span) > 1 else None,
            trend=[{"day": s.day, "risk": round(s.risk, 4)} for s in span],
            drivers=row["drivers"],
        )
    return out


@router.post("/predict/churn/train", response={202: TrainOut, 503: ErrorOut, **ERRORS})
def churn_train_endpoint(request: HttpRequest) -> Status[dict[str, Any]]:
    """Queue a training run (owners only; 503 when this installation cannot train yet)."""
    from tend.predict.training_queue import churn_train_enqueue

    user = require_manage(_principal(request).user)
    outcome, result = churn_train_enqueue(by=user)
    if outcome == "missing":
        return Status(
            503,
            {
                "detail": "Training is not available in this installation yet "
                "(no tend.predict.tasks training task).",
                "errors": [],
            },
        )
    return Status(202, {"status": outcome, "task_id": str(result.id)})
