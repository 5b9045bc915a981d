"""REST endpoints for behavioural segmentation: RFM groups and usage clusters.

``GET /segments/rfm`` and ``GET /segments/clusters`` read the latest run (``run`` is null
before the first one; ``message`` then says why there is nothing). ``POST`` recomputes now
(owners and members, read_write keys); a parameter out of range is a 422 naming the field
and writes nothing. Too little usage to cluster is not an error: the answer has
``recomputed: false`` and a ``message`` saying how many customers there were.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tend.api.errors import FieldError
from tend.api.schemas import (
    ERRORS,
    InputSchema,
    IsoDate,
    Money,
    Page,
    PageParams,
    StrictInt,
    money,
    paginate,
)
from tend.billing.currency import reporting_currency
from tend.lib.money import to_cents
from tend.segments.behaviour import cluster_summary, rfm_summary
from tend.segments.behaviour_models import CustomerRfm, RfmGroup
from tend.segments.clusters import (
    DAYS_DEFAULT,
    DAYS_MAX,
    DAYS_MIN,
    K_LIMIT,
    K_MAX_DEFAULT,
    K_MIN_DEFAULT,
    clusters_refresh,
)
from tend.segments.rfm import (
    RFM_WINDOW_DAYS,
    WINDOW_DAYS_MAX,
    WINDOW_DAYS_MIN,
    BehaviourError,
    rfm_refresh,
)

router = Router(tags=["behaviour"])

RFM_FORMULA = (
    "R, F, M scored 1–5 (5 best) by quintile among customers with a paid order: "
    "1 + floor(5 × customers with a worse value ÷ customers scored); equal values share a "
    "score. R: days since the last paid order; F: paid orders in the window; M: their revenue "
    "net of refunds in the reporting currency. Group from R and FM = (F + M) / 2 rounded half "
    "up (docs/behaviour.md)."
)


class RfmRunOut(Schema):
    as_of: date
    window_days: int
    currency: str
    customers: int
    orders: int
    unconverted: int = Field(..., description="Paid orders with no exchange rate: not in M.")


class RfmGroupOut(Schema):
    key: str
    label: str
    rule: str = Field(..., description="R and FM ranges, both ends included.")
    customers: int
    revenue: Money = Field(..., description="Net revenue of the group's paid orders in the window.")
    share: float = Field(..., description="Share of the revenue of all scored customers, 0–1.")


class RfmOut(Schema):
    recomputed: bool = Field(..., description="True when this request computed a new run.")
    run: RfmRunOut | None
    message: str = Field(..., description="Why there is nothing to show, or empty.")
    formula: str
    groups: list[RfmGroupOut]


class RfmIn(InputSchema):
    window_days: StrictInt = Field(
        RFM_WINDOW_DAYS, ge=WINDOW_DAYS_MIN, le=WINDOW_DAYS_MAX, description="Days of orders."
    )
    as_of: IsoDate | None = Field(None, description="Day to score as of; default today (UTC).")


class CustomerRfmOut(Schema):
    customer_id: int
    customer_name: str
    as_of: date
    recency_days: int
    frequency: int
    monetary: Money
    r: int
    f: int
    m: int
    score: str
    group: str


class CustomerRfmPage(Page):
    items: list[CustomerRfmOut]


class RfmCustomerFilters(Schema):
    group: Literal[tuple(RfmGroup.values)] | None = Field(  # type: ignore[valid-type]
        None, description="Only this group."
    )


class ClusterOut(Schema):
    number: int
    name: str = Field(..., description="The founder's name, or empty.")
    description: str = Field(..., description="Generated from the centroid's levels.")
    size: int
    centroid: dict[str, float] = Field(..., description="In the features' own units.")
    levels: dict[str, str] = Field(..., description="low, mid, high, or empty (no contrast).")


class ClusterRunOut(Schema):
    as_of: date
    days: int
    k_min: int
    k_max: int
    k: int
    silhouettes: dict[str, float]
    silhouette_sample: int
    features: list[str]
    quantiles: dict[str, dict[str, float]]
    customers: int


class ClustersOut(Schema):
    recomputed: bool = Field(
        ...,
        description="True when this request computed a new run; false with a `message` when "
        "there was too little usage to cluster (the latest run, if any, is unchanged).",
    )
    run: ClusterRunOut | None
    message: str
    clusters: list[ClusterOut]


class ClustersIn(InputSchema):
    days: StrictInt = Field(DAYS_DEFAULT, ge=DAYS_MIN, le=DAYS_MAX)
    k_min: StrictInt = Field(K_MIN_DEFAULT, ge=2, le=K_LIMIT)
    k_max: StrictInt = Field(K_MAX_DEFAULT, ge=2, le=K_LIMIT)
    as_of: IsoDate | None = Field(None, description="Day to cluster as of; default today (UTC).")


def _rfm_body(*, recomputed: bool = False) -> dict[str, Any]:
    summary = rfm_summary()
    currency = summary.run.currency if summary.run else reporting_currency()
    message = ""
    if summary.run is None:
        message = _("RFM scores have not been computed yet.")
    elif not summary.run.customers:
        message = _("No paid orders up to %(day)s, so there is nobody to score.") % {
            "day": summary.run.as_of.isoformat()
        }
    return {
        "recomputed": recomputed,
        "run": summary.run,
        "message": message,
        "formula": RFM_FORMULA,
        "groups": [
            {
                "key": g.key,
                "label": g.label,
                "rule": g.rule,
                "customers": g.customers,
                "revenue": money(to_cents(g.revenue), currency),
                "share": round(g.share, 6),
            }
            for g in summary.groups
        ],
    }


def _clusters_body(*, recomputed: bool = False, message: str = "") -> dict[str, Any]:
    summary = cluster_summary()
    if not message and summary.run is None:
        message = _("Usage clusters have not been computed yet.")
    return {
        "recomputed": recomputed,
        "run": summary.run,
        "message": message,
        "clusters": [
            {
                "number": row.cluster.number,
                "name": row.cluster.name,
                "description": row.description,
                "size": row.cluster.size,
                "centroid": row.cluster.centroid,
                "levels": row.cluster.levels,
            }
            for row in summary.clusters
        ],
    }


def _refused(exc: BehaviourError) -> FieldError:
    return FieldError(exc.field, exc.message, code=exc.code)


@router.get("/segments/rfm", response={200: RfmOut, **ERRORS})
def rfm_read(request: HttpRequest) -> dict[str, Any]:
    """The latest RFM run: customers and revenue per group."""
    return _rfm_body()


@router.post("/segments/rfm", response={200: RfmOut, **ERRORS})
def rfm_recompute_endpoint(request: HttpRequest, payload: RfmIn | None = None) -> dict[str, Any]:
    """Recompute every customer's RFM scores as of today (UTC)."""
    try:
        params = payload or RfmIn(window_days=RFM_WINDOW_DAYS, as_of=None)
        rfm_refresh(params.as_of, window_days=params.window_days)
    except BehaviourError as exc:
        raise _refused(exc) from None
    return _rfm_body(recomputed=True)


