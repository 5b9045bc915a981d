"""REST shapes of the metrics: the typed answers of ``/api/v1/metrics/`` and of
``tend metrics --format json``, filled by ``tend.metrics.bodies``.

Money is ``{"amount": "49.00", "currency": "USD"}`` in the reporting currency, like everywhere
in the API; rates are percentages as numbers (``93.5`` is 93.5 %), ``null`` when a rate is
undefined (nobody active at start).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import Field as PydanticField

from tend.api.schemas import InputSchema, Money, QueryId, StrictBool, UtcDatetime
from tend.customers.channels import CODE_PATTERN

Period = Literal["month", "quarter", "year"]
Compare = Literal["complete", "to_date"]
Basis = Literal["logo", "revenue"]
SurvivalBy = Literal["all", "plan", "channel"]


def _listed(item: str) -> str:
    """A pattern for one value or several joined by commas."""
    return f"^{item}(,{item})*$"


# Months from 1900 to 2199: the range every period of a metric can be computed in.
MONTH_PATTERN = r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])$"
PLAN_ITEMS = _listed("[-a-zA-Z0-9_]{1,60}")
CHANNEL_ITEMS = _listed(CODE_PATTERN)
COUNTRY_ITEMS = _listed("[A-Za-z]{2}")
TAG_ITEMS = _listed("[^,]{1,50}")


class MetricFilters(Schema):
    """Query parameters of every metric endpoint; several values: repeat or use commas.

    A plan or tag that does not exist is a 422 with code ``unknown``; a ``start`` after
    ``end`` or a range of more than 120 periods a 422 with code ``range``."""

    period: Period = Field("month", description="Length of one period.")
    start: str | None = Field(
        None,
        pattern=MONTH_PATTERN,
        description="First month, `YYYY-MM` (default: 12 months, 8 quarters or 5 years back).",
        examples=["2025-01"],
    )
    end: str | None = Field(
        None,
        pattern=MONTH_PATTERN,
        description="Last month, `YYYY-MM` (default: this month).",
        examples=["2025-12"],
    )
    plan: list[Annotated[str, PydanticField(pattern=PLAN_ITEMS)]] = Field(
        [], description="Customers on this plan (code, or id)."
    )
    channel: list[Annotated[str, PydanticField(pattern=CHANNEL_ITEMS)]] = Field(
        [],
        description="Acquisition channel code: one of your channels, see GET /api/v1/channels "
        "(another code is a 422 with code `unknown`).",
    )
    country: list[Annotated[str, PydanticField(pattern=COUNTRY_ITEMS)]] = Field(
        [], description="ISO 3166-1 alpha-2 country code."
    )
    tag: list[Annotated[str, PydanticField(pattern=TAG_ITEMS)]] = Field(
        [], description="Customers with this tag (any of several)."
    )
    segment: QueryId | None = Field(
        None,
        description="A saved segment's id (see `GET /api/v1/segments`): only its customers, "
        "with membership evaluated live from the segment's condition, not from its last daily "
        "refresh. One segment at a time; an id of no segment is a 422 with code `unknown`. "
        "Figures for a segment are computed on demand (a few hundred milliseconds at 100,000 "
        "customers) instead of read from the pre-added summaries.",
    )


class FiltersOut(Schema):
    """The filters as applied: ``start`` and ``end`` are the months the periods cover."""

    period: Period
    start: str = Field(..., examples=["2025-01"])
    end: str = Field(..., examples=["2025-12"])
    plan: list[str] = Field(..., description="Plan codes.")
    channel: list[str]
    country: list[str]
    tag: list[str]
    segment: int | None = Field(None, description="The saved segment's id, or null.")


class FormulaOut(Schema):
    key: str = Field(..., examples=["nrr"])
    label: str
    formula: str = Field(..., description="The formula, as the dashboard's tooltip shows it.")
    unit: Literal["percent", "money", "months", "ratio", "score", "count"]
    higher_is_better: bool


class FormulaList(Schema):
    items: list[FormulaOut]


class PeriodFigures(Schema):
    """The period's raw figures. Movements are signed like the MRR ledger (churn negative);
    ``base_*`` are the net changes of the customers active at the period's start."""

    customers_start: int
    customers_end: int
    retained: int
    churned: int
    expanded: int
    mrr_start: Money
    mrr_end: Money
    new: Money
    expansion: Money
    contraction: Money
    churn: Money
    reactivation: Money
    base_expansion: Money
    base_contraction: Money
    base_churn: Money
    renewals_due: int
    renewals_done: int
    acquired: int
    acquisition_cost: Money


