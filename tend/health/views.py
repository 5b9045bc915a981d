"""Scorecard pages: the list with today's distribution and "Recompute now", and the editor.

Everyone logged in sees the scorecards (how scores are made is no secret); only owners
create, change, delete and recompute (scorecards are configuration, like users and keys).
"""

from __future__ import annotations

import math
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tend.health.engine import health_compute, preview_distribution, today_utc
from tend.health.measures import measures, params_describe
from tend.health.models import CustomerHealth, Direction, Mapping, Scorecard
from tend.health.scorecards import (
    MAX_MEASURES,
    ScorecardError,
    scorecard_delete,
    scorecard_save,
    scorecards_ordered,
)
from tend.lib.access import can_manage, require_manage

BLANK_ROWS = 3
FIELD_LABELS = {
    "name": _lazy("Name"),
    "position": pgettext_lazy("position in a list", "Order"),
    "condition": _lazy("Condition"),
    "segment": _lazy("Segment"),
    "red_below": _lazy("Red below"),
    "green_from": _lazy("Green from"),
    "measures": _lazy("Measures"),
}


def _conditions_available() -> bool:
    try:
        import tend.segments.conditions  # noqa: F401
    except ImportError:
        return False
    return True


def _distribution(rows: list[tuple[str, int]]) -> dict[str, Any]:
    counts = {colour: n for colour, n in rows}
    total = sum(counts.values())
    return {
        "red": counts.get("red", 0),
        "yellow": counts.get("yellow", 0),
        "green": counts.get("green", 0),
        "none": counts.get("", 0),
        "total": total,
    }


def _card_rows(cards: list[Scorecard]) -> list[dict[str, Any]]:
    out = []
    for card in cards:
        lines = []
        for line in card.measures.all():
            measure = measures.get(line.measure) if line.measure in measures else None
            lines.append(
                {
                    "label": measure.label if measure else line.measure,
                    "params": params_describe(measure, line.params) if measure else "",
                    "weight": line.weight,
                    "mapping": line,
                    "thresholds": _thresholds_text(line.thresholds),
                }
            )
        out.append({"card": card, "lines": lines})
    return out


@require_GET
def scorecard_list(request: HttpRequest) -> HttpResponse:
    cards = scorecards_ordered()
    latest_day = CustomerHealth.objects.order_by("-day").values_list("day", flat=True).first()
    colours = list(CustomerHealth.objects.values_list("colour").annotate(n=Count("pk")).order_by())
    return render(
        request,
        "health/scorecards.html",
        {
            "cards": _card_rows(cards),
            "distribution": _distribution([(c, n) for c, n in colours]),
            "latest_day": latest_day,
            "can_manage": can_manage(request.user),
            "segments_used": {c.segment_id for c in cards if c.segment_id},
        },
    )


def _thresholds_text(thresholds: list[Any]) -> str:
    return ", ".join(f"{_num(a)}:{_num(p)}" for a, p in thresholds)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _thresholds_parse(text: str, field: str) -> list[list[Any]]:
    pairs: list[list[Any]] = []
    parts = [p.strip() for p in text.replace("\n", ",").replace(";", ",").split(",") if p.strip()]
    for i, part in enumerate(parts):
        bits = part.replace("→", ":").replace("=", ":").split(":")
        if len(bits) != 2:
            raise ScorecardError(
                f"{field}[{i}]", _("Write each threshold as value:points, e.g. 5:50.")
            )
        pairs.append([bits[0].strip(), bits[1].strip()])
    return pairs


