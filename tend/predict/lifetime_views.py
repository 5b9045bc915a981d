"""/predict/lifetime/: how long subscription customers stay (sBG projection per cohort and for
all customers), what they are worth over that projection, and which traits known at the start
lengthen or shorten their lifetime (Cox). Everyone reads; owners refit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from tend.lib.access import can_manage, require_manage
from tend.metrics.chart_parts import AXIS, GRID, figure, percent_axis
from tend.metrics.charts import GROUP_COLOURS
from tend.metrics.tile_view import display
from tend.predict.models import RetentionFit, RetentionFitKind, TrainingStatus
from tend.predict.retention import ALL, clv_months, fit_message, latest_run, lifetime_fit

COHORTS_CHARTED = 6
COX_FINDINGS = 5  # the clearest effects, in plain words above the table


def fit_figure(fits: list[tuple[str, RetentionFit]]) -> dict[str, Any]:
    """Observed share still paying (markers) and the sBG projection (line) per fit."""
    data: list[dict[str, Any]] = []
    for i, (label, row) in enumerate(fits):
        colour = GROUP_COLOURS[i % len(GROUP_COLOURS)]
        results = row.results
        actual = results.get("actual") or []
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": label,
                "x": results.get("months", []),
                "y": results.get("projected", []),
                "line": {"color": colour, "width": 2},
                "legendgroup": str(i),
                "hovertemplate": _("%(label)s, month %(month)s: %(value)s projected")
                % {"label": label, "month": "%{x}", "value": "%{y:.1f}%"}
                + "<extra></extra>",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": label,
                "showlegend": False,
                "x": list(range(len(actual))),
                "y": actual,
                "marker": {"color": colour, "size": 6, "symbol": "circle-open"},
                "legendgroup": str(i),
                "hovertemplate": _("%(label)s, month %(month)s: %(value)s still paying")
                % {"label": label, "month": "%{x}", "value": "%{y:.1f}%"}
                + "<extra></extra>",
            }
        )
    return figure(
        data,
        {
            "hovermode": "closest",
            "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            "xaxis": {
                **AXIS,
                "title": {"text": _("Months since first payment"), "font": {"size": 11}},
                "showgrid": True,
                "gridcolor": GRID,
            },
            "yaxis": percent_axis(range=[0, 101]),
        },
    )


def param_text(value: float) -> str:
    """α or β: three decimals, whole numbers once large (customers alike: α, β huge)."""
    return f"{value:,.3f}" if value < 1000 else f"{value:,.0f}"


def _cohort_row(row: RetentionFit) -> dict[str, Any]:
    trained = row.status == TrainingStatus.TRAINED
    results = row.results if trained else {}
    projected = results.get("projected") or []
    return {
        "cohort": row.cohort,
        "customers": row.customers,
        "events": row.events,
        "trained": trained,
        "status": row.get_status_display(),
        "message": "" if trained else fit_message(row),
        "alpha": param_text(row.params["alpha"]) if trained else "—",
        "beta": param_text(row.params["beta"]) if trained else "—",
        "lifetime": display(results.get("expected_lifetime_months"), "months"),
        "month12": display(projected[12], "percent") if len(projected) > 12 else "—",
        "gap": f"{results['fit_gap_points']:.1f}"
        if results.get("fit_gap_points") is not None
        else "—",
    }


def _cox_rows(row: RetentionFit) -> list[dict[str, Any]]:
    out = []
    for c in row.params.get("covariates", []):
        hr, lower, upper = c["hr"], c["lower"], c["upper"]
        name = _variable_label(c["variable"])
        if c["variable"] == "mrr_start":
            who = _("Each %(unit)s %(currency)s more MRR in the first month") % {
                "unit": f"{row.params.get('mrr_unit', 100):,.0f}",
                "currency": row.params.get("currency", ""),
            }
            level = _("per %(unit)s") % {"unit": f"{row.params.get('mrr_unit', 100):,.0f}"}
            reference = "—"
        else:
            level, reference = _level_label(c["level"]), _level_label(c["reference"])
            who = _("Customers with %(variable)s “%(level)s”") % {
                "variable": name.lower(),
                "level": level,
            }
        numbers = {
            "who": who,
            "hr": f"{hr:.2f}",
            "reference": reference,
            "lower": f"{lower:.2f}",
            "upper": f"{upper:.2f}",
        }
        if c["variable"] == "mrr_start":
            sentence = _(
                "%(who)s: customers leave at %(hr)s× the rate (95%% CI %(lower)s–%(upper)s)"
            )
        else:
            sentence = _(
                "%(who)s leave at %(hr)s× the rate of “%(reference)s” (95%% CI %(lower)s–%(upper)s)"
            )
        if lower <= 1 <= upper:
            effect, tone = _("no clear effect: the interval spans 1"), "muted"
        elif hr < 1:
            effect, tone = _("lengthens lifetime"), "good"
        else:
            effect, tone = _("shortens lifetime"), "bad"
        out.append(
            {
                "variable": name,
                "level": level,
                "reference": reference,
                "hr": f"{hr:.2f}",
                "ci": f"{lower:.2f}–{upper:.2f}",
                "p": "< 0.001" if c["p"] < 0.001 else f"{c['p']:.3f}",
                "coef": f"{c['coef']:+.3f}",
                "reading": sentence % numbers,
                "effect": effect,
                "tone": tone,
                "strength": abs(c["coef"]),
            }
        )
    return out


def _variable_label(variable: str) -> str:
    return {
        "plan": _("Plan"),
        "channel": _("Acquisition channel"),
        "industry": _("Industry"),
        "size_band": _("Employees"),
        "country": _("Country"),
        "mrr_start": _("First month's MRR"),
    }.get(variable, variable)


def _level_label(level: str) -> str:
    if level == "\x00other":
        return _("other")
    return level or _("(none)")


def _clv(pooled: RetentionFit | None) -> dict[str, Any]:
    """The simple and the sBG subscription CLV over the dashboard's default range."""
    from tend.metrics.filters import Filters
    from tend.metrics.kpis import kpi_series
    from tend.metrics.value import lifetime_value

    value = lifetime_value(kpi_series(Filters()))
    return {
        "simple": display(value.get("clv_simple"), "money", whole=True),
        "sbg": display(value.get("clv_sbg"), "money", whole=True),
        "arpa": display(value.get("arpa"), "money"),
        "margin": f"{float(value['gross_margin']) * 100:.0f}%",
        "churn": display(value.get("monthly_churn"), "percent"),
        "discount": f"{float(value['clv_discount_rate']) * 100:.0f}%",
        "months": value.get("clv_sbg_months") or clv_months(),
        "discounted_months": f"{value['clv_sbg_discounted_months']:.1f}"
        if value.get("clv_sbg_discounted_months") is not None
        else "—",
    }