class PeriodMetrics(Schema):
    """Every metric of the period, keyed as in ``GET /metrics/formulas``; null = undefined."""

    mrr: Money
    arr: Money
    new_mrr: Money
    expansion_mrr: Money
    contraction_mrr: Money = Field(..., description="MRR lost to downgrades, as a positive amount.")
    churned_mrr: Money = Field(..., description="MRR lost to churn, as a positive amount.")
    reactivation_mrr: Money
    net_new_mrr: Money
    customers: int = Field(..., description="Paying customers at the end of the period.")
    logo_churn: float | None
    revenue_churn: float | None
    crr: float | None
    grr: float | None
    nrr: float | None
    cer: float | None
    renewal_rate: float | None
    arpa: Money | None
    acquired: int
    cac: Money | None


class PeriodOut(Schema):
    period: str = Field(..., examples=["2025-03", "2025-Q1", "2025"])
    start: date
    end: date = Field(..., description="Last day of the period.")
    to_date: bool = Field(..., description="The period has not ended: figures run to today.")
    figures: PeriodFigures
    metrics: PeriodMetrics


class SeriesOut(Schema):
    filters: FiltersOut
    currency: str = Field(..., examples=["USD"])
    periods: list[PeriodOut] = Field(..., description="Oldest first.")


FIGURE_NAMES = tuple(PeriodFigures.model_fields)
METRIC_NAMES = tuple(PeriodMetrics.model_fields)


TileValue = Money | int | float | None


class TileOut(Schema):
    key: str = Field(..., examples=["nrr"])
    label: str
    unit: str = Field(..., description="percent, money, count…: how to read ``value``.")
    value: TileValue
    previous: TileValue = Field(
        ..., description="The same figure in the period compared with (see `compare`)."
    )
    change: float | None = Field(
        ..., description="Percent change for amounts, percentage points for rates."
    )
    change_kind: Literal["percent", "points", ""]


class LifetimeValueOut(Schema):
    """Over the whole range, from the last period's ARPA and the mean monthly logo churn."""

    gross_margin: float = Field(..., description="`TEND_GROSS_MARGIN`, a fraction.")
    monthly_churn: float | None
    arpa: Money | None
    clv_simple: Money | None = Field(..., description="ARPA × gross margin ÷ monthly churn.")
    clv_discounted: Money | None = Field(
        ..., description="Yearly gross profit per account, grown and discounted over clv_years."
    )
    clv_years: int | None = Field(..., description="Expected lifetime: 1 ÷ yearly churn, 1–10.")
    clv_discount_rate: float = Field(..., description="`TEND_CLV_DISCOUNT_RATE`, a year.")
    clv_growth_rate: float = Field(..., description="`TEND_CLV_GROWTH_RATE`, a year.")
    acquired: int
    acquisition_cost: Money
    cac: Money | None
    ltv_cac: float | None
    cac_payback: float | None = Field(..., description="Months.")


class ReferralOut(Schema):
    customers: int
    referrers: int
    referral_rate: float | None


class UnavailableOut(Schema):
    key: str = Field(..., examples=["nps"])
    reason: str


class SpanOut(Schema):
    label: str = Field(..., examples=["2025-11"])
    start: date
    end: date = Field(..., description="The last day counted.")
    to_date: bool = Field(..., description="The period has not ended: figures run to today.")