def _rows_from_post(data: Any) -> list[dict[str, Any]]:
    """The measure rows of the editor as typed (for re-showing the form)."""
    rows = []
    count = min(int(data.get("rows") or 0) if str(data.get("rows") or "").isdigit() else 0, 40)
    for i in range(count):
        rows.append(
            {
                "measure": data.get(f"m{i}-measure", ""),
                "days": data.get(f"m{i}-days", ""),
                "events": data.get(f"m{i}-events", ""),
                "weight": data.get(f"m{i}-weight", ""),
                "mapping": data.get(f"m{i}-mapping", Mapping.THRESHOLDS),
                "direction": data.get(f"m{i}-direction", Direction.HIGHER),
                "thresholds": data.get(f"m{i}-thresholds", ""),
                "order": data.get(f"m{i}-order", ""),
            }
        )
    return rows


def _raw_from_rows(data: Any, rows: list[dict[str, Any]]) -> tuple[dict[str, Any], list[int]]:
    """The scorecard dict ``scorecard_save`` takes, and for each measure line the editor row
    it came from (blank rows are skipped; lines sorted by their "order" field)."""
    chosen: list[tuple[float, int, dict[str, Any]]] = []
    for i, row in enumerate(rows):
        if not row["measure"]:
            continue
        measure = measures.get(row["measure"]) if row["measure"] in measures else None
        params: dict[str, Any] = {}
        if measure is not None:
            kinds = {p.name for p in measure.params}
            if "days" in kinds:
                params["days"] = row["days"]
            if "events" in kinds:
                params["events"] = row["events"]
        try:
            order = float(row["order"]) if row["order"] else float(i)
        except ValueError:
            order = float(i)
        if not math.isfinite(order):
            order = float(i)
        chosen.append(
            (
                order,
                i,
                {
                    "measure": row["measure"],
                    "params": params,
                    "weight": row["weight"],
                    "mapping": row["mapping"],
                    "direction": row["direction"],
                    "thresholds": row["thresholds"],
                },
            )
        )
    chosen.sort(key=lambda item: (item[0], item[1]))
    lines = []
    origin = []
    for k, (_order, i, line) in enumerate(chosen):
        if line["mapping"] == Mapping.THRESHOLDS:
            line["thresholds"] = _thresholds_parse(
                str(line["thresholds"] or ""), f"measures[{k}].thresholds"
            )
        else:
            line["thresholds"] = []
        lines.append(line)
        origin.append(i)
    raw = {
        "name": data.get("name", ""),
        "position": data.get("position") or 0,
        "segment": data.get("segment") or None,
        "condition": None,
        "red_below": data.get("red_below", ""),
        "green_from": data.get("green_from", ""),
        "measures": lines,
    }
    condition_text = (data.get("condition") or "").strip()
    if condition_text:
        import json

        try:
            raw["condition"] = json.loads(condition_text)
        except (ValueError, RecursionError):
            raise ScorecardError("condition", _("The condition is not valid JSON.")) from None
    return raw, origin


def _rows_from_card(card: Scorecard | None) -> list[dict[str, Any]]:
    rows = []
    if card is not None:
        for i, line in enumerate(card.measures.all()):
            rows.append(
                {
                    "measure": line.measure,
                    "days": line.params.get("days", ""),
                    "events": ", ".join(line.params.get("events", [])),
                    "weight": _num(line.weight),
                    "mapping": line.mapping,
                    "direction": line.direction,
                    "thresholds": _thresholds_text(line.thresholds),
                    "order": i + 1,
                }
            )
    return rows


def _error_label(field: str, origin: list[int]) -> tuple[str, int | None]:
    """A reader's name for an error's field, and the editor row it points at."""
    if field.startswith("measures[") and "]" in field:
        index_text = field[len("measures[") : field.index("]")]
        rest = field[field.index("]") + 2 :] if "]." in field else ""
        if index_text.isdigit() and int(index_text) < len(origin):
            row = origin[int(index_text)]
            return _("Measure line %(n)s") % {"n": row + 1} + (f" · {rest}" if rest else ""), row
    head = field.split(".")[0].split("[")[0]
    label = FIELD_LABELS.get(head)
    return (str(label) if label else field) + (field[len(head) :] if label else ""), None