@require_safe
def lifetime(request: HttpRequest) -> HttpResponse:
    rows = latest_run()
    pooled = next((r for r in rows if r.kind == RetentionFitKind.SBG and r.cohort == ALL), None)
    cohorts = [r for r in rows if r.kind == RetentionFitKind.SBG and r.cohort != ALL]
    cox = next((r for r in rows if r.kind == RetentionFitKind.COX), None)
    cox_rows = _cox_rows(cox) if cox is not None and cox.status == TrainingStatus.TRAINED else []
    trained_pooled = pooled is not None and pooled.status == TrainingStatus.TRAINED
    charted = [r for r in cohorts if r.status == TrainingStatus.TRAINED][:COHORTS_CHARTED]
    pooled_results = pooled.results if trained_pooled and pooled else {}
    context: dict[str, Any] = {
        "can_refit": can_manage(request.user),
        "fitted": bool(rows),
        "fitted_at": rows[0].fitted_at if rows else None,
        "pooled": pooled,
        "pooled_trained": trained_pooled,
        "pooled_message": fit_message(pooled) if pooled and not trained_pooled else "",
        "alpha": param_text(pooled.params["alpha"]) if trained_pooled and pooled else "",
        "beta": param_text(pooled.params["beta"]) if trained_pooled and pooled else "",
        "polarization": f"{pooled_results['polarization']:.3f}"
        if pooled_results.get("polarization") is not None
        else "—",
        "mean_churn": display(pooled_results.get("mean_churn"), "percent"),
        "lifetime": display(pooled_results.get("expected_lifetime_months"), "months"),
        "lifetime_unbounded": display(pooled_results.get("expected_lifetime_unbounded"), "months")
        if pooled_results.get("expected_lifetime_unbounded") is not None
        else "",
        "lifetime_cap": pooled_results.get("lifetime_cap_months", clv_months()),
        "median": display(pooled_results.get("median_months"), "months"),
        "retention_first": display((pooled_results.get("retention") or [None])[0], "percent"),
        "retention_year": display(
            (pooled_results.get("retention") or [None] * 12)[11]
            if len(pooled_results.get("retention") or []) > 11
            else None,
            "percent",
        ),
        "remaining": [
            {
                "after": r["after"],
                "months": display(r["months"], "months"),
                "derl": "—" if r["derl"] is None else f"{r['derl']:.1f}",
            }
            for r in pooled_results.get("remaining", [])
        ],
        "pooled_figure": fit_figure([(_("All customers"), pooled)])
        if trained_pooled and pooled is not None
        else None,
        "cohort_figure": fit_figure([(r.cohort, r) for r in charted]) if charted else None,
        "cohorts": [_cohort_row(r) for r in cohorts],
        "cox": cox,
        "cox_trained": cox is not None and cox.status == TrainingStatus.TRAINED,
        "cox_message": fit_message(cox)
        if cox is not None and cox.status != TrainingStatus.TRAINED
        else "",
        "cox_rows": cox_rows,
        "cox_findings": sorted(
            (r for r in cox_rows if r["tone"] != "muted"), key=lambda r: r["strength"], reverse=True
        )[:COX_FINDINGS],
        "concordance": f"{cox.results['concordance']:.3f}"
        if cox is not None and cox.status == TrainingStatus.TRAINED
        else "",
        "clv": _clv(pooled) if rows else None,
    }
    return render(request, "predict/lifetime.html", context)


@require_POST
def lifetime_refit(request: HttpRequest) -> HttpResponse:
    by = require_manage(request.user)
    summary = lifetime_fit(by=by)
    messages.success(
        request,
        _("Refitted: %(trained)s sBG fits, %(short)s without enough data; Cox: %(cox)s.")
        % {
            "trained": summary["sbg"]["trained"],
            "short": summary["sbg"]["not_enough_data"],
            "cox": TrainingStatus(summary["cox"]).label,
        },
    )
    return redirect("predict:lifetime")
