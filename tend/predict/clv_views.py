"""The CLV page (/predict/clv/) and the customer page's CLV panel.

Every role reads; owners refit (a fit replaces every customer's CLV, like a setting).
The page reads the latest fit, the latest trained one (when the latest could not fit) and
the top customers: a fixed number of queries whatever the number of customers.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tend.lib.access import can_manage, require_manage
from tend.lib.money import format_money
from tend.metrics.chart_parts import AXIS, CONFIG, LAYOUT
from tend.predict.clv_actions import clv_fit_run
from tend.predict.errors import message_text
from tend.predict.models import ClvFit, ClvModelKind, CustomerClv, TrainingStatus

TOP_CUSTOMERS = 20

# Greek letters for the parameters' names (BG/NBD r, α, a, b; Pareto/NBD r, α, s, β;
# Gamma-Gamma p, q, γ).
SYMBOLS = {"alpha": "α", "beta": "β", "gamma": "γ", "v": "γ"}

FORMULAS: dict[str, Any] = {
    "expected_purchases": gettext_lazy(
        "Expected purchases = E[X(t) | x, tₓ, T]: purchases in the next t periods predicted by "
        "the purchase model from x repeat purchases, the time tₓ of the last one and the time T "
        "since the first"
    ),
    "p_alive": gettext_lazy(
        "P(alive) = probability that the customer has not left for good, given x, tₓ and T; "
        "BG/NBD: 1 ÷ (1 + a ÷ (b + x − 1) × ((α + T) ÷ (α + tₓ))^(r + x)), 1 when x = 0"
    ),
    "expected_spend": gettext_lazy(
        "Expected spend per purchase = (γ + m̄ × x) × p ÷ (p × x + q − 1) (Gamma-Gamma): the "
        "customer's mean repeat purchase m̄ weighed against the mean of all customers"
    ),
    "clv": gettext_lazy(
        "CLV = Σₖ₌₁ⁿ (E[X(k months)] − E[X(k − 1 months)]) × expected spend ÷ (1 + d)ᵏ: "
        "expected revenue in each of the next n months, discounted by d = (1 + yearly "
        "rate)^(1/12) − 1 a month"
    ),
    "holdout": gettext_lazy(
        "Holdout check: fit on the orders before the cutoff, then compare Σ E[X(t) | x, tₓ, T] "
        "over the customers seen before it (t = the holdout length) with their purchase days "
        "in [cutoff, end)"
    ),
    "log_likelihood": gettext_lazy(
        "Log-likelihood = Σ ln P(x, tₓ, T | parameters) over the customers, at the maximum; "
        "higher is better, only comparable on the same data"
    ),
}

PERIOD_UNITS = {
    1: pgettext_lazy("period", "days"),
    7: pgettext_lazy("period", "weeks"),
}


def period_unit(days: int) -> str:
    """ "weeks" for 7-day periods, "days" for 1, else "periods of N days"."""
    unit = PERIOD_UNITS.get(days)
    if unit is not None:
        return str(unit)
    return _("periods of %(days)s days") % {"days": days}


def fit_message(fit: ClvFit) -> str:
    """A not-enough-data fit's message in the reader's language."""
    params = dict(fit.message_params or {})
    message_id = params.pop("message_id", "") or fit.message
    return message_text(str(message_id), params)


def params_table(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": SYMBOLS.get(k, k), "value": v} for k, v in params.items()]


def latest_fits() -> tuple[ClvFit | None, ClvFit | None]:
    """The latest fit and the latest trained one (the same row when the latest trained)."""
    latest = ClvFit.objects.order_by("-fitted_at", "-id").first()
    if latest is None or latest.status == TrainingStatus.TRAINED:
        return latest, latest
    trained = (
        ClvFit.objects.filter(status=TrainingStatus.TRAINED).order_by("-fitted_at", "-id").first()
    )
    return latest, trained


def _histogram_figure(
    histogram: dict[str, Any], *, money: str | None, x_title: str, colour: str
) -> dict[str, Any] | None:
    edges, counts = histogram.get("edges") or [], histogram.get("counts") or []
    if len(edges) != len(counts) + 1 or not counts:
        return None
    if money is not None:
        labels = [
            f"{format_money(lo, money, 0)}–{format_money(hi, money, 0)}"
            for lo, hi in pairwise(edges)
        ]
    else:
        labels = [f"{lo:.1f}–{hi:.1f}" for lo, hi in pairwise(edges)]
    return {
        "data": [
            {
                "type": "bar",
                "x": labels,
                "y": counts,
                "marker": {"color": colour},
                "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            }
        ],
        "layout": {
            **LAYOUT,
            "height": 220,
            "hovermode": "closest",
            "bargap": 0.05,
            "xaxis": {
                **AXIS,
                "type": "category",
                "title": {"text": x_title, "font": {"size": 11}},
                "tickangle": -45 if money is not None else 0,
                "nticks": 6,
            },
            "yaxis": {**AXIS, "showgrid": True, "gridcolor": "#eef1f4", "rangemode": "tozero"},
            "showlegend": False,
        },
        "config": CONFIG,
    }


def page_context(fit: ClvFit | None) -> dict[str, Any]:
    """What the page shows of a trained fit: parameters, holdout, charts, top customers."""
    if fit is None:
        return {}
    diagnostics = fit.diagnostics or {}
    holdout = dict(diagnostics.get("holdout") or {})
    if holdout.get("status") == TrainingStatus.NOT_ENOUGH_DATA:
        holdout["text"] = message_text(
            str(holdout.get("message_id", "")), dict(holdout.get("params") or {})
        )
    if holdout.get("error") is not None:
        holdout["error_percent"] = holdout["error"] * 100
    top = list(
        CustomerClv.objects.filter(fit=fit)
        .select_related("customer")
        .order_by("-clv", "customer_id")[:TOP_CUSTOMERS]
    )
    return {
        "params": params_table(fit.params),
        "spend_params": params_table(fit.spend_params),
        "holdout": holdout,
        "top": top,
        "diagnostics": diagnostics,
        "unit": period_unit(fit.period_days),
        "discount_percent": fit.discount_rate * 100,
        "clv_figure": _histogram_figure(
            diagnostics.get("clv_histogram") or {},
            money=fit.currency,
            x_title=_("CLV"),
            colour="#2f6fb0",
        ),
        "alive_figure": _histogram_figure(
            diagnostics.get("p_alive_histogram") or {},
            money=None,
            x_title=_("P(alive)"),
            colour="#4a9a6a",
        ),
    }


@require_GET
def clv_page(request: HttpRequest) -> HttpResponse:
    """The latest CLV fit: parameters, log-likelihood, holdout check, distributions, top
    customers; the reason when there was too little data."""
    latest, trained = latest_fits()
    context: dict[str, Any] = {
        "latest": latest,
        "fit": trained,
        "latest_message": fit_message(latest)
        if latest is not None and latest.status != TrainingStatus.TRAINED
        else "",
        "can_refit": can_manage(request.user),
        "kinds": ClvModelKind.choices,
        "formulas": FORMULAS,
        **page_context(trained),
    }
    return render(request, "predict/clv.html", context)


@require_POST
def clv_refit(request: HttpRequest) -> HttpResponse:
    """Refit now (owners): with the model chosen on the form, else ``TEND_CLV_MODEL``."""
    user = require_manage(request.user)
    kind = request.POST.get("model", "") or None
    if kind is not None and kind not in ClvModelKind.values:
        messages.error(request, _("Choose BG/NBD or Pareto/NBD."))
        return redirect(reverse("predict:clv"))
    fit = clv_fit_run(by=user, kind=kind)
    if fit.status == TrainingStatus.TRAINED:
        messages.success(
            request,
            _("CLV refitted with %(model)s for %(n)s customers.")
            % {"model": fit.get_kind_display(), "n": f"{fit.customers:,}"},
        )
    else:
        messages.error(request, fit_message(fit))
    return redirect(reverse("predict:clv"))


# --- the customer page's panel ---------------------------------------------------------------


def clv_panel_context(request: HttpRequest, customer: Any) -> dict[str, Any] | None:
    """The customer's CLV from the latest trained fit; left out for a customer without one
    (no paid order when the models were fitted). One query."""
    row = CustomerClv.objects.select_related("fit").filter(customer_id=customer.pk).first()
    if row is None:
        return None
    fit = row.fit
    return {
        "clv": row,
        "clv_fit": fit,
        "clv_unit": period_unit(fit.period_days),
        "clv_formulas": FORMULAS,
        "clv_purchase_days": row.frequency + 1,
    }


def register_panel() -> None:
    from tend.web.panels import Panel, panels

    if "clv" not in panels:
        panels.register(
            Panel(
                name="clv",
                template="predict/clv_panel.html",
                context=clv_panel_context,
                order=25,
                column="main",
            )
        )
