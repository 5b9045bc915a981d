"""What every churn surface shows the same way (model page, customer panel, REST, CLI): the
backtest metrics with their formulas and plain-words readings, the verdict "does the model
earn its place", drivers in words, the "top 5%" wording and the charts' figures.

Reads only the stored rows (``ChurnModel``, ``ChurnScore``); the shapes of their JSON fields
are documented in tend/predict/models.py. Anything missing or malformed in the JSON is shown
as "—", never an error: a page must not fail because one run stored less.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, F, IntegerField, Max
from django.db.models.functions import Cast, Floor, Least
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from tend.predict.errors import message_text
from tend.predict.models import ChurnModel, ChurnScore, TrainingStatus

# The model earns its place when its backtest AUC beats the baseline's by at least this much
# (two points of AUC: smaller gaps are within what another test period would move).
EARNS_ITS_PLACE_AUC = 0.02
HISTOGRAM_BINS = 20
TOP_DECILE = 0.9  # percentile from which a customer is "in the top 10%"


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class MetricSpec:
    key: str  # the key in ``ChurnModel.metrics[kind]``
    label: str | Promise
    formula: str | Promise
    higher_is_better: bool
    digits: int


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "auc",
        _("AUC"),
        _(
            "AUC = P(risk of a random churner > risk of a random stayer), ties counting half; "
            "0.5 = a coin toss, 1 = perfect ranking."
        ),
        True,
        2,
    ),
    MetricSpec(
        "lift_top_decile",
        _("Top-decile lift"),
        _(
            "Top-decile lift = churn rate among the riskiest tenth of customers ÷ churn rate "
            "among all customers; 1 = no better than picking at random."
        ),
        True,
        1,
    ),
    MetricSpec(
        "brier",
        _("Brier score"),
        _(
            "Brier score = mean of (predicted risk − outcome)², outcome 1 = churned, 0 = "
            "stayed; 0 is perfect, lower is better."
        ),
        False,
        3,
    ),
)


def metric_reading(key: str, model: float | None, baseline: float | None) -> str:
    """One line in plain words for a metric of the model next to the baseline's."""
    if model is None:
        return gettext("Not measured in this run.")
    if key == "auc":
        text = gettext("The model ranks a churner above a stayer %(model)s%% of the time") % {
            "model": round(model * 100)
        }
        if baseline is not None:
            text += gettext("; the baseline %(base)s%%.") % {"base": round(baseline * 100)}
        else:
            text += "."
        return text
    if key == "lift_top_decile":
        text = gettext(
            "The 10%% the model rates riskiest churn %(model)s× as often as the average customer"
        ) % {"model": f"{model:.1f}"}
        if baseline is not None:
            text += gettext("; the baseline's riskiest 10%% %(base)s×.") % {
                "base": f"{baseline:.1f}"
            }
        else:
            text += "."
        return text
    if key == "brier":
        if baseline is not None and baseline > 0:
            change = 1 - model / baseline
            if change >= 0:
                return gettext(
                    "The model's predictions are %(pct)s%% closer to what happened than the "
                    "baseline's (squared error %(model)s vs %(base)s)."
                ) % {"pct": round(change * 100), "model": f"{model:.3f}", "base": f"{baseline:.3f}"}
            return gettext(
                "The model's predictions are %(pct)s%% further from what happened than the "
                "baseline's (squared error %(model)s vs %(base)s)."
            ) % {"pct": round(-change * 100), "model": f"{model:.3f}", "base": f"{baseline:.3f}"}
        return gettext("Average squared error of the predictions: %(model)s (0 = perfect).") % {
            "model": f"{model:.3f}"
        }
    return ""