def _editor(request: HttpRequest, card: Scorecard | None) -> HttpResponse:
    creating = card is None
    error = None
    error_row = None
    preview = None
    form: dict[str, Any]
    if request.method == "POST":
        require_manage(request.user)
        rows = _rows_from_post(request.POST)
        data = request.POST
        origin: list[int] = []
        try:
            raw, origin = _raw_from_rows(data, rows)
            if "preview" in request.POST:
                preview = preview_distribution(raw, instance=card)
            else:
                saved = scorecard_save(raw, instance=card, by=request.user)
                messages.success(request, _("Scorecard “%(name)s” saved.") % {"name": saved.name})
                return redirect("health:scorecards")
        except ScorecardError as exc:
            label, error_row = _error_label(exc.field, origin)
            error = _("%(field)s: %(message)s") % {"field": label, "message": exc.message}
        form = {
            "name": data.get("name", ""),
            "position": data.get("position", ""),
            "segment": data.get("segment", ""),
            "condition": data.get("condition", ""),
            "red_below": data.get("red_below", ""),
            "green_from": data.get("green_from", ""),
        }
    else:
        rows = _rows_from_card(card)
        import json

        form = {
            "name": card.name if card else "",
            "position": card.position if card else Scorecard.objects.count(),
            "segment": card.segment_id if card and card.segment_id else "",
            "condition": json.dumps(card.condition) if card and card.condition else "",
            "red_below": card.red_below if card else 40,
            "green_from": card.green_from if card else 70,
        }
    rows = rows + [
        {
            "measure": "",
            "days": "",
            "events": "",
            "weight": "1",
            "mapping": Mapping.THRESHOLDS,
            "direction": Direction.HIGHER,
            "thresholds": "",
            "order": "",
        }
        for _n in range(max(0, min(BLANK_ROWS, MAX_MEASURES - len(rows))))
    ]
    from tend.segments.models import Segment

    measure_choices = [
        {
            "name": m.name,
            "label": m.label,
            "group": m.group,
            "help": m.help,
            "params": [p.name for p in m.params],
            "direction": "higher" if m.higher_is_better else "lower",
            "suggested": _thresholds_text([list(t) for t in m.suggested]),
        }
        for m in measures
    ]
    status = 400 if error else 200
    return render(
        request,
        "health/scorecard_form.html",
        {
            "card": card,
            "creating": creating,
            "form": form,
            "rows": rows,
            "error": error,
            "error_row": error_row,
            "preview": preview,
            "measure_choices": measure_choices,
            "mappings": Mapping.choices,
            "directions": Direction.choices,
            "segments": Segment.objects.order_by("name").values_list("pk", "name")[:500],
            "conditions_available": _conditions_available(),
            "is_default": bool(card and card.is_default),
            "today": today_utc(),
        },
        status=status,
    )


def scorecard_new(request: HttpRequest) -> HttpResponse:
    require_manage(request.user)
    return _editor(request, None)


def scorecard_edit(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "POST":
        require_manage(request.user)  # before the lookup: a viewer learns nothing from a 404
    card = get_object_or_404(Scorecard, pk=pk)
    return _editor(request, card)


@require_POST
def scorecard_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_manage(request.user)
    card = get_object_or_404(Scorecard, pk=pk)
    try:
        with transaction.atomic():
            scorecard_delete(card, by=request.user)
    except ScorecardError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Scorecard “%(name)s” deleted.") % {"name": card.name})
    return redirect("health:scorecards")


@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    require_manage(request.user)
    counts = health_compute(today_utc())
    messages.success(
        request,
        _("Health recomputed for today: %(n)s customers scored, %(c)s changed colour.")
        % {"n": counts["scored"], "c": counts["changed"]},
    )
    return redirect(
        request.POST.get("next") or "health:scorecards"
        if _safe_next(request)
        else "health:scorecards"
    )


def _safe_next(request: HttpRequest) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    return bool(target) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
