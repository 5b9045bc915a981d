"""REST shapes of the metrics, and the functions that fill them from ``tend.metrics.series``.

The API endpoints and ``tend metrics --format json`` both answer with these bodies, so the
two print the same keys and the same numbers. Money is ``{"amount": "49.00", "currency":
"USD"}`` in the reporting currency, like everywhere in the API; rates are percentages as
numbers (``93.5`` is 93.5 %), ``null`` when a rate is undefined (nobody active at start).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Schema

from tend.api.schemas import InputSchema, Money, UtcDatetime, money
from tend.billing.models import Plan
from tend.customers.models import Channel
from tend.metrics import series
from tend.metrics.formulas import FORMULAS
from tend.metrics.series import FilterError, Filters, PeriodKpis

Period = Literal["month", "quarter", "year"]
Basis = Literal["logo", "revenue"]
SurvivalBy = Literal["all", "plan", "channel"]

# --- filters ------------------------------------------------------------------------------


class MetricFilters(Schema):
    """Query parameters of every metric endpoint; several values: repeat or use commas."""

    period: Period = Field("month", description="Length of one period.")
    start: str | None = Field(
        None,
        description="First month, `YYYY-MM` (default: 12 months, 8 quarters or 5 years back).",
        examples=["2025-01"],
    )
    end: str | None = Field(
        None, description="Last month, `YYYY-MM` (default: this month).", examples=["2025-12"]
    )
    plan: list[str] = Field([], description="Customers on this plan (code, or id).")
    channel: list[str] = Field([], description=f"Acquisition channel: {', '.join(Channel.values)}.")
    country: list[str] = Field([], description="ISO 3166-1 alpha-2 country code.")
    tag: list[str] = Field([], description="Customers with this tag (any of several).")


def _many(data: Mapping[str, Any], name: str) -> list[str]:
    raw = data.getlist(name) if hasattr(data, "getlist") else data.get(name) or []
    if isinstance(raw, str):
        raw = [raw]
    return [v.strip() for item in raw for v in str(item).split(",") if v.strip()]


def parse_filters(data: Mapping[str, Any]) -> Filters:
    """``Filters`` from request or command-line values; plans by code or id.

    Raises ``FilterError`` naming the parameter at fault.
    """
    wanted = list(dict.fromkeys(_many(data, "plan")))
    by_code = dict(Plan.objects.filter(code__in=wanted).values_list("code", "pk"))
    digits = [int(v) for v in wanted if v not in by_code and v.isdigit()]
    by_id = set(Plan.objects.filter(pk__in=digits).values_list("pk", flat=True))
    plan_ids: list[str] = []
    for value in wanted:
        if value in by_code:
            plan_ids.append(str(by_code[value]))
        elif value.isdigit() and int(value) in by_id:
            plan_ids.append(value)
        else:
            raise FilterError("plan", f"no plan with code or id {value!r}")
    values = {name: data.get(name) for name in ("period", "start", "end")}
    values.update({name: _many(data, name) for name in ("channel", "country", "tag")})
    values["plan"] = plan_ids
    return Filters.parse(values)


class FiltersOut(Schema):
    """The filters as applied: ``start`` and ``end`` are the months the periods cover."""

    period: Period
    start: str = Field(..., examples=["2025-01"])
    end: str = Field(..., examples=["2025-12"])
    plan: list[str] = Field(..., description="Plan codes.")
    channel: list[str]
    country: list[str]
    tag: list[str]


def filters_out(filters: Filters, *, today: date | None = None) -> dict[str, Any]:
    first, last = filters.months(today=today)
    codes = dict(Plan.objects.filter(pk__in=filters.plans).values_list("pk", "code"))
    return {
        "period": filters.period,
        "start": f"{first:%Y-%m}",
        "end": f"{last:%Y-%m}",
        "plan": [codes.get(pk, str(pk)) for pk in filters.plans],
        "channel": list(filters.channels),
        "country": list(filters.countries),
        "tag": list(filters.tags),
    }


def _currency() -> str:
    return str(settings.TEND_CURRENCY)


CENT = Decimal("0.01")


def _money(amount: Decimal | None) -> dict[str, Any] | None:
    # Always two decimals, so a month without rows reads "0.00" like the others, not "0".
    return money(None if amount is None else amount.quantize(CENT), _currency())


# --- formula catalogue --------------------------------------------------------------------


class FormulaOut(Schema):
    key: str = Field(..., examples=["nrr"])
    label: str
    formula: str = Field(..., description="The formula, as the dashboard's tooltip shows it.")
    unit: Literal["percent", "money", "months", "ratio", "score", "count"]
    higher_is_better: bool


class FormulaList(Schema):
    items: list[FormulaOut]


def formulas_body() -> dict[str, Any]:
    return {
        "items": [
            {
                "key": f.key,
                "label": str(f.label),
                "formula": str(f.formula),
                "unit": f.unit,
                "higher_is_better": f.higher_is_better,
            }
            for f in FORMULAS.values()
        ]
    }


# --- series -------------------------------------------------------------------------------


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


def _money_or_value(value: Any) -> Any:
    return _money(value) if isinstance(value, Decimal) else value


def period_out(kpis: PeriodKpis) -> dict[str, Any]:
    return {
        "period": kpis.label,
        "start": kpis.start,
        "end": kpis.end,
        "to_date": kpis.to_date,
        "figures": {name: _money_or_value(getattr(kpis, name)) for name in FIGURE_NAMES},
        "metrics": {name: _money_or_value(kpis.metrics[name]) for name in METRIC_NAMES},
    }


def series_body(filters: Filters, *, today: date | None = None) -> dict[str, Any]:
    return {
        "filters": filters_out(filters, today=today),
        "currency": _currency(),
        "periods": [period_out(p) for p in series.kpi_series(filters, today=today)],
    }


# --- summary ------------------------------------------------------------------------------

TileValue = Money | int | float | None


class TileOut(Schema):
    key: str = Field(..., examples=["nrr"])
    label: str
    unit: str = Field(..., description="percent, money, count…: how to read ``value``.")
    value: TileValue
    previous: TileValue = Field(..., description="The same figure one period earlier.")
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


class SummaryOut(Schema):
    filters: FiltersOut
    currency: str
    period: str | None = Field(..., description="The last period of the range (the tiles').")
    to_date: bool
    tiles: list[TileOut]
    lifetime_value: LifetimeValueOut
    referral: ReferralOut
    unavailable: list[UnavailableOut] = Field(
        ..., description="Catalogue metrics with no value yet, and why (never a made-up number)."
    )


# Figures outside the formula catalogue that the summary shows next to the metrics.
OTHER_UNITS = {
    "customers": "count",
    "acquired": "count",
    "referrers": "count",
    "acquisition_cost": "money",
    "monthly_churn": "percent",
    "gross_margin": "ratio",
}


def label_of(key: str) -> str:
    """The metric's name for people, in the active language."""
    if key in FORMULAS:
        return str(FORMULAS[key].label)
    names = {
        "customers": _("Paying customers"),
        "acquired": _("Customers acquired"),
        "referrers": _("Customers who referred someone"),
        "acquisition_cost": _("Acquisition cost"),
        "monthly_churn": _("Monthly logo churn, mean"),
        "gross_margin": _("Gross margin"),
    }
    return str(names.get(key, key))


