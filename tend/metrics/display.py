"""What the revenue pages show: the tables under the charts and the report's sections, with
the KPI tiles and value formatting of ``tend.metrics.tile_view``.

Every number comes from the series readers (``tend.metrics.kpis`` and its siblings; through
``tend.metrics.exports`` for the tables, so a download and the page agree); this module only
arranges and formats it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from tend.metrics import charts, exports, formulas
from tend.metrics.chart_parts import period_label, period_labels
from tend.metrics.cohorts import CohortRow, cohorts
from tend.metrics.filters import Filters
from tend.metrics.kpis import PeriodKpis, kpi_series
from tend.metrics.tile_view import META, compare_context, display, meta, span_label, tile_groups
from tend.metrics.tiles import comparison

REPORT_COHORTS = 6
DASHBOARD_COHORTS = 24


def cells(values: list[str]) -> SafeString:
    """``<td class="num">…</td>`` for each value: one join instead of a template loop, which
    keeps a page of a few thousand cells fast."""
    return format_html_join("", '<td class="num">{}</td>', ((v,) for v in values))


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
    return {"labels": period_labels(kpis), "rows": rows}


def movement_rows(kpis: list[PeriodKpis]) -> list[dict[str, Any]]:
    rows = []
    for p in reversed(kpis):
        rows.append(
            {
                "period": period_label(p),
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


def cohort_rows(rows: list[CohortRow], basis: str) -> list[dict[str, Any]]:
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
    kpis = kpi_series(filters)
    compared = comparison(kpis, filters)
    cohort_list = cohorts(filters)
    # Years of monthly cohorts make a heatmap too tall to read: the page shows the newest
    # ones and says so; the downloads keep every cohort.
    shown = cohort_list[-DASHBOARD_COHORTS:]
    return {
        "kpis": kpis,
        "current": compared.current if compared else None,
        "previous": compared.previous if compared else None,
        "to_date": bool(kpis) and any(p.to_date for p in kpis),
        "tile_groups": tile_groups(kpis, filters, compared),
        **compare_context(compared, filters, running=bool(kpis) and kpis[-1].to_date),
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
        "cohorts": cohort_list,
        "cohorts_hidden": len(cohort_list) - len(shown),
        "cohort_logo_rows": cohort_rows(shown, "logo"),
        "cohort_revenue_rows": cohort_rows(shown, "revenue"),
        "cohort_range": range(max((len(r.logo) for r in shown), default=0)),
        "movement_rows": movement_rows(kpis),
        "kpi_table": kpi_table(kpis),
        "channel_rows": channel_rows(filters),
        # The channel table runs to this month at the latest (like by_channel).
        "channel_end": min(filters.months()[1], timezone.now().date().replace(day=1))
        if kpis
        else None,
        **survival_context(filters, "all"),
    }


def report_data(filters: Filters, month: date) -> dict[str, Any]:
    # A year of months ending at the report month: the last two give the tiles, the whole
    # year the lifetime value (as the dashboard's default range does).
    year = replace(filters, period="month", start=month - relativedelta(months=11), end=month)
    kpis = kpi_series(year)
    # The report's month against the month before; a month still running against the same
    # days of the month before.
    compared = comparison(kpis, replace(year, compare="to_date"))
    groups = tile_groups(kpis, filters, compared)
    current = compared.current if compared else None
    previous = compared.previous if compared else None
    cohort_filters = replace(
        year, start=month - relativedelta(months=REPORT_COHORTS - 1), end=month
    )
    report_cohorts = []
    for row in cohorts(cohort_filters):
        # Cells after the report month exist for past months; the report stops at its month.
        age = (month.year - row.cohort.year) * 12 + month.month - row.cohort.month
        shown = [display(v, "percent") for v in row.logo[: age + 1]]
        report_cohorts.append(
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
        "current_label": span_label(current, compared),
        "previous_label": span_label(previous, compared),
        "tile_groups": groups,
        "movements": movements,
        "report_cohorts": report_cohorts,
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
    if filters.segment is not None:
        segments = dict(choices.get("segments", []))
        out.append(
            _("Segment: %(v)s") % {"v": segments.get(filters.segment, f"#{filters.segment}")}
        )
    return out
