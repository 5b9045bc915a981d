"""REST endpoints for revenue and retention metrics, under ``/api/v1/metrics/``.

Every number comes from the series readers (``tend.metrics.kpis`` and its siblings) through the
bodies of ``tend.metrics.bodies``, the same ones ``tend metrics --format json`` prints, so the
API, the CLI and the dashboard agree. Reads need a read-capable key or a login; a refresh needs
a key or a role that writes (``tend.api.auth`` decides before the endpoint runs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from tend.api.errors import FieldError
from tend.api.schemas import ERRORS
from tend.metrics.bodies import (
    cac_body,
    channels_body,
    cohorts_body,
    formulas_body,
    freshness_body,
    parse_filters,
    series_body,
    summary_body,
    survival_body,
)
from tend.metrics.filters import FilterError, Filters
from tend.metrics.schemas import (
    Basis,
    ChannelMonthsOut,
    ChannelsOut,
    CohortsOut,
    Compare,
    FormulaList,
    FreshnessOut,
    MetricFilters,
    RefreshIn,
    RefreshOut,
    SeriesOut,
    SummaryOut,
    SurvivalBy,
    SurvivalOut,
)
from tend.metrics.tasks import metrics_refresh

router = Router(tags=["metrics"])

T = TypeVar("T")


def _filters(params: MetricFilters) -> Filters:
    try:
        return parse_filters(params.model_dump())
    except FilterError as exc:
        raise FieldError(exc.field, exc.message, code=exc.code) from None


def _checked(build: Callable[[], T]) -> T:
    try:
        return build()
    except FilterError as exc:  # e.g. a range longer than the series reader allows
        raise FieldError(exc.field, exc.message, code=exc.code) from None


@router.get("/metrics/formulas", response={200: FormulaList, **ERRORS})
def metric_formulas(request: HttpRequest) -> dict[str, Any]:
    """Every metric Tend knows: its name, formula, unit and which direction is good."""
    return formulas_body()


@router.get("/metrics/series", response={200: SeriesOut, **ERRORS})
def metric_series(request: HttpRequest, params: Query[MetricFilters]) -> dict[str, Any]:
    """Raw figures and every metric per period (month, quarter or year), oldest first."""
    filters = _filters(params)
    return _checked(lambda: series_body(filters))


@router.get("/metrics/summary", response={200: SummaryOut, **ERRORS})
def metric_summary(
    request: HttpRequest, params: Query[MetricFilters], compare: Compare = "complete"
) -> dict[str, Any]:
    """Headline figures with their change, lifetime value and referral rate.

    `compare=complete` (default): the last period that has ended against the one before.
    `compare=to_date`: the running period so far against the same days of the period before
    (on 6 December: 1–6 December against 1–6 November)."""
    filters = replace(_filters(params), compare=compare)
    return _checked(lambda: summary_body(filters))


@router.get("/metrics/channels", response={200: ChannelsOut, **ERRORS})
def metric_channels(request: HttpRequest, params: Query[MetricFilters]) -> dict[str, Any]:
    """CAC, ARPA, churn, LTV, LTV:CAC and CAC payback per acquisition channel over the range."""
    filters = _filters(params)
    return _checked(lambda: channels_body(filters))


@router.get("/metrics/cac", response={200: ChannelMonthsOut, **ERRORS})
def metric_cac(request: HttpRequest, params: Query[MetricFilters]) -> dict[str, Any]:
    """CAC per acquisition channel and month: acquisition cost ÷ customers acquired."""
    filters = _filters(params)
    return _checked(lambda: cac_body(filters))


@router.get("/metrics/cohorts", response={200: CohortsOut, **ERRORS})
def metric_cohorts(
    request: HttpRequest, params: Query[MetricFilters], basis: Basis = "logo"
) -> dict[str, Any]:
    """Monthly cohorts of first payment × months since: customers (logo) or MRR kept."""
    filters = _filters(params)
    return _checked(lambda: cohorts_body(filters, basis=basis))


@router.get("/metrics/survival", response={200: SurvivalOut, **ERRORS})
def metric_survival(
    request: HttpRequest, params: Query[MetricFilters], by: SurvivalBy = "all"
) -> dict[str, Any]:
    """Kaplan–Meier curves of how long customers keep paying, with 95 % bands.

    The customer filters apply; the curves cover each customer's whole life, not the range.
    """
    filters = _filters(params)
    return _checked(lambda: survival_body(filters, by=by))


@router.get("/metrics/freshness", response={200: FreshnessOut, **ERRORS})
def metric_freshness(request: HttpRequest) -> dict[str, Any]:
    """When the monthly snapshots every metric reads were last built."""
    return freshness_body()


@router.post("/metrics/refresh", response={202: RefreshOut, **ERRORS})
def metric_refresh(request: HttpRequest, payload: RefreshIn | None = None) -> Status:
    """Queue a rebuild of the snapshots; poll ``/metrics/freshness`` to see it land."""
    full = payload.full if payload is not None else False
    result = metrics_refresh.enqueue(full=full)
    return Status(202, {"task_id": str(result.id), "status": str(result.status), "full": full})
