"""Revenue & retention pages: the dashboard, its table downloads and the monthly KPI report.

Parse the filters → authorize (every role reads; refreshing needs a role that writes) → read
``tend.metrics.series`` (never the snapshot tables) → render. A filter that cannot be used
answers 400 with a message naming the parameter, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe
from django_tasks import TaskResultStatus

from tend.billing.models import MrrMovement, Plan
from tend.customers.models import Channel, Tag
from tend.lib.access import can_write, require_write
from tend.metrics import charts, exports, formulas, series
from tend.metrics.series import FilterError, Filters, PeriodKpis
from tend.metrics.tasks import metrics_refresh
from tend.web.templatetags.tend_ui import CURRENCY_SYMBOLS

SURVEY_KEYS = ("nps", "csat", "csi", "ces", "satisfaction_ratio")
REVENUE_KEYS = ("mrr", "arr", "net_new_mrr", "customers", "arpa")
RETENTION_KEYS = ("logo_churn", "revenue_churn", "crr", "grr", "nrr", "cer", "renewal_rate")
VALUE_KEYS = ("clv_simple", "cac", "ltv_cac", "cac_payback")
REPORT_COHORTS = 6


# --- parsing ----------------------------------------------------------------------------------


def _choices() -> dict[str, Any]:
    """What the filter bar offers: plans, channels and tags (small tables, one query each)."""
    return {
        "plans": list(Plan.objects.order_by("name").values_list("pk", "name")),
        "channels": list(Channel.choices),
        "tags": list(Tag.objects.order_by("name").values_list("name", flat=True)),
        "periods": [("month", _("Months")), ("quarter", _("Quarters")), ("year", _("Years"))],
    }


def _parse(data: Mapping[str, Any], plans: list[tuple[int, str]]) -> Filters:
    filters = Filters.parse(data)
    known = {pk for pk, _name in plans}
    for pk in filters.plans:
        if pk not in known:
            raise FilterError("plan", f"no plan with id {pk}")
    return filters


def _query(filters: Filters, **extra: Any) -> str:
    return urlencode({**filters.as_query(), **extra}, doseq=True)


def _error_text(exc: FilterError) -> str:
    return _("The filter “%(field)s” cannot be used: %(message)s") % {
        "field": exc.field,
        "message": exc.message,
    }


# --- formatting -----------------------------------------------------------------------------

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
    "cac": gettext_lazy("CAC"),
    "ltv_cac": gettext_lazy("LTV:CAC"),
    "cac_payback": gettext_lazy("CAC payback"),
    "referral_rate": gettext_lazy("Referral rate"),
}


def _meta(key: str) -> tuple[str, str, str, bool]:
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


def _change(current: Any, previous: Any, unit: str) -> tuple[float | None, str]:
    if unit == "percent":
        return formulas.point_change(current=current, previous=previous), "points"
    return formulas.percent_change(current=current, previous=previous), "percent"


def tile(key: str, value: Any, previous: Any, *, has_previous: bool = True) -> dict[str, Any]:
    """One KPI tile: formatted value, change against the previous period, colour and formula."""
    label, formula, unit, better = _meta(key)
    change, kind = _change(value, previous, unit) if has_previous else (None, "")
    big = key in ("mrr", "arr", "net_new_mrr", "clv_simple")
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


# --- dashboard ------------------------------------------------------------------------------


def _state() -> dict[str, Any]:
    """Where the data stand: no billing at all, snapshots never built, or ready."""
    fresh = series.freshness()
    built_at = fresh["built_at"]
    now = timezone.now()
    return {
        "freshness": fresh,
        "has_billing": MrrMovement.objects.exists(),
        "built": built_at is not None,
        "stale": built_at is not None and fresh["stale_after"] < now,
    }


def _tile_groups(kpis: list[PeriodKpis], filters: Filters) -> list[dict[str, Any]]:
    by_key = {t.key: t for t in series.tiles(kpis)}
    has_previous = len(kpis) > 1
    revenue = [
        tile(k, by_key[k].value, by_key[k].previous, has_previous=has_previous)
        for k in REVENUE_KEYS
    ]
    retention = [
        tile(k, by_key[k].value, by_key[k].previous, has_previous=has_previous)
        for k in RETENTION_KEYS
    ]
    # Lifetime value and acquisition cover the whole range; "previous" is the same figure
    # over the range that ends one period earlier.
    now = series.lifetime_value(kpis)
    before = series.lifetime_value(kpis[:-1]) if has_previous else {}
    value = [tile(k, now[k], before.get(k), has_previous=has_previous) for k in VALUE_KEYS]
    if now["monthly_churn"] is not None and now["arpa"] is not None:
        value[0]["note"] = _("ARPA %(arpa)s × margin %(margin)s ÷ churn %(churn)s a month") % {
            "arpa": display(now["arpa"], "money"),
            "margin": f"{float(now['gross_margin']) * 100:.0f}%",
            "churn": display(now["monthly_churn"], "percent"),
        }
    value[1]["note"] = _("%(cost)s for %(n)s customers") % {
        "cost": display(now["acquisition_cost"], "money", whole=True),
        "n": f"{now['acquired']:,}",
    }
    referral = series.referral_rate(filters)
    ref = tile("referral_rate", referral["referral_rate"], None, has_previous=False)
    ref["note"] = _("%(referrers)s of %(customers)s customers, all time") % {
        "referrers": f"{referral['referrers']:,}",
        "customers": f"{referral['customers']:,}",
    }
    value.append(ref)
    return [
        {"key": "revenue", "title": _("Revenue"), "tiles": revenue},
        {"key": "retention", "title": _("Retention"), "tiles": retention},
        {
            "key": "value",
            "title": _("Lifetime value and acquisition, over the range"),
            "tiles": value,
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
                "formula": _meta(column.key)[1] if known else "",
                "cells": cells([display(r.get(column.key), column.kind) for r in records]),
            }
        )
    return {"labels": charts.period_labels(kpis), "rows": rows}


def _movement_rows(kpis: list[PeriodKpis]) -> list[dict[str, Any]]:
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


def _cohort_rows(rows: list[series.CohortRow], basis: str) -> list[dict[str, Any]]:
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


def _channel_rows(filters: Filters) -> list[dict[str, Any]]:
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


def _goals_panel() -> str | None:
    try:
        return reverse("goals:panel")
    except NoReverseMatch:
        return None


def _base_context(request: HttpRequest, choices: dict[str, Any]) -> dict[str, Any]:
    return {
        **choices,
        "can_write": can_write(request.user),
        "currency": settings.TEND_CURRENCY,
        "export_formats": exports.FORMATS,
        "goals_panel_url": _goals_panel(),
    }


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """Revenue & retention: KPI tiles, charts and tables for the chosen filters."""
    choices = _choices()
    context = _base_context(request, choices)
    context["raw"] = request.GET
    context.update(_state())
    try:
        filters = _parse(request.GET, choices["plans"])
        context.update(filters=filters, filter_query=_query(filters))
        first, last = filters.months()
        context.update(range_start=first, range_end=last)
        if context["has_billing"] and context["built"]:
            context.update(_dashboard_data(filters))
    except FilterError as exc:
        context.update(error=_error_text(exc), error_field=exc.field, filter_query="")
        return render(request, "metrics/dashboard.html", context, status=400)
    return render(request, "metrics/dashboard.html", context)


def _dashboard_data(filters: Filters) -> dict[str, Any]:
    kpis = series.kpi_series(filters)
    cohorts = series.cohorts(filters)
    current = kpis[-1] if kpis else None
    return {
        "kpis": kpis,
        "current": current,
        "previous": kpis[-2] if len(kpis) > 1 else None,
        "to_date": bool(kpis) and any(p.to_date for p in kpis),
        "tile_groups": _tile_groups(kpis, filters),
        "no_customers": not any(p.customers_end or p.customers_start for p in kpis),
        "figures": {
            "movements": charts.movements_figure(kpis),
            "mrr": charts.mrr_figure(kpis),
            "churn": charts.churn_figure(kpis),
            "retention": charts.retention_figure(kpis),
            "cohorts_logo": charts.cohort_figure(cohorts, basis="logo"),
            "cohorts_revenue": charts.cohort_figure(cohorts, basis="revenue"),
        },
        "cohort_height": charts.cohort_height(cohorts),
        "cohorts": cohorts,
        "cohort_logo_rows": _cohort_rows(cohorts, "logo"),
        "cohort_revenue_rows": _cohort_rows(cohorts, "revenue"),
        "cohort_range": range(max((len(r.logo) for r in cohorts), default=0)),
        "movement_rows": _movement_rows(kpis),
        "kpi_table": kpi_table(kpis),
        "channel_rows": _channel_rows(filters),
        **survival_context(filters, "all"),
    }


@require_safe
def survival_panel(request: HttpRequest) -> HttpResponse:
    """The survival card for another grouping (htmx swaps it in place)."""
    choices = _choices()
    try:
        filters = _parse(request.GET, choices["plans"])
        by = request.GET.get("by") or "all"
        if by not in ("all", "plan", "channel"):
            raise FilterError("by", "must be all, plan or channel")
        context = {**survival_context(filters, by), "filter_query": _query(filters)}
    except FilterError as exc:
        return HttpResponse(_error_text(exc), status=400, content_type="text/plain; charset=utf-8")
    context["export_formats"] = exports.FORMATS
    return render(request, "metrics/_survival.html", context)


@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    """Queue a rebuild of the snapshots (owners and members; a viewer gets 403)."""
    require_write(request.user)
    result = metrics_refresh.enqueue()
    if result.status == TaskResultStatus.SUCCESSFUL:
        messages.success(request, _("The figures were recomputed."))
    else:
        messages.info(
            request,
            _("The figures are being recomputed in the background; reload in a minute."),
        )
    target = reverse("metrics:dashboard")
    try:
        query = _query(Filters.parse(QueryDict(request.POST.get("query", ""))))
    except FilterError:
        query = ""
    return redirect(f"{target}?{query}" if query else target)


@require_safe
def export(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    """One table of the page as CSV or XLSX, for the same filters."""
    if name not in exports.TABLES or fmt not in exports.FORMATS:
        raise Http404(_("No such table or format."))
    try:
        filters = _parse(request.GET, list(Plan.objects.values_list("pk", "name")))
        built = exports.build(name, filters)
        first, last = filters.months()
    except FilterError as exc:
        return HttpResponse(_error_text(exc), status=400, content_type="text/plain; charset=utf-8")
    stem = f"tend-{slugify(name)}-{first:%Y-%m}-{last:%Y-%m}"
    if fmt == "csv":
        response = HttpResponse(exports.to_csv(built), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            exports.to_xlsx(built),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


# --- monthly report ---------------------------------------------------------------------------


def _report_month(raw: str | None, today: date) -> date:
    """The month asked for, or the last full month; FilterError names "month"."""
    if not raw:
        return today.replace(day=1) - relativedelta(months=1)
    try:
        month = datetime.strptime(raw.strip(), "%Y-%m").date()
    except ValueError:
        raise FilterError("month", f"{raw!r} is not a month (YYYY-MM)") from None
    if month > today.replace(day=1):
        raise FilterError("month", "must not be in the future")
    return month


@require_safe
def report(request: HttpRequest) -> HttpResponse:
    """One month's KPIs against the month before, movements, cohorts and every formula."""
    choices = _choices()
    context = _base_context(request, choices)
    today = timezone.now().date()
    context.update(_state())
    try:
        month = _report_month(request.GET.get("month"), today)
        data = request.GET.copy()
        for name in ("period", "start", "end", "month"):
            data.pop(name, None)
        filters = _parse(data, choices["plans"])
        context.update(month=month, filters=filters)
        context["filter_query"] = _query(filters)
        if context["has_billing"] and context["built"]:
            context.update(_report_data(filters, month))
    except FilterError as exc:
        context.update(error=_error_text(exc), error_field=exc.field)
        return render(request, "metrics/report.html", context, status=400)
    context["filter_labels"] = _filter_labels(filters, choices)
    return render(request, "metrics/report.html", context)


def _report_data(filters: Filters, month: date) -> dict[str, Any]:
    # A year of months ending at the report month: the last two give the tiles, the whole
    # year the lifetime value (as the dashboard's default range does).
    year = replace(filters, period="month", start=month - relativedelta(months=11), end=month)
    kpis = series.kpi_series(year)
    groups = _tile_groups(kpis, filters)
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
        {"label": _meta(k)[0], "formula": _meta(k)[1]}
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


def _filter_labels(filters: Filters, choices: dict[str, Any]) -> list[str]:
    plans = dict(choices["plans"])
    channels = dict(choices["channels"])
    out = []
    if filters.plans:
        out.append(_("Plan: %(v)s") % {"v": ", ".join(plans.get(p, str(p)) for p in filters.plans)})
    if filters.channels:
        out.append(
            _("Channel: %(v)s") % {"v": ", ".join(str(channels[c]) for c in filters.channels)}
        )
    if filters.countries:
        out.append(_("Country: %(v)s") % {"v": ", ".join(filters.countries)})
    if filters.tags:
        out.append(_("Tag: %(v)s") % {"v": ", ".join(filters.tags)})
    return out
