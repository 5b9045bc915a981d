"""Scorecards: validation and saving (one transaction), the default scorecard, and which
scorecard scores which customer.

A scorecard is saved from one plain dict (the web editor, the REST API and the seed all
send the same shape)::

    {"name": "Default", "position": 0, "condition": null, "segment": null,
     "red_below": 40, "green_from": 70,
     "measures": [{"measure": "active_days", "params": {"days": 30}, "weight": 3,
                   "mapping": "thresholds", "direction": "higher",
                   "thresholds": [[1, 20], [4, 40], [8, 60], [12, 80], [18, 100]]}, …]}

Every problem raises ``ScorecardError`` whose ``field`` names the field
("measures[2].thresholds[1]"); nothing is written unless everything is valid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from tend.accounts.actions import audit_record
from tend.health.measures import MeasureError, measures, params_clean
from tend.health.models import Direction, Mapping, Scorecard, ScorecardMeasure

MAX_MEASURES = 20
MAX_THRESHOLDS = 20
MAX_WEIGHT = 1000.0
NAME_MAX = 120


class ScorecardError(ValueError):
    """A scorecard that cannot be saved; ``field`` names the offending field. ``code``:
    "invalid" (a value wrong in itself), "unknown" (names nothing registered or stored),
    "range" (valid alone, not together: order of thresholds, cut-offs, weights' sum),
    "taken" (the name is used)."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code


def _text(value: Any, field: str, *, max_length: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ScorecardError(field, gettext("Enter text."))
    value = value.strip()
    if "\x00" in value:
        raise ScorecardError(field, gettext("Null characters are not allowed."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ScorecardError(field, gettext("The text is not valid.")) from None
    if required and not value:
        raise ScorecardError(field, gettext("This field is required."))
    if len(value) > max_length:
        raise ScorecardError(field, gettext("At most %(n)s characters.") % {"n": max_length})
    return value


def _number(value: Any, field: str, *, low: float, high: float, whole: bool = False) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            raise ScorecardError(field, gettext("Enter a number.")) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScorecardError(field, gettext("Enter a number."))
    value = float(value)
    if not math.isfinite(value):
        raise ScorecardError(field, gettext("Enter a finite number."))
    if whole and not value.is_integer():
        raise ScorecardError(field, gettext("Enter a whole number."))
    if value < low or value > high:
        raise ScorecardError(
            field,
            gettext("Enter a number from %(low)s to %(high)s.")
            % {"low": _fmt(low), "high": _fmt(high)},
        )
    return value


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def condition_check(raw: Any, field: str = "condition") -> Any:
    """A scorecard condition in the shared condition language, validated by it; raises
    ``ScorecardError`` naming the condition's path."""
    if raw in (None, "", {}):
        return None
    try:
        from tend.segments.conditions import ConditionError, condition_parse
    except ImportError:  # the condition language is not installed: segments only
        raise ScorecardError(
            field, gettext("Conditions are not available; choose a segment."), "unknown"
        ) from None
    try:
        condition_parse(raw)
    except ConditionError as exc:
        where = f"{field}.{exc.path}" if getattr(exc, "path", "") else field
        code = "unknown" if exc.field and exc.path.endswith("field") else "range"
        raise ScorecardError(where, exc.text(), code) from None
    return raw


def thresholds_clean(raw: Any, direction: str, field: str) -> list[list[float]]:
    if not isinstance(raw, list) or not raw:
        raise ScorecardError(field, gettext("Enter at least one threshold."), "range")
    if len(raw) > MAX_THRESHOLDS:
        raise ScorecardError(field, gettext("At most %(n)s thresholds.") % {"n": MAX_THRESHOLDS})
    out: list[list[float]] = []
    for i, pair in enumerate(raw):
        where = f"{field}[{i}]"
        if isinstance(pair, dict):
            pair = [pair.get("at"), pair.get("points")]
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ScorecardError(where, gettext("A threshold is a value and its points."))
        at = _number(pair[0], f"{where}.value", low=-1e12, high=1e12)
        points = _number(pair[1], f"{where}.points", low=0, high=100)
        if out and at <= out[-1][0]:
            raise ScorecardError(
                f"{where}.value",
                gettext("Threshold values must go up from line to line."),
                "range",
            )
        if out:
            if direction == Direction.HIGHER and points < out[-1][1]:
                raise ScorecardError(
                    f"{where}.points",
                    gettext("Higher is better: points must not go down as values go up."),
                    "range",
                )
            if direction == Direction.LOWER and points > out[-1][1]:
                raise ScorecardError(
                    f"{where}.points",
                    gettext("Lower is better: points must not go up as values go up."),
                    "range",
                )
        out.append([at, points])
    return out


def measure_line_clean(raw: Any, field: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ScorecardError(field, gettext("A measure line is an object."))
    name = raw.get("measure")
    if not isinstance(name, str) or name not in measures:
        raise ScorecardError(f"{field}.measure", gettext("Unknown measure."), "unknown")
    measure = measures.get(name)
    try:
        params = params_clean(measure, raw.get("params"))
    except MeasureError as exc:
        code = (
            "unknown"
            if "no parameter" in exc.message or "has no parameter" in exc.message
            else "range"
        )
        raise ScorecardError(f"{field}.{exc.field}", exc.message, code) from None
    weight = _number(raw.get("weight"), f"{field}.weight", low=0, high=MAX_WEIGHT)
    mapping = raw.get("mapping") or Mapping.THRESHOLDS
    if mapping not in Mapping.values:
        raise ScorecardError(f"{field}.mapping", gettext("Choose thresholds or percentile."))
    direction = raw.get("direction") or (
        Direction.HIGHER if measure.higher_is_better else Direction.LOWER
    )
    if direction not in Direction.values:
        raise ScorecardError(
            f"{field}.direction", gettext("Choose higher is better or lower is better.")
        )
    thresholds: list[list[float]] = []
    if mapping == Mapping.THRESHOLDS:
        thresholds = thresholds_clean(raw.get("thresholds"), direction, f"{field}.thresholds")
    return {
        "measure": name,
        "params": params,
        "weight": weight,
        "mapping": mapping,
        "direction": direction,
        "thresholds": thresholds,
    }


def scorecard_clean(raw: Any, *, instance: Scorecard | None = None) -> dict[str, Any]:
    """The scorecard in ``raw`` validated and normalised, or ``ScorecardError``."""
    if not isinstance(raw, dict):
        raise ScorecardError("scorecard", gettext("A scorecard is an object."))
    name = _text(raw.get("name"), "name", max_length=NAME_MAX)
    clash = Scorecard.objects.filter(name=name)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise ScorecardError("name", gettext("Another scorecard has this name."), "taken")
    position = int(_number(raw.get("position", 0) or 0, "position", low=0, high=10_000, whole=True))
    red_below = int(_number(raw.get("red_below"), "red_below", low=0, high=100, whole=True))
    green_from = int(_number(raw.get("green_from"), "green_from", low=0, high=100, whole=True))
    if red_below > green_from:
        raise ScorecardError(
            "green_from", gettext("Green must start at or above where red ends."), "range"
        )
    is_default = bool(instance is not None and instance.is_default)
    condition = condition_check(raw.get("condition"))
    segment_id = raw.get("segment")
    if segment_id in ("", None):
        segment_id = None
    else:
        from tend.segments.models import Segment

        if isinstance(segment_id, str) and segment_id.strip().isdigit():
            segment_id = int(segment_id)
        if isinstance(segment_id, bool) or not isinstance(segment_id, int):
            raise ScorecardError("segment", gettext("Choose a segment."))
        if not Segment.objects.filter(pk=segment_id).exists():
            raise ScorecardError("segment", gettext("No such segment."), "unknown")
    if is_default and (condition is not None or segment_id is not None):
        raise ScorecardError(
            "condition",
            gettext("The default scorecard scores everyone else: no condition."),
            "range",
        )
    if not is_default and condition is None and segment_id is None:
        raise ScorecardError(
            "condition",
            gettext("Choose the segment or condition this scorecard is for."),
            "range",
        )
    if condition is not None and segment_id is not None:
        raise ScorecardError(
            "segment", gettext("Choose a segment or a condition, not both."), "range"
        )
    lines_raw = raw.get("measures")
    if not isinstance(lines_raw, list) or not lines_raw:
        raise ScorecardError("measures", gettext("Add at least one measure."))
    if len(lines_raw) > MAX_MEASURES:
        raise ScorecardError("measures", gettext("At most %(n)s measures.") % {"n": MAX_MEASURES})
    lines = [measure_line_clean(line, f"measures[{i}]") for i, line in enumerate(lines_raw)]
    if sum(line["weight"] for line in lines) <= 0:
        raise ScorecardError("measures.weight", gettext("The weights must not sum to 0."), "range")
    return {
        "name": name,
        "position": position,
        "condition": condition,
        "segment_id": segment_id,
        "red_below": red_below,
        "green_from": green_from,
        "measures": lines,
    }


@transaction.atomic
def scorecard_save(
    raw: Any,
    *,
    instance: Scorecard | None = None,
    by: Any = None,
    is_default: bool = False,
    label: str = "",
) -> Scorecard:
    """Create (``instance`` None) or replace a scorecard and its measure lines, validated
    first and written in one transaction."""
    if instance is not None:
        instance = Scorecard.objects.select_for_update().get(pk=instance.pk)
    clean = scorecard_clean(raw, instance=instance)
    card = instance or Scorecard(is_default=is_default)
    for key in ("name", "position", "condition", "segment_id", "red_below", "green_from"):
        setattr(card, key, clean[key])
    card.updated_by = by if getattr(by, "pk", None) else None
    card.save()
    card.measures.all().delete()
    ScorecardMeasure.objects.bulk_create(
        [
            ScorecardMeasure(scorecard=card, position=i, **line)
            for i, line in enumerate(clean["measures"])
        ]
    )
    audit_record(
        by=by if getattr(by, "pk", None) else None,
        label=label,
        action="scorecard.update" if instance is not None else "scorecard.create",
        obj=card,
        changes={"name": card.name, "measures": len(clean["measures"])},
    )
    return card


def scorecard_delete(card: Scorecard, *, by: Any = None, label: str = "") -> None:
    if card.is_default:
        raise ScorecardError(
            "scorecard", gettext("The default scorecard cannot be deleted."), "range"
        )
    audit_record(
        by=by if getattr(by, "pk", None) else None,
        label=label,
        action="scorecard.delete",
        obj=card,
        changes={"name": card.name},
    )
    card.delete()


def scorecard_as_dict(card: Scorecard) -> dict[str, Any]:
    """The scorecard in the shape ``scorecard_save`` takes (REST output, editor's form)."""
    return {
        "id": card.pk,
        "name": card.name,
        "position": card.position,
        "is_default": card.is_default,
        "condition": card.condition,
        "segment": card.segment_id,
        "red_below": card.red_below,
        "green_from": card.green_from,
        "measures": [
            {
                "measure": line.measure,
                "params": line.params,
                "weight": line.weight,
                "mapping": line.mapping,
                "direction": line.direction,
                "thresholds": line.thresholds,
            }
            for line in card.measures.all()
        ],
    }


def scorecards_ordered() -> list[Scorecard]:
    """Every scorecard in the order they are tried: by position, the default one last."""
    return list(
        Scorecard.objects.prefetch_related("measures").order_by("is_default", "position", "id")
    )


# The scorecard every install starts with. Tuned on the demo data: usage carries most of the
# weight; a failed payment or a customer nobody has talked to for months pulls it down.
DEFAULT_NAME = "Default"
DEFAULT_SCORECARD: dict[str, Any] = {
    "name": DEFAULT_NAME,
    "position": 0,
    "condition": None,
    "segment": None,
    "red_below": 40,
    "green_from": 70,
    "measures": [
        {
            "measure": "active_days",
            "params": {"days": 30},
            "weight": 4,
            "mapping": "thresholds",
            "direction": "higher",
            "thresholds": [[1, 15], [3, 35], [6, 55], [10, 75], [15, 90], [20, 100]],
        },
        {
            "measure": "usage_change",
            "params": {"days": 30, "events": []},
            "weight": 2,
            "mapping": "thresholds",
            "direction": "higher",
            "thresholds": [[-80, 5], [-50, 25], [-25, 50], [-5, 75], [10, 100]],
        },
        {
            "measure": "breadth",
            "params": {"days": 30},
            "weight": 1,
            "mapping": "percentile",
            "direction": "higher",
            "thresholds": [],
        },
        {
            "measure": "failed_payments",
            "params": {"days": 30},
            "weight": 2,
            "mapping": "thresholds",
            "direction": "lower",
            "thresholds": [[0, 100], [1, 40], [2, 10]],
        },
        {
            "measure": "mrr_change",
            "params": {"days": 90},
            "weight": 1,
            "mapping": "thresholds",
            "direction": "higher",
            "thresholds": [[-50, 10], [-10, 50], [0, 80], [5, 100]],
        },
    ],
}


def scorecard_default_seed(lines: Sequence[dict[str, Any]] | None = None) -> Scorecard | None:
    """Create the default scorecard when there is none (after ``migrate`` and ``flush``)."""
    if Scorecard.objects.filter(is_default=True).exists():
        return None
    raw = dict(DEFAULT_SCORECARD)
    if Scorecard.objects.filter(name=raw["name"]).exists():
        raw["name"] = f"{raw['name']} ({Scorecard.objects.count() + 1})"
    return scorecard_save(raw, is_default=True)