def chosen_metrics(model: ChurnModel) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the chosen model kind's metrics, the baseline's), each {} when not stored."""
    metrics = model.metrics if isinstance(model.metrics, dict) else {}
    chosen = metrics.get(model.kind) or metrics.get(str(metrics.get("chosen") or ""))
    baseline = metrics.get("baseline")
    return (
        chosen if isinstance(chosen, dict) else {},
        baseline if isinstance(baseline, dict) else {},
    )


def metric_rows(model: ChurnModel) -> list[dict[str, Any]]:
    """Each metric: label, formula, the model's value, the baseline's, which is better, and
    the plain-words reading."""
    ours, base = chosen_metrics(model)
    rows = []
    for spec in METRICS:
        mine, theirs = _num(ours.get(spec.key)), _num(base.get(spec.key))
        better = None
        if mine is not None and theirs is not None and mine != theirs:
            better = (mine > theirs) == spec.higher_is_better
        rows.append(
            {
                "key": spec.key,
                "label": spec.label,
                "formula": spec.formula,
                "model": mine,
                "baseline": theirs,
                "model_text": "—" if mine is None else f"{mine:.{spec.digits}f}",
                "baseline_text": "—" if theirs is None else f"{theirs:.{spec.digits}f}",
                "better": better,
                "reading": metric_reading(spec.key, mine, theirs),
            }
        )
    return rows


def baseline_words(model: ChurnModel) -> str:
    """What the baseline is: "longest inactive first" (history) or the average churn rate for
    everyone (traits only, where there is no activity to rank by)."""
    metrics = model.metrics if isinstance(model.metrics, dict) else {}
    if metrics.get("baseline_name") == "prior":
        return gettext("the same risk for everyone (the average churn rate)")
    return gettext("“longest inactive first” (days since last activity)")


def verdict(model: ChurnModel) -> dict[str, Any]:
    """Whether the model earns its place over the baseline, in words: ``earns`` True (clearly
    better), "marginal" (better by less than EARNS_ITS_PLACE_AUC), False, or None when the run
    stored no comparable AUC. The training run's own ``baseline_wins`` has the last word."""
    metrics = model.metrics if isinstance(model.metrics, dict) else {}
    ours, base = chosen_metrics(model)
    mine, theirs = _num(ours.get("auc")), _num(base.get("auc"))
    if mine is None or theirs is None:
        return {
            "earns": None,
            "text": gettext("This run stored no backtest to compare with the baseline."),
        }
    params = {"model": f"{mine:.2f}", "base": f"{theirs:.2f}", "baseline": baseline_words(model)}
    lost = metrics.get("baseline_wins") is True or mine <= theirs
    if lost:
        return {
            "earns": False,
            "text": gettext(
                "The model does not beat the simple rule %(baseline)s on customers it had not "
                "seen (AUC %(model)s vs %(base)s): rely on that rule and the health score "
                "instead, and retrain when there is more history."
            )
            % params,
        }
    if mine - theirs < EARNS_ITS_PLACE_AUC:
        return {
            "earns": "marginal",
            "text": gettext(
                "The model is only slightly better than the simple rule %(baseline)s on "
                "customers it had not seen (AUC %(model)s vs %(base)s): use its ranking, but "
                "do not expect much more than the rule gives."
            )
            % params,
        }
    return {
        "earns": True,
        "text": gettext(
            "The model earns its place: on customers it had not seen, it ranked churners "
            "better than the simple rule %(baseline)s (AUC %(model)s vs %(base)s)."
        )
        % params,
    }


def model_message(model: ChurnModel) -> str:
    """The run's message (e.g. not enough data) in the reader's language. ``message`` may be
    the message id with ``{placeholders}`` or the English text filled in; either way the
    reader sees it translated when ``message_params`` are stored."""
    if not model.message:
        return ""
    params = model.message_params if isinstance(model.message_params, dict) else {}
    if "{" in model.message:
        return message_text(model.message, params)
    if model.status == TrainingStatus.NOT_ENOUGH_DATA and {"have", "need"} <= set(params):
        return message_text("not enough data to train: {have} churned, need {need}", params)
    return model.message


def not_enough_data_text(model: ChurnModel) -> str:
    """ "Not enough data to train: 12 churned, need 20" in the reader's language."""
    params = model.message_params if isinstance(model.message_params, dict) else {}
    have, need = params.get("have"), params.get("need")
    if isinstance(have, int) and isinstance(need, int):
        return gettext("Not enough data to train: %(have)s churned, need %(need)s.") % {
            "have": have,
            "need": need,
        }
    return model_message(model) or gettext("Not enough data to train a model yet.")


# --- per customer -------------------------------------------------------------------------


def top_text(percentile: float | None) -> str:
    """0.95 → "top 5%" (riskier than 95% of the customers scored that day)."""
    if percentile is None:
        return ""
    share = max(1, math.ceil(round((1 - float(percentile)) * 100, 6)))
    if share <= 50:
        return pgettext("rank of a customer's churn risk", "top %(n)s%%") % {"n": share}
    low = max(1, math.ceil(round(float(percentile) * 100, 6)))
    return pgettext("rank of a customer's churn risk", "bottom %(n)s%%") % {"n": low}


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:,.2f}"
    if value is None:
        return "—"
    return str(value)