class CompareOut(Schema):
    """What the tiles compare. ``complete``: the last period that has ended against the one
    before. ``to_date``: the running period so far against the same days of the period before
    (1–6 December against 1–6 November), both computed over those days only."""

    mode: Compare = Field(..., description="The comparison made.")
    asked: Compare = Field(
        ...,
        description="The comparison asked for; `to_date` falls back to `complete` when the "
        "range's last period has ended.",
    )
    current: SpanOut | None
    previous: SpanOut | None
    days: int | None = Field(..., description="`to_date`: days counted in the current period.")


class SummaryOut(Schema):
    filters: FiltersOut
    currency: str
    period: str | None = Field(..., description="The period the tiles show (see `compare`).")
    to_date: bool
    compare: CompareOut
    tiles: list[TileOut]
    lifetime_value: LifetimeValueOut
    referral: ReferralOut
    unavailable: list[UnavailableOut] = Field(
        ..., description="Catalogue metrics with no value yet, and why (never a made-up number)."
    )


class ChannelOut(Schema):
    channel: str = Field(..., examples=["referral"])
    label: str
    acquired: int = Field(
        ..., description="Customers of the channel whose first payment falls in the range."
    )
    acquisition_cost: Money
    customers: int = Field(
        ...,
        description="Customers of the channel paying at the end of the range, whenever they "
        "were acquired (so it can exceed `acquired`).",
    )
    mrr: Money
    cac: Money | None
    arpa: Money | None
    monthly_churn: float | None
    ltv: Money | None = Field(..., description="CLV = ARPA × gross margin ÷ monthly churn.")
    ltv_cac: float | None = Field(..., description="LTV ÷ CAC.")
    payback_months: float | None


class ChannelsOut(Schema):
    filters: FiltersOut
    currency: str
    items: list[ChannelOut]


class ChannelMonthOut(Schema):
    channel: str = Field(..., description="Empty for customers with no channel recorded.")
    label: str
    month: str = Field(..., examples=["2025-03"])
    acquired: int = Field(..., description="Customers whose first payment fell in the month.")
    acquisition_cost: Money
    cac: Money | None


class ChannelMonthsOut(Schema):
    filters: FiltersOut
    currency: str
    items: list[ChannelMonthOut] = Field(
        ..., description="By channel, then month; months without acquisitions are left out."
    )


class CohortOut(Schema):
    cohort: str = Field(..., description="Month of the first payment, `YYYY-MM`.")
    customers: int
    first_mrr: Money = Field(..., description="The cohort's MRR in its first month.")
    retention: list[float | None] = Field(
        ...,
        description="Item k: % of the cohort's customers (logo) or of its first MRR (revenue) "
        "still paying k months after the first month.",
    )


class CohortsOut(Schema):
    filters: FiltersOut
    currency: str
    basis: Basis
    items: list[CohortOut] = Field(..., description="Oldest cohort first.")


class CurveOut(Schema):
    group: str = Field(..., description="`all`, a plan code or a channel.")
    label: str
    customers: int
    churned: int
    median_months: float | None = Field(..., description="null while over half still pay.")
    months: list[int]
    survival: list[float] = Field(..., description="% still paying after each month.")
    lower: list[float] = Field(..., description="95 % confidence band, lower edge.")
    upper: list[float]
    at_risk: list[int]


class SurvivalOut(Schema):
    filters: FiltersOut
    by: SurvivalBy
    groups: list[CurveOut] = Field(
        ..., description="Groups of fewer than 5 customers are left out."
    )


class FreshnessOut(Schema):
    built_at: UtcDatetime | None = Field(..., description="null: never built.")
    duration_ms: int = Field(..., description="How long the last build took.")
    stale_after: UtcDatetime | None


class RefreshIn(InputSchema):
    full: StrictBool = Field(
        False, description="Rebuild every customer, not only the changed ones."
    )


class RefreshOut(Schema):
    task_id: str
    status: str = Field(..., examples=["READY"])
    full: bool