def unit_of(key: str) -> str:
    return FORMULAS[key].unit if key in FORMULAS else OTHER_UNITS.get(key, "count")


def unavailable(produced: set[str]) -> list[dict[str, str]]:
    """Catalogue keys that no surface computes yet, each with the reason."""
    survey = _("Needs survey answers, and no survey answers are stored yet.")
    reasons = {
        "csat": survey,
        "csi": survey,
        "nps": survey,
        "ces": survey,
        "satisfaction_ratio": _(
            "Needs success-plan objectives that record expected and achieved value; "
            "none are stored yet."
        ),
        "clv_probabilistic": _(
            "Needs the purchase prediction model (BG/NBD and Gamma-Gamma), not trained yet."
        ),
    }
    return [
        {"key": key, "reason": reasons.get(key, _("Not computed yet."))}
        for key in FORMULAS
        if key not in produced
    ]


# Settings that lifetime_value hands back as Decimal fractions; every other Decimal is money.
RATE_KEYS = frozenset({"gross_margin", "clv_discount_rate", "clv_growth_rate"})


def _same(value: Any) -> Any:
    return value


def summary_body(filters: Filters, *, today: date | None = None) -> dict[str, Any]:
    kpis = series.kpi_series(filters, today=today)
    value = series.lifetime_value(kpis)
    referral = series.referral_rate(filters)
    tiles = []
    for tile in series.tiles(kpis):
        unit = unit_of(tile.key)
        as_value = _money_or_value if unit == "money" else _same
        tiles.append(
            {
                "key": tile.key,
                "label": label_of(tile.key),
                "unit": unit,
                "value": as_value(tile.value),
                "previous": as_value(tile.previous),
                "change": tile.change,
                "change_kind": tile.change_kind,
            }
        )
    produced = {*METRIC_NAMES, *value, "referral_rate"}
    return {
        "filters": filters_out(filters, today=today),
        "currency": _currency(),
        "period": kpis[-1].label if kpis else None,
        "to_date": kpis[-1].to_date if kpis else False,
        "tiles": tiles,
        "lifetime_value": {
            k: float(v) if k in RATE_KEYS else _money_or_value(v) for k, v in value.items()
        },
        "referral": referral,
        "unavailable": unavailable(produced),
    }