def driver_words(entry: dict[str, Any]) -> dict[str, Any]:
    """One driver ({"feature", "effect", "value", "before"}) in words, through the feature
    registry; an unregistered feature shows its name and values."""
    from tend.predict.features import features

    name = str(entry.get("feature") or "")
    effect = _num(entry.get("effect")) or 0.0
    value, before = entry.get("value"), entry.get("before")
    feature = features.get(name) if name in features else None
    label = str(feature.label) if feature is not None else name.removeprefix("trait:")
    text = ""
    if feature is not None and feature.explain is not None:
        try:
            text = str(feature.explain(value, before))
        except Exception:  # a plug-in's wording must not break the page
            text = ""
    if not text:
        if before is not None and before != value:
            text = gettext("%(label)s: %(value)s, was %(before)s") % {
                "label": label,
                "value": _value_text(value),
                "before": _value_text(before),
            }
        else:
            text = gettext("%(label)s: %(value)s") % {"label": label, "value": _value_text(value)}
    return {
        "feature": name,
        "label": label,
        "text": capfirst(text),
        "effect": effect,
        "direction": "up" if effect > 0 else "down",
        "effect_points": f"{effect * 100:+.0f}",
    }


def drivers_split(drivers: Any, limit: int = 3) -> dict[str, list[dict[str, Any]]]:
    """The ``limit`` largest drivers raising and lowering the risk, in words."""
    rows = [d for d in (drivers if isinstance(drivers, list) else []) if isinstance(d, dict)]
    words = [driver_words(d) for d in rows]
    up = sorted((w for w in words if w["effect"] > 0), key=lambda w: -w["effect"])[:limit]
    down = sorted((w for w in words if w["effect"] < 0), key=lambda w: w["effect"])[:limit]
    return {"up": up, "down": down}


# --- the day's distribution ----------------------------------------------------------------


def latest_score_day() -> date | None:
    day: date | None = ChurnScore.objects.aggregate(day=Max("day"))["day"]
    return day


def risk_histogram(day: date, top: float = 1.0) -> list[int]:
    """How many customers fall in each of HISTOGRAM_BINS equal risk bands from 0 to ``top``
    on ``day`` (one query)."""
    band = Least(Cast(Floor(F("risk") / top * HISTOGRAM_BINS), IntegerField()), HISTOGRAM_BINS - 1)
    counts = [0] * HISTOGRAM_BINS
    rows = (
        ChurnScore.objects.filter(day=day)
        .annotate(band=band)
        .values("band")
        .annotate(n=Count("id"))
        .values_list("band", "n")
    )
    for b, n in rows:
        if b is not None:
            counts[min(max(int(b), 0), HISTOGRAM_BINS - 1)] += n
    return counts


# --- figures (plain dicts for plotly.js, the look of tend.lib.charts) ---------------------

MODEL_COLOUR = "#2f6f9f"
BASELINE_COLOUR = "#9aa5b1"
UP_COLOUR = "#c8553d"


def _layout(**extra: Any) -> dict[str, Any]:
    from tend.lib.charts import LAYOUT

    return {**LAYOUT, **extra}


def _axis(**extra: Any) -> dict[str, Any]:
    from tend.lib.charts import AXIS

    return {**AXIS, "automargin": True, **extra}


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> dict[str, Any]:
    from tend.lib.charts import CONFIG

    return {"data": data, "layout": layout, "config": CONFIG}


def _points(series: Any, x: str, y: str) -> tuple[list[float], list[float], list[Any]]:
    xs, ys, extra = [], [], []
    for point in series if isinstance(series, list) else []:
        if not isinstance(point, dict):
            continue
        px, py = _num(point.get(x)), _num(point.get(y))
        if px is None or py is None:
            continue
        xs.append(px)
        ys.append(py)
        extra.append(point.get("count"))
    return xs, ys, extra


