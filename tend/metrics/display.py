"""What the revenue pages show: values formatted for reading, KPI tiles with their change and
formula, the tables under the charts and the report's sections.

Every number comes from ``tend.metrics.series`` (through ``tend.metrics.exports`` for the
tables, so a download and the page agree); this module only arranges and formats it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tend.metrics import charts, exports, formulas, series
from tend.metrics.series import Filters, PeriodKpis
from tend.web.templatetags.tend_ui import CURRENCY_SYMBOLS

REVENUE_KEYS = ("mrr", "arr", "net_new_mrr", "customers", "arpa")
RETENTION_KEYS = ("logo_churn", "revenue_churn", "crr", "grr", "nrr", "cer", "renewal_rate")
VALUE_KEYS = ("clv_simple", "cac", "ltv_cac", "cac_payback")
REPORT_COHORTS = 6
DASHBOARD_COHORTS = 24

# --- values ---------------------------------------------------------------------------------

META: dict[str, tuple[Any, Any, str, bool]] = {
    # key: (label, formula, unit, higher is better) for figures the registry does not hold.
    "customers": (
        gettext_lazy("Paying customers"),
        gettext_lazy(
            "Customers = customers with an active paid subscription at the end of the period"
        ),
        "count",
        True,
    ),
}


# Short names for the tiles; the full name and the formula are in each tile's tooltip.
SHORT: dict[str, Any] = {
    "mrr": gettext_lazy("MRR"),
    "arr": gettext_lazy("ARR"),
    "net_new_mrr": gettext_lazy("Net new MRR"),
    "customers": gettext_lazy("Paying customers"),
    "arpa": gettext_lazy("ARPA"),
    "logo_churn": gettext_lazy("Logo churn"),
    "revenue_churn": gettext_lazy("Revenue churn"),
    "crr": gettext_lazy("CRR"),
    "grr": gettext_lazy("GRR"),
    "nrr": gettext_lazy("NRR"),
    "cer": gettext_lazy("CER"),
    "renewal_rate": gettext_lazy("Renewal rate"),
    "clv_simple": gettext_lazy("CLV"),
    "clv_discounted": gettext_lazy("CLV, discounted"),
    "cac": gettext_lazy("CAC"),
    "ltv_cac": gettext_lazy("LTV:CAC"),
    "cac_payback": gettext_lazy("CAC payback"),
    "referral_rate": gettext_lazy("Referral rate"),
}


def meta(key: str) -> tuple[str, str, str, bool]:
    if key in formulas.FORMULAS:
        f = formulas.FORMULAS[key]
        return str(f.label), str(f.formula), f.unit, f.higher_is_better
    label, formula, unit, better = META[key]
    return str(label), str(formula), unit, better


def money_text(value: Any, *, decimals: int = 2) -> str:
    """``$1,234.50`` / ``−$20.00``, as ``tend_ui.money`` writes it, without its per-call cost
    (a dashboard formats about a thousand amounts)."""
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    amount = amount.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    text = f"{abs(amount):,.{decimals}f}"
    sign = "−" if amount < 0 else ""
    code = settings.TEND_CURRENCY
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code}"


def display(value: Any, kind: str, *, whole: bool = False) -> str:
    """A value as the page shows it; "—" when it cannot be computed."""
    if value is None or value == "":
        return "—"
    if kind == "money":
        return money_text(value, decimals=0 if whole else 2)
    if kind == "percent":
        return f"{float(value):.1f}%"
    if kind == "ratio":
        return f"{float(value):.1f}×"
    if kind == "months":
        return _("%(value)s mo") % {"value": f"{float(value):.1f}"}
    if kind in ("count", "score"):
        return f"{value:,}" if isinstance(value, int) else f"{float(value):,.1f}"
    if kind == "bool":
        return _("yes") if value else _("no")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def cells(values: list[str]) -> SafeString:
    """``<td class="num">…</td>`` for each value: one join instead of a template loop, which
    keeps a page of a few thousand cells fast."""
    return format_html_join("", '<td class="num">{}</td>', ((v,) for v in values))


def change_of(current: Any, previous: Any, unit: str) -> tuple[float | None, str]:
    if unit == "percent":
        return formulas.point_change(current=current, previous=previous), "points"
    return formulas.percent_change(current=current, previous=previous), "percent"


def tile(
    key: str, value: Any, previous: Any, *, has_previous: bool = True, tiled: Any = None
) -> dict[str, Any]:
    """One KPI tile: formatted value, change against the previous period, colour and formula.

    ``tiled`` is the ``series.Tile`` of the key when the series reader made one; its change is
    used as it is, so the page and the API show the same number.
    """
    label, formula, unit, better = meta(key)
    if tiled is not None:
        change, kind = tiled.change, tiled.change_kind
    elif has_previous:
        change, kind = change_of(value, previous, unit)
    else:
        change, kind = None, ""
    big = key in ("mrr", "arr", "net_new_mrr", "clv_simple", "clv_discounted")
    out: dict[str, Any] = {
        "key": key,
        "label": str(SHORT.get(key, label)),
        "long_label": label,
        "formula": formula,
        "unit": unit,
        "value": value,
        "previous": previous,
        "text": display(value, unit, whole=big),
        "previous_text": display(previous, unit, whole=big),
        "change": change,
        "change_text": "",
        "arrow": "",
        "tone": "muted",
    }
    if change is None:
        return out
    size = abs(change)
    if kind == "points":
        out["change_text"] = _("%(value)s pts") % {"value": f"{size:.1f}"}
    else:
        out["change_text"] = f"{size:.1f}%"
    if round(size, 1) == 0:
        out["arrow"], out["tone"] = "→", "muted"
    else:
        up = change > 0
        out["arrow"] = "▲" if up else "▼"
        out["tone"] = "good" if up == better else "bad"
        out["direction"] = _("up") if up else _("down")
    return out


def tile_groups(kpis: list[PeriodKpis], filters: Filters) -> list[dict[str, Any]]:
    by_key = {t.key: t for t in series.tiles(kpis)}
    has_previous = len(kpis) > 1
    revenue = [tile(k, by_key[k].value, by_key[k].previous, tiled=by_key[k]) for k in REVENUE_KEYS]
    retention = [
        tile(k, by_key[k].value, by_key[k].previous, tiled=by_key[k]) for k in RETENTION_KEYS
    ]
    # Lifetime value and acquisition cover the whole range; "previous" is the same figure
    # over the range that ends one period earlier.
    now = series.lifetime_value(kpis)
    before = series.lifetime_value(kpis[:-1]) if has_previous else {}
    keys = [
        *VALUE_KEYS[:1],
        *(["clv_discounted"] if "clv_discounted" in now else []),
        *VALUE_KEYS[1:],
    ]
    value = {k: tile(k, now[k], before.get(k), has_previous=has_previous) for k in keys}
    if now["monthly_churn"] is not None and now["arpa"] is not None:
        value["clv_simple"]["note"] = _(
            "ARPA %(arpa)s × margin %(margin)s ÷ churn %(churn)s a month"
        ) % {
            "arpa": display(now["arpa"], "money"),
            "margin": f"{float(now['gross_margin']) * 100:.0f}%",
            "churn": display(now["monthly_churn"], "percent"),
        }
    if "clv_discounted" in value and now.get("clv_years"):
        value["clv_discounted"]["note"] = _(
            "%(years)s years, discounted %(rate)s a year, growing %(growth)s a year"
        ) % {
            "years": now["clv_years"],
            "rate": f"{float(now['clv_discount_rate']) * 100:.0f}%",
            "growth": f"{float(now['clv_growth_rate']) * 100:.0f}%",
        }
    value["cac"]["note"] = _("%(cost)s for %(n)s customers") % {
        "cost": display(now["acquisition_cost"], "money", whole=True),
        "n": f"{now['acquired']:,}",
    }
    referral = series.referral_rate(filters)
    ref = tile("referral_rate", referral["referral_rate"], None, has_previous=False)
    ref["note"] = _("%(referrers)s of %(customers)s customers, all time") % {
        "referrers": f"{referral['referrers']:,}",
        "customers": f"{referral['customers']:,}",
    }
    return [
        {"key": "revenue", "title": _("Revenue"), "tiles": revenue},
        {"key": "retention", "title": _("Retention"), "tiles": retention},
        {
            "key": "value",
            "title": _("Lifetime value and acquisition, over the range"),
            "tiles": [*value.values(), ref],
        },
    ]


def kpi_table(kpis: list[PeriodKpis]) -> dict[str, Any]:
    """Every metric as a row, periods as columns (the download has periods as rows)."""
    columns = exports.kpi_columns()[4:]
    records = [exports.kpi_record(p) for p in kpis]
    rows = []
    for column in columns:
        known = column.key in formulas.FORMULAS or column.key in META
        rows.append(
            {
                "label": column.header,
                "formula": meta(column.key)[1] if known else "",
                "cells": cells([display(r.get(column.key), column.kind) for r in records]),
            }
        )
    return {"labels": charts.period_labels(kpis), "rows": rows}


def movement_rows(kpis: list[PeriodKpis]) -> list[dict[str, Any]]:
    rows = []
    for p in reversed(kpis):
        rows.append(
            {
                "period": f"{p.label}*" if p.to_date else p.label,
                "cells": cells(
                    [
                        display(v, "money")
                        for v in (
                            p.mrr_start,
                            p.new,
                            p.expansion,
                            p.reactivation,
                            -abs(p.contraction),
                            -abs(p.churn),
                            p.metrics.get("net_new_mrr"),
                            p.mrr_end,
                        )
                    ]
                ),
            }
        )
    return rows


def cohort_rows(rows: list[series.CohortRow], basis: str) -> list[dict[str, Any]]:
    return [
        {
            "cohort": f"{r.cohort:%Y-%m}",
            "customers": f"{r.customers:,}",
            "first_mrr": display(r.first_mrr, "money", whole=True),
            "cells": cells(
                [display(v, "percent") for v in (r.logo if basis == "logo" else r.revenue)]
            ),
        }
        for r in rows
    ]


def channel_rows(filters: Filters) -> list[dict[str, Any]]:
    kinds = {c.key: c.kind for c in exports.channel_columns()}
    return [
        {key: display(v, kinds[key]) if key in kinds else v for key, v in record.items()}
        for record in exports.channel_records(filters)
    ]


def survival_context(filters: Filters, by: str) -> dict[str, Any]:
    groups = exports.survival_groups(filters, by=by)
    table = []
    if groups:
        _group, _label, curve = groups[0]
        for i, month in enumerate(curve["months"]):
            table.append(
                {
                    "month": month,
                    "at_risk": f"{curve['at_risk'][i]:,}",
                    "survival": display(curve["survival"][i], "percent"),
                    "band": f"{curve['lower'][i]:.1f}–{curve['upper'][i]:.1f}%",
                }
            )
    return {
        "survival_by": by,
        "survival_groups": [
            {
                "label": label,
                "customers": curve["customers"],
                "churned": curve["churned"],
                "median": display(curve["median_months"], "months"),
            }
            for _g, label, curve in groups
        ],
        "survival_figure": charts.survival_figure(groups) if groups else None,
        "survival_table": table,
        "survival_table_label": groups[0][1] if groups else "",
        "survival_export": "survival" if by == "all" else f"survival_{by}",
        "survival_choices": [
            ("all", _("All customers")),
            ("plan", _("By plan")),
            ("channel", _("By channel")),
        ],
    }


def dashboard_data(filters: Filters) -> dict[str, Any]:
    kpis = series.kpi_series(filters)
    cohorts = series.cohorts(filters)
    # Years of monthly cohorts make a heatmap too tall to read: the page shows the newest
    # ones and says so; the downloads keep every cohort.
    shown = cohorts[-DASHBOARD_COHORTS:]
    current = kpis[-1] if kpis else None
    return {
        "kpis": kpis,
        "current": current,
        "previous": kpis[-2] if len(kpis) > 1 else None,
        "to_date": bool(kpis) and any(p.to_date for p in kpis),
        "tile_groups": tile_groups(kpis, filters),
        "no_customers": not any(p.customers_end or p.customers_start for p in kpis),
        "figures": {
            "movements": charts.movements_figure(kpis),
            "mrr": charts.mrr_figure(kpis),
            "churn": charts.churn_figure(kpis),
            "retention": charts.retention_figure(kpis),
            "cohorts_logo": charts.cohort_figure(shown, basis="logo"),
            "cohorts_revenue": charts.cohort_figure(shown, basis="revenue"),
        },
        "cohort_height": charts.cohort_height(shown),
        "cohorts": cohorts,
        "cohorts_hidden": len(cohorts) - len(shown),
        "cohort_logo_rows": cohort_rows(shown, "logo"),
        "cohort_revenue_rows": cohort_rows(shown, "revenue"),
        "cohort_range": range(max((len(r.logo) for r in shown), default=0)),
        "movement_rows": movement_rows(kpis),
        "kpi_table": kpi_table(kpis),
        "channel_rows": channel_rows(filters),
        **survival_context(filters, "all"),
    }


def report_data(filters: Filters, month: date) -> dict[str, Any]:
    # A year of months ending at the report month: the last two give the tiles, the whole
    # year the lifetime value (as the dashboard's default range does).
    year = replace(filters, period="month", start=month - relativedelta(months=11), end=month)
    kpis = series.kpi_series(year)
    groups = tile_groups(kpis, filters)
    current = kpis[-1] if kpis else None
    previous = kpis[-2] if len(kpis) > 1 else None
    cohort_filters = replace(
        year, start=month - relativedelta(months=REPORT_COHORTS - 1), end=month
    )
    cohorts = []
    for row in series.cohorts(cohort_filters):
        # Cells after the report month exist for past months; the report stops at its month.
        age = (month.year - row.cohort.year) * 12 + month.month - row.cohort.month
        shown = [display(v, "percent") for v in row.logo[: age + 1]]
        cohorts.append(
            {
                "cohort": f"{row.cohort:%Y-%m}",
                "customers": f"{row.customers:,}",
                "cells": shown,
                "blank": range(REPORT_COHORTS - len(shown)),
            }
        )
    movement_keys = [
        ("mrr_start", _("MRR at start"), lambda p: p.mrr_start),
        ("new", _("+ New"), lambda p: p.new),
        ("expansion", _("+ Expansion"), lambda p: p.expansion),
        ("reactivation", _("+ Reactivation"), lambda p: p.reactivation),
        ("contraction", _("− Contraction"), lambda p: -abs(p.contraction)),
        ("churn", _("− Churn"), lambda p: -abs(p.churn)),
        ("net_new", _("= Net new MRR"), lambda p: p.metrics.get("net_new_mrr")),
        ("mrr_end", _("MRR at end"), lambda p: p.mrr_end),
    ]
    movements = [
        {
            "key": key,
            "label": label,
            "current": display(get(current), "money") if current else "—",
            "previous": display(get(previous), "money") if previous else "—",
        }
        for key, label, get in movement_keys
    ]
    shown = [t["key"] for g in groups for t in g["tiles"]]
    definitions = [
        {"label": meta(k)[0], "formula": meta(k)[1]}
        for k in [*shown, "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr"]
        if k in formulas.FORMULAS or k in META
    ]
    return {
        "current": current,
        "previous": previous,
        "tile_groups": groups,
        "movements": movements,
        "report_cohorts": cohorts,
        "report_cohort_range": range(REPORT_COHORTS),
        "definitions": definitions,
    }


def filter_labels(filters: Filters, choices: dict[str, Any]) -> list[str]:
    plans = dict(choices["plans"])
    channels = dict(choices["channels"])
    out = []
    if filters.plans:
        out.append(_("Plan: %(v)s") % {"v": ", ".join(plans.get(p, str(p)) for p in filters.plans)})
    if filters.channels:
        out.append(
            _("Channel: %(v)s")
            % {"v": ", ".join(str(channels.get(c, c)) for c in filters.channels)}
        )
    if filters.countries:
        out.append(_("Country: %(v)s") % {"v": ", ".join(filters.countries)})
    if filters.tags:
        out.append(_("Tag: %(v)s") % {"v": ", ".join(filters.tags)})
    return out