@router.get("/segments/rfm/customers", response={200: CustomerRfmPage, **ERRORS})
def rfm_customer_list(
    request: HttpRequest, filters: Query[RfmCustomerFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """Customers' RFM scores, best first (R, F, M descending, then customer id)."""
    qs = CustomerRfm.objects.select_related("customer").order_by("-r", "-f", "-m", "customer_id")
    if filters.group:
        qs = qs.filter(group=filters.group)
    page = paginate(qs, paging)
    currency = reporting_currency()
    page["items"] = [
        {
            "customer_id": row.customer_id,
            "customer_name": row.customer.name,
            "as_of": row.as_of,
            "recency_days": row.recency_days,
            "frequency": row.frequency,
            "monetary": money(to_cents(row.monetary), currency),
            "r": row.r,
            "f": row.f,
            "m": row.m,
            "score": row.score,
            "group": row.group,
        }
        for row in page["items"]
    ]
    return page


@router.get("/segments/clusters", response={200: ClustersOut, **ERRORS})
def clusters_read(request: HttpRequest) -> dict[str, Any]:
    """The latest usage-cluster run: k chosen, silhouette per k, each cluster described."""
    return _clusters_body()


@router.post("/segments/clusters", response={200: ClustersOut, **ERRORS})
def clusters_recompute_endpoint(
    request: HttpRequest, payload: ClustersIn | None = None
) -> dict[str, Any]:
    """Re-run k-means on usage now. With too little usage nothing is written and the answer
    says so (``recomputed`` false, ``message``); a parameter out of range is a 422."""
    params = payload or ClustersIn(
        days=DAYS_DEFAULT, k_min=K_MIN_DEFAULT, k_max=K_MAX_DEFAULT, as_of=None
    )
    try:
        clusters_refresh(params.as_of, days=params.days, k_min=params.k_min, k_max=params.k_max)
    except BehaviourError as exc:
        if exc.code == "too_little_data":  # not a bad request: the data is not there yet
            return _clusters_body(message=exc.message)
        raise _refused(exc) from None
    return _clusters_body(recomputed=True)
