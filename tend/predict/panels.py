"""The customer page's churn-risk panel: risk now with its rank ("top 5%"), the 90-day trend,
the drivers that raise and lower it in plain words, and which model scored it. One query (the
customer's last 90 scores with their model)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tend.predict import churn_display as display
from tend.predict.models import ChurnScore

TREND_DAYS = 90


def churn_panel_context(request: HttpRequest, customer: Any) -> dict[str, Any] | None:
    history = list(
        ChurnScore.objects.filter(customer_id=customer.pk)
        .select_related("model")
        .defer("model__artifact", "model__metrics", "model__importances", "model__preprocessing")
        .order_by("-day")[:TREND_DAYS]
    )
    history.reverse()
    latest = history[-1] if history else None
    if latest is None:
        return {"score": None}
    span = [row for row in history if (latest.day - row.day).days < TREND_DAYS]
    points = display.trend_points(span)
    return {
        "score": latest,
        "risk_percent": round(latest.risk * 100),
        "top": display.top_text(latest.percentile),
        "in_top_decile": latest.percentile >= display.TOP_DECILE,
        "drivers": display.drivers_split(latest.drivers),
        "trend_figure": display.sparkline_figure(span),
        "trend_first": span[0] if len(span) > 1 else None,
        "trend_change": None if points["change"] is None else round(points["change"] * 100),
        "trend_days": TREND_DAYS,
    }


def register() -> None:
    from tend.web.panels import Panel, panels

    if "churn_risk" not in panels:
        panels.register(
            Panel(
                name="churn_risk",
                template="predict/churn_panel.html",
                context=churn_panel_context,
                order=25,
                column="main",
            )
        )