def reliability_figure(model: ChurnModel) -> dict[str, Any] | None:
    """Predicted risk (x) against the share that churned (y), per band; the diagonal is a
    perfectly calibrated model."""
    ours, _base = chosen_metrics(model)
    xs, ys, counts = _points(ours.get("reliability"), "predicted", "observed")
    if not xs:
        return None
    top = min(1.0, math.ceil(max(*xs, *ys, 0.05) * 1.1 * 20) / 20)
    known = [c for c in counts if isinstance(c, int | float) and c > 0]
    biggest = max(known, default=0)
    sizes = [
        6 + 10 * math.sqrt(c / biggest) if biggest and isinstance(c, int | float) and c > 0 else 7
        for c in counts
    ]
    hover = gettext("predicted %{x:.0%}, churned %{y:.0%} (%{customdata} customers)")
    return _figure(
        [
            {
                "type": "scatter",
                "mode": "lines",
                "x": [0, top],
                "y": [0, top],
                "name": gettext("Perfectly calibrated"),
                "line": {"color": BASELINE_COLOUR, "dash": "dot", "width": 1},
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": xs,
                "y": ys,
                "customdata": [c if c is not None else "?" for c in counts],
                "name": gettext("Model"),
                "line": {"color": MODEL_COLOUR, "width": 2},
                "marker": {"size": sizes},
                "hovertemplate": hover + "<extra></extra>",
            },
        ],
        _layout(
            showlegend=True,
            legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            margin={"l": 56, "r": 12, "t": 28, "b": 44},
            xaxis=_axis(
                title={"text": gettext("Predicted risk"), "font": {"size": 11}},
                tickformat=".0%",
                range=[0, top],
                showgrid=True,
                gridcolor="#eef1f4",
            ),
            yaxis=_axis(
                title={"text": gettext("Share that churned"), "font": {"size": 11}},
                tickformat=".0%",
                range=[0, top],
                showgrid=True,
                gridcolor="#eef1f4",
            ),
        ),
    )


def lift_figure(model: ChurnModel) -> dict[str, Any] | None:
    """Cumulative lift by share of customers contacted, riskiest first: model and baseline."""
    ours, base = chosen_metrics(model)
    data = []
    for series, name, colour, dash in (
        (ours.get("lift"), gettext("Model"), MODEL_COLOUR, "solid"),
        (base.get("lift"), gettext("Baseline (days since last activity)"), BASELINE_COLOUR, "dash"),
    ):
        xs, ys, _c = _points(series, "share", "lift")
        if xs:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": xs,
                    "y": ys,
                    "name": name,
                    "line": {"color": colour, "width": 2, "dash": dash},
                    "marker": {"size": 5},
                    "hovertemplate": gettext("riskiest %{x:.0%}: lift %{y:.1f}×")
                    + "<extra>%{fullData.name}</extra>",
                }
            )
    if not data:
        return None
    return _figure(
        data,
        _layout(
            showlegend=True,
            legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            margin={"l": 56, "r": 12, "t": 28, "b": 44},
            shapes=[
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": 1,
                    "y1": 1,
                    "line": {"color": "#d5dbe1", "width": 1, "dash": "dot"},
                }
            ],
            xaxis=_axis(
                title={"text": gettext("Share of customers, riskiest first"), "font": {"size": 11}},
                tickformat=".0%",
                showgrid=True,
                gridcolor="#eef1f4",
            ),
            yaxis=_axis(
                title={"text": gettext("Lift (× average churn rate)"), "font": {"size": 11}},
                rangemode="tozero",
                showgrid=True,
                gridcolor="#eef1f4",
            ),
        ),
    )


def importance_rows(model: ChurnModel, limit: int = 12) -> list[dict[str, Any]]:
    """The chosen model's feature importances with their labels, largest first, as shares
    of the largest (for the bars)."""
    from tend.predict.features import features

    rows: list[dict[str, Any]] = []
    for entry in model.importances if isinstance(model.importances, list) else []:
        if not isinstance(entry, dict):
            continue
        value = _num(entry.get("importance"))
        if value is None:
            continue
        name = str(entry.get("feature") or "")
        label = capfirst(
            str(features.get(name).label) if name in features else name.removeprefix("trait:")
        )
        rows.append({"feature": name, "label": label, "importance": value})
    # Permutation importance: a feature whose shuffling did not hurt the AUC (≤ 0) is noise
    # to the model; it sorts last and draws no bar.
    rows.sort(key=lambda r: -r["importance"])
    rows = rows[:limit]
    top = max((r["importance"] for r in rows), default=0.0)
    for r in rows:
        r["width"] = round(max(r["importance"], 0.0) / top * 100, 1) if top > 0 else 0
        r["noise"] = r["importance"] <= 0
    return rows