# --- channels -----------------------------------------------------------------------------


class ChannelOut(Schema):
    channel: str = Field(..., examples=["referral"])
    label: str
    acquired: int = Field(..., description="Customers acquired over the range.")
    acquisition_cost: Money
    customers: int = Field(..., description="Paying customers at the end of the range.")
    mrr: Money
    cac: Money | None
    arpa: Money | None
    monthly_churn: float | None
    ltv: Money | None = Field(..., description="CLV = ARPA × gross margin ÷ monthly churn.")
    ltv_cac: float | None
    payback_months: float | None


class ChannelsOut(Schema):
    filters: FiltersOut
    currency: str
    items: list[ChannelOut]


def channels_body(filters: Filters, *, today: date | None = None) -> dict[str, Any]:
    labels = dict(Channel.choices)
    items = []
    for row in series.by_channel(filters, today=today):
        item = {k: _money_or_value(v) for k, v in asdict(row).items()}
        item["label"] = str(labels.get(row.channel, row.channel))
        items.append(item)
    return {"filters": filters_out(filters, today=today), "currency": _currency(), "items": items}


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


def cac_body(filters: Filters, *, today: date | None = None) -> dict[str, Any]:
    labels = dict(Channel.choices)
    items = [
        {
            "channel": row.channel,
            "label": str(labels.get(row.channel, row.channel or _("Unknown"))),
            "month": f"{row.month:%Y-%m}",
            "acquired": row.acquired,
            "acquisition_cost": _money(row.acquisition_cost),
            "cac": _money(row.cac),
        }
        for row in series.cac_by_channel_month(filters, today=today)
    ]
    return {"filters": filters_out(filters, today=today), "currency": _currency(), "items": items}


# --- cohorts ------------------------------------------------------------------------------


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


def cohorts_body(filters: Filters, *, basis: str, today: date | None = None) -> dict[str, Any]:
    if basis not in ("logo", "revenue"):
        raise FilterError("basis", "must be logo or revenue")
    items = [
        {
            "cohort": f"{row.cohort:%Y-%m}",
            "customers": row.customers,
            "first_mrr": _money(row.first_mrr),
            "retention": row.logo if basis == "logo" else row.revenue,
        }
        for row in series.cohorts(filters, today=today)
    ]
    return {
        "filters": filters_out(filters, today=today),
        "currency": _currency(),
        "basis": basis,
        "items": items,
    }


# --- survival -----------------------------------------------------------------------------


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


def survival_body(
    filters: Filters, *, by: str, now: datetime | None = None, today: date | None = None
) -> dict[str, Any]:
    curves = series.survival(filters, by=by, now=now)
    plans = {str(p.pk): p for p in Plan.objects.filter(pk__in=[k for k in curves if k.isdigit()])}
    channels = dict(Channel.choices)
    groups = []
    for key, curve in curves.items():
        if by == "all":
            group, label = "all", _("All customers")
        elif by == "plan":
            plan = plans.get(key)
            group = plan.code if plan is not None else key
            label = plan.name if plan is not None else _("No plan")
        else:
            group, label = key, str(channels.get(key, key or _("Unknown")))
        groups.append({"group": group, "label": label, **curve})
    return {"filters": filters_out(filters, today=today), "by": by, "groups": groups}


# --- freshness and refresh ----------------------------------------------------------------


class FreshnessOut(Schema):
    built_at: UtcDatetime | None = Field(..., description="null: never built.")
    duration_ms: int = Field(..., description="How long the last build took.")
    stale_after: UtcDatetime | None


def freshness_body() -> dict[str, Any]:
    return series.freshness()


class RefreshIn(InputSchema):
    full: bool = Field(False, description="Rebuild every customer, not only the changed ones.")


class RefreshOut(Schema):
    task_id: str
    status: str = Field(..., examples=["READY"])
    full: bool
