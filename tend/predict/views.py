"""The churn model page (/predict/): how well the active model predicted the past next to the
baseline, its calibration and lift, what it looks at, today's risk distribution and every
training run; or, when no model could be trained, why and what to do.

Everyone logged in reads it; only owners start a training run (it is configuration, like
the health scorecards, and costs the worker minutes).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from tend.lib.access import can_manage, require_manage
from tend.predict import churn_display as display
from tend.predict.models import ChurnModel, ChurnScore, TrainingStatus

HISTORY_ROWS = 20
LIFETIME_SUMMARY = "predict/_lifetime_summary.html"


def _url_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def history_rows(models: list[ChurnModel]) -> list[dict[str, Any]]:
    rows = []
    for m in models:
        ours, _base = display.chosen_metrics(m)
        auc = display._num(ours.get("auc"))
        rows.append(
            {
                "model": m,
                "auc": None if auc is None else f"{auc:.2f}",
                "message": display.not_enough_data_text(m)
                if m.status == TrainingStatus.NOT_ENOUGH_DATA
                else display.model_message(m),
            }
        )
    return rows


def distribution(day: Any) -> dict[str, Any]:
    """Today's (the latest scored day's) risk histogram and the top decile's threshold."""
    if day is None:
        return {"day": None, "figure": None, "total": 0}
    highest = ChurnScore.objects.filter(day=day).aggregate(m=Max("risk"))["m"]
    top = display.histogram_top(highest)
    counts = display.risk_histogram(day, top)
    threshold: float | None = (
        ChurnScore.objects.filter(day=day, percentile__gte=display.TOP_DECILE)
        .order_by("risk")
        .values_list("risk", flat=True)
        .first()
    )
    return {
        "day": day,
        "figure": display.histogram_figure(counts, threshold, top),
        "total": sum(counts),
        "top_threshold": threshold,
    }


def churn_context(request: HttpRequest) -> dict[str, Any]:
    runs = list(ChurnModel.objects.defer("artifact").order_by("-version")[:HISTORY_ROWS])
    active = next((m for m in runs if m.is_active and m.status == TrainingStatus.TRAINED), None)
    if active is None:
        active = ChurnModel.objects.defer("artifact").active()
    # No active model but a trained traits-only run (cross-validated on a CRM export): show its
    # backtest, saying it does not score customers daily.
    inactive = False
    if active is None:
        active = next((m for m in runs if m.status == TrainingStatus.TRAINED), None)
        inactive = active is not None
    latest = runs[0] if runs else None
    context: dict[str, Any] = {
        "active": active,
        "shown_inactive": inactive,
        "latest": latest,
        "history": history_rows(runs),
        "runs_total": ChurnModel.objects.count() if len(runs) == HISTORY_ROWS else len(runs),
        "can_train": can_manage(request.user),
        "train_available": display_train_available(),
        "lifetime_url": _url_or_none("predict:lifetime"),
        "lifetime_summary": LIFETIME_SUMMARY if _template_exists(LIFETIME_SUMMARY) else None,
        "earns_auc_gap": display.EARNS_ITS_PLACE_AUC,
    }
    if latest is not None and latest.status != TrainingStatus.TRAINED:
        context["latest_problem"] = (
            display.not_enough_data_text(latest)
            if latest.status == TrainingStatus.NOT_ENOUGH_DATA
            else display.model_message(latest) or _("The last training run failed.")
        )
        context["latest_not_enough"] = latest.status == TrainingStatus.NOT_ENOUGH_DATA
    if active is not None:
        importances = display.importance_rows(active)
        context.update(
            metrics=display.metric_rows(active),
            verdict=display.verdict(active),
            baseline_words=display.baseline_words(active),
            reliability_figure=display.reliability_figure(active),
            lift_figure=display.lift_figure(active),
            importances=importances,
            distribution=distribution(display.latest_score_day()),
        )
    return context


def display_train_available() -> bool:
    from tend.predict.training_queue import train_task

    return train_task() is not None


@require_safe
def churn(request: HttpRequest) -> HttpResponse:
    return render(request, "predict/churn.html", churn_context(request))


@require_POST
def churn_train(request: HttpRequest) -> HttpResponse:
    """Queue a training run now (owners only; a member or viewer gets 403)."""
    from tend.predict.training_queue import churn_train_enqueue

    user = require_manage(request.user)
    outcome, _result = churn_train_enqueue(by=user)
    if outcome == "missing":
        messages.error(request, _("Training is not available in this installation yet."))
    elif outcome == "done":
        messages.success(request, _("The model was trained; the page shows the new run."))
    else:
        messages.info(
            request,
            _("Training started in the background; reload this page in a few minutes."),
        )
    return redirect("predict:churn")