def histogram_top(highest: float | None) -> float:
    """The histogram's upper end: the highest risk rounded up to a tenth (at most 1)."""
    if highest is None or highest <= 0:
        return 1.0
    return min(1.0, math.ceil(highest * 10 - 1e-9) / 10)


def histogram_figure(
    counts: list[int], threshold: float | None = None, top: float = 1.0
) -> dict[str, Any] | None:
    if not any(counts):
        return None
    marks: dict[str, Any] = {}
    if threshold is not None:
        marks = {
            "shapes": [
                {
                    "type": "line",
                    "x0": threshold,
                    "x1": threshold,
                    "yref": "paper",
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": UP_COLOUR, "width": 1.5, "dash": "dash"},
                }
            ],
            "annotations": [
                {
                    "x": threshold,
                    "yref": "paper",
                    "y": 1,
                    "text": gettext("riskiest 10%") + " →",
                    "showarrow": False,
                    "xanchor": "left",
                    "yanchor": "top",
                    "font": {"size": 11, "color": UP_COLOUR},
                }
            ],
        }
    width = top / len(counts)
    centres = [round((i + 0.5) * width, 4) for i in range(len(counts))]
    cut = threshold if threshold is not None else 0.5
    colours = [UP_COLOUR if c >= cut else MODEL_COLOUR for c in centres]
    labels = [
        f"{round(i * width * 100)}–{round((i + 1) * width * 100)}%" for i in range(len(counts))
    ]
    return _figure(
        [
            {
                "type": "bar",
                "x": centres,
                "y": counts,
                "width": [width * 0.9] * len(counts),
                "customdata": labels,
                "marker": {"color": colours},
                "hovertemplate": gettext("risk %{customdata}: %{y} customers") + "<extra></extra>",
            }
        ],
        _layout(
            margin={"l": 48, "r": 12, "t": 8, "b": 44},
            **marks,
            xaxis=_axis(
                title={"text": gettext("Churn risk"), "font": {"size": 11}},
                tickformat=".0%",
                range=[0, top],
            ),
            yaxis=_axis(
                title={"text": gettext("Customers"), "font": {"size": 11}},
                showgrid=True,
                gridcolor="#eef1f4",
                rangemode="tozero",
            ),
        ),
    )


def trend_points(history: list[ChurnScore]) -> dict[str, Any]:
    """The risk trend for a sparkline: days, risks and the change over the span."""
    xs = [row.day.isoformat() for row in history]
    ys = [round(row.risk, 4) for row in history]
    change = ys[-1] - ys[0] if len(ys) > 1 else None
    return {"x": xs, "y": ys, "change": change}


def sparkline_figure(history: list[ChurnScore]) -> dict[str, Any] | None:
    if len(history) < 2:
        return None
    from tend.lib.charts import chart_date_formats

    formats = chart_date_formats()
    points = trend_points(history)
    return _figure(
        [
            {
                "type": "scatter",
                "mode": "lines",
                "x": points["x"],
                "y": points["y"],
                "line": {"color": UP_COLOUR, "width": 2},
                "fill": "tozeroy",
                "fillcolor": "rgba(200,85,61,0.08)",
                "hovertemplate": "%{x|" + formats["date"] + "}: %{y:.0%}<extra></extra>",
            }
        ],
        _layout(
            margin={"l": 40, "r": 8, "t": 4, "b": 24},
            xaxis=_axis(type="date", tickformat=formats["day"]),
            yaxis=_axis(tickformat=".0%", rangemode="tozero", showgrid=True, gridcolor="#eef1f4"),
        ),
    )


def score_as_dict(score: ChurnScore, *, with_drivers: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "customer_id": score.customer_id,
        "day": score.day,
        "risk": round(score.risk, 4),
        "percentile": round(score.percentile, 4),
        "top": top_text(score.percentile),
        "model_version": score.model.version if score.model_id else None,
    }
    if with_drivers:
        split = drivers_split(score.drivers, limit=5)
        out["drivers"] = [
            {
                "feature": w["feature"],
                "label": w["label"],
                "text": w["text"],
                "effect": round(w["effect"], 4),
                "direction": w["direction"],
            }
            for w in sorted(split["up"] + split["down"], key=lambda w: -abs(w["effect"]))
        ]
    return out
