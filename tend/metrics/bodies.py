"""The answers of the metrics API and of ``tend metrics``, built from the series readers
(``tend.metrics.kpis`` and its siblings).

The endpoints and ``tend metrics --format json`` both answer with these bodies (validated by
``tend.metrics.schemas``), so the two print the same keys and the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from tend.api.schemas import money
from tend.billing.models import Plan
from tend.customers.channels import channel_labels
from tend.lib.money import CENT
from tend.metrics.channels import by_channel, cac_by_channel_month
from tend.metrics.cohorts import cohorts, survival
from tend.metrics.filters import FilterError, Filters
from tend.metrics.formulas import FORMULAS
from tend.metrics.kpis import PeriodKpis, freshness, kpi_series
from tend.metrics.schemas import FIGURE_NAMES, METRIC_NAMES
from tend.metrics.tiles import comparison, tiles
from tend.metrics.value import lifetime_value, referral_rate


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
    digits = [int(v) for v in wanted if v not in by_code and v.isascii() and v.isdigit()]
    by_id = set(Plan.objects.filter(pk__in=digits).values_list("pk", flat=True))
    plan_ids: list[str] = []
    for value in wanted:
        if value in by_code:
            plan_ids.append(str(by_code[value]))
        elif value.isascii() and value.isdigit() and int(value) in by_id:
            plan_ids.append(value)
        else:
            raise FilterError("plan", f"no plan with code or id {value!r}", code="unknown")
    values = {name: data.get(name) for name in ("period", "start", "end", "compare")}
    values.update({name: _many(data, name) for name in ("channel", "country", "tag")})
    values["plan"] = plan_ids
    segment = data.get("segment")  # an id from the API, text from the CLI
    values["segment"] = [] if segment is None else _many({"segment": str(segment)}, "segment")
    return Filters.parse(values)


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
        "segment": filters.segment,
    }


def _currency() -> str:
    return str(settings.TEND_CURRENCY)


def _money(amount: Decimal | None) -> dict[str, Any] | None:
    # Always two decimals, so a month without rows reads "0.00" like the others, not "0".
    return money(None if amount is None else amount.quantize(CENT), _currency())


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
        "periods": [period_out(p) for p in kpi_series(filters, today=today)],
    }


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


def _span(period: PeriodKpis | None) -> dict[str, Any] | None:
    if period is None:
        return None
    return {
        "label": period.label,
        "start": period.start,
        "end": period.end,
        "to_date": period.to_date,
    }


def summary_body(filters: Filters, *, today: date | None = None) -> dict[str, Any]:
    kpis = kpi_series(filters, today=today)
    compared = comparison(kpis, filters, today=today)
    # Lifetime value and CAC over the range up to the period the tiles show.
    value = lifetime_value(kpis[: compared.index + 1] if compared else kpis)
    referral = referral_rate(filters)
    tile_list = []
    for tile in tiles(compared):
        unit = unit_of(tile.key)
        as_value = _money_or_value if unit == "money" else _same
        tile_list.append(
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
        "period": compared.current.label if compared else None,
        "to_date": compared.current.to_date if compared else False,
        "compare": {
            "mode": compared.mode if compared else filters.compare,
            "asked": filters.compare,
            "current": _span(compared.current if compared else None),
            "previous": _span(compared.previous if compared else None),
            "days": compared.days if compared else None,
        },
        "tiles": tile_list,
        "lifetime_value": {
            k: float(v) if k in RATE_KEYS else _money_or_value(v) for k, v in value.items()
        },
        "referral": referral,
        "unavailable": unavailable(produced),
    }


def channels_body(filters: Filters, *, today: date | None = None) -> dict[str, Any]:
    labels = channel_labels()
    items = []
    for row in by_channel(filters, today=today):
        item = {k: _money_or_value(v) for k, v in asdict(row).items()}
        item["label"] = str(labels.get(row.channel, row.channel))
        items.append(item)
    return {"filters": filters_out(filters, today=today), "currency": _currency(), "items": items}


def cac_body(filters: Filters, *, today: date | None = None) -> dict[str, Any]:
    labels = channel_labels()
    items = [
        {
            "channel": row.channel,
            "label": str(labels.get(row.channel, row.channel or _("Unknown"))),
            "month": f"{row.month:%Y-%m}",
            "acquired": row.acquired,
            "acquisition_cost": _money(row.acquisition_cost),
            "cac": _money(row.cac),
        }
        for row in cac_by_channel_month(filters, today=today)
    ]
    return {"filters": filters_out(filters, today=today), "currency": _currency(), "items": items}


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
        for row in cohorts(filters, today=today)
    ]
    return {
        "filters": filters_out(filters, today=today),
        "currency": _currency(),
        "basis": basis,
        "items": items,
    }


def survival_body(
    filters: Filters, *, by: str, now: datetime | None = None, today: date | None = None
) -> dict[str, Any]:
    curves = survival(filters, by=by, now=now)
    plans = {str(p.pk): p for p in Plan.objects.filter(pk__in=[k for k in curves if k.isdigit()])}
    channels = channel_labels()
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


def freshness_body() -> dict[str, Any]:
    return freshness()
