"""The health engine: score every customer for a day (or many days), write the history rows
and each customer's latest health, and tell the outbox when a colour changes.

The score of one customer on day D (docs/health.md):

1. Its scorecard: the first scorecard (by position) whose condition or segment matches it,
   the default scorecard otherwise.
2. Each measure of that scorecard gives a raw value as of D (data before D 00:00 UTC) or
   "no data". The raw value becomes 0–100 points by the line's thresholds or by percentile
   (rank among every customer scored that day that has data for the measure).
3. Score = weighted average of the points of the measures WITH data:
   Σ(weight × points) ÷ Σ(weight), both sums over measures with data only. A measure without
   data is left out, not counted as 0; when no measure has data the score is None (no colour).
4. Colour: red when score < red_below, green when score ≥ green_from, yellow between.

Customers scored on D: signed up before the end of D and not churned before D. Writes are
upserts (``HealthScore`` unique per customer and day), so running a day twice gives the same
rows; the outbox key ``health:{customer}:{day}`` is stored once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tend.changes.actions import changes_record_bulk
from tend.changes.models import ChangeKind
from tend.health.measures import Measure, day_start, measure_values, measures, measures_run
from tend.health.models import (
    Colour,
    CustomerHealth,
    Direction,
    HealthScore,
    Mapping,
    Scorecard,
    ScorecardMeasure,
)
from tend.health.scorecards import scorecards_ordered
from tend.lib.db import chunks

log = logging.getLogger(__name__)

WRITE_CHUNK = 2_000
BACKFILL_SPAN = 64  # days computed together in the backfill (bounds the arrays' memory)

FORMULA = (
    "weighted average of measure points (0–100), measures without data left out; "
    "red below the red cut-off, green from the green cut-off"
)


FIRST_DAY = date(2000, 1, 1)


def today_utc() -> date:
    return timezone.now().astimezone(UTC).date()


def day_problem(day: date) -> str | None:
    """Why ``day`` cannot be scored (outside 2000-01-01 … tomorrow), or None."""
    from django.utils.translation import gettext

    if day < FIRST_DAY or day > today_utc() + timedelta(days=1):
        return gettext("Choose a day from %(first)s to tomorrow.") % {"first": FIRST_DAY}
    return None


# --- the maths (pure functions over numpy arrays; tested on their own) -----------------------


def points_thresholds(
    raw: np.ndarray, thresholds: Sequence[Sequence[float]], direction: str
) -> np.ndarray:
    """0–100 points for raw values (NaN = no data stays NaN) by step thresholds.

    ``thresholds`` are ``[value, points]`` with values ascending. Higher is better: a raw value
    gets the points of the highest threshold it reaches (raw ≥ value), 0 below the first.
    Lower is better: the points of the lowest threshold it stays within (raw ≤ value), 0 above
    the last."""
    raw = np.asarray(raw, dtype=float)
    out = np.full(raw.shape, np.nan)
    if not len(thresholds):
        return out
    at = np.array([float(t[0]) for t in thresholds])
    pts = np.array([float(t[1]) for t in thresholds])
    have = ~np.isnan(raw)
    values = raw[have]
    if direction == Direction.LOWER:
        i = np.searchsorted(at, values, side="left")  # first threshold ≥ raw
        got = np.where(i < len(at), pts[np.minimum(i, len(at) - 1)], 0.0)
    else:
        i = np.searchsorted(at, values, side="right") - 1  # last threshold ≤ raw
        got = np.where(i >= 0, pts[np.maximum(i, 0)], 0.0)
    out[have] = got
    return out


def points_percentile(raw: np.ndarray, direction: str) -> np.ndarray:
    """0–100 points by rank among the values with data (NaN = no data stays NaN): the share
    of the others that are lower, ties counted half (the mid-rank), scaled so the lowest gets
    0 and the highest 100; a single value gets 50. Lower is better reverses it."""
    raw = np.asarray(raw, dtype=float)
    out = np.full(raw.shape, np.nan)
    have = ~np.isnan(raw)
    values = raw[have]
    n = len(values)
    if n == 0:
        return out
    if n == 1:
        out[have] = 50.0
        return out
    ordered = np.sort(values)
    below = np.searchsorted(ordered, values, side="left")
    equal = np.searchsorted(ordered, values, side="right") - below
    rank = below + (equal - 1) / 2.0
    pct = rank / (n - 1) * 100.0
    if direction == Direction.LOWER:
        pct = 100.0 - pct
    out[have] = pct
    return out


def weighted_score(points: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Per customer (rows) the weighted average of the measures' points (columns) over the
    measures with data (not NaN); NaN when none has data or their weights sum to 0."""
    points = np.asarray(points, dtype=float)
    w = np.asarray(weights, dtype=float)
    have = ~np.isnan(points)
    total = np.where(have, w, 0.0).sum(axis=1)
    summed = np.where(have, np.nan_to_num(points) * w, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(total > 0, summed / np.where(total > 0, total, 1.0), np.nan)
    return score


def score_round(value: float) -> int | None:
    if value is None or np.isnan(value):
        return None
    return int(np.floor(value + 0.5))


def colour_of(score: int | None, red_below: int, green_from: int) -> str:
    if score is None:
        return ""
    if score < red_below:
        return Colour.RED
    if score >= green_from:
        return Colour.GREEN
    return Colour.YELLOW


# --- who is scored, and by which scorecard ---------------------------------------------


def customers_scored(day: date) -> list[int]:
    """Customers scored on ``day``: signed up before its end, not churned before it."""
    from tend.customers.models import Customer

    start = day_start(day)
    return list(
        Customer.objects.filter(signed_up_at__lt=start + timedelta(days=1))
        .filter(Q(churned_at__isnull=True) | Q(churned_at__gte=start))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _scorecard_members(card: Scorecard) -> set[int] | None:
    """Customers a conditional scorecard matches now (None for the default: everyone else).
    A condition that no longer parses (e.g. it names a deleted segment) matches nobody."""
    if card.is_default:
        return None
    from tend.segments.conditions import ConditionError, customers_matching

    condition = card.condition
    if card.segment_id is not None:
        from tend.segments.models import Segment

        segment = Segment.objects.filter(pk=card.segment_id).first()
        if segment is None:
            return set()
        condition = segment.condition
    if not condition:
        return set()
    try:
        return set(customers_matching(condition).values_list("pk", flat=True))
    except ConditionError:
        log.warning("scorecard %s: its condition no longer applies; it matches nobody", card.pk)
        return set()


def scorecards_assign(ids: Sequence[int], cards: Sequence[Scorecard]) -> dict[int, np.ndarray]:
    """For each scorecard (by pk), the positions in ``ids`` it scores: the first matching
    conditional scorecard, the default one otherwise (customers no scorecard takes stay
    unscored only when there is no default)."""
    taken = np.zeros(len(ids), dtype=bool)
    id_arr = np.asarray(ids, dtype=np.int64)
    out: dict[int, np.ndarray] = {}
    for card in cards:
        members = _scorecard_members(card)
        if members is None:
            mask = ~taken
        else:
            mask = ~taken & np.isin(
                id_arr, np.fromiter(members, dtype=np.int64, count=len(members))
            )
        taken |= mask
        out[card.pk] = np.flatnonzero(mask)
    return out


# --- scoring -------------------------------------------------------------------------------


@dataclass
class DayResult:
    ids: list[int]
    scores: list[int | None]
    colours: list[str]
    cards: list[str]
    details: list[str]  # JSON text (written as is)


def _line_key(line: ScorecardMeasure) -> tuple[str, str]:
    return line.measure, json.dumps(line.params, sort_keys=True)


def _lines(card: Scorecard) -> list[ScorecardMeasure]:
    """The lines of a scorecard that count (weight > 0, measure registered)."""
    return [line for line in card.measures.all() if line.weight > 0 and line.measure in measures]


def _raw_values(
    cards: Sequence[Scorecard], ids: Sequence[int], days: Sequence[date]
) -> dict[tuple[str, str], dict[date, np.ndarray]]:
    """Every distinct (measure, params) of the scorecards, for every customer and day:
    arrays aligned with ``ids``, NaN = no data. Chunks of customers keep memory flat."""
    wanted: dict[tuple[str, str], tuple[Measure, dict[str, Any]]] = {}
    for card in cards:
        for line in _lines(card):
            wanted.setdefault(_line_key(line), (measures.get(line.measure), line.params))
    out: dict[tuple[str, str], dict[date, np.ndarray]] = {}
    position = {cid: i for i, cid in enumerate(ids)}
    with measures_run():
        _fill(wanted, ids, days, position, out)
    return out


def _fill(
    wanted: dict[tuple[str, str], tuple[Measure, dict[str, Any]]],
    ids: Sequence[int],
    days: Sequence[date],
    position: dict[int, int],
    out: dict[tuple[str, str], dict[date, np.ndarray]],
) -> None:
    for key, (measure, params) in wanted.items():
        arrays = {day: np.full(len(ids), np.nan) for day in days}
        # One day: SQL aggregates over everyone at once; many days (backfill): numpy arrays
        # per slice of customers, so memory stays flat.
        size = 100_000 if len(days) == 1 else 5_000
        for part in chunks(list(ids), size):
            got = measure_values(measure, part, days, params)
            for day, values in got.items():
                arr = arrays[day]
                for cid, value in values.items():
                    if value is not None and cid in position:
                        arr[position[cid]] = value
        out[key] = arrays


def _json_number(value: float) -> str:
    return "null" if value != value else repr(value)  # NaN (no data) → null


def score_day(
    day: date,
    ids: Sequence[int],
    cards: Sequence[Scorecard],
    raw: dict[tuple[str, str], np.ndarray],
    assignment: dict[int, np.ndarray],
) -> DayResult:
    """Scores of ``ids`` on ``day`` from the raw values (arrays aligned with ``ids``).

    ``details`` of each row (JSON): ``{"scorecard": name, "red_below": r, "green_from": g,
    "lines": [{"measure", "params", "weight", "raw", "points"}, …]}``."""
    n = len(ids)
    scores: list[int | None] = [None] * n
    colours = [""] * n
    card_names = [""] * n
    details = ["{}"] * n
    percentile_cache: dict[tuple[str, str, str], np.ndarray] = {}
    for card in cards:
        rows = assignment.get(card.pk)
        if rows is None or not len(rows):
            continue
        lines = [line for line in _lines(card) if _line_key(line) in raw]
        head = json.dumps(
            {"scorecard": card.name, "red_below": card.red_below, "green_from": card.green_from}
        )[:-1]
        if not lines:
            for r in rows:
                card_names[r] = card.name
                details[r] = head + ', "lines": []}'
            continue
        pts = np.full((len(rows), len(lines)), np.nan)
        raws = np.full((len(rows), len(lines)), np.nan)
        for j, line in enumerate(lines):
            key = _line_key(line)
            values = raw[key]
            raws[:, j] = values[rows]
            if line.mapping == Mapping.PERCENTILE:
                pkey = (*key, line.direction)
                if pkey not in percentile_cache:
                    percentile_cache[pkey] = points_percentile(values, line.direction)
                pts[:, j] = percentile_cache[pkey][rows]
            else:
                pts[:, j] = points_thresholds(values[rows], line.thresholds, line.direction)
        score = weighted_score(pts, [line.weight for line in lines])
        # JSON text of each line without its numbers: filled per customer below.
        stems = [
            json.dumps({"measure": line.measure, "params": line.params, "weight": line.weight})[:-1]
            for line in lines
        ]
        raw_rows = np.round(raws, 4).tolist()
        pts_rows = np.round(pts, 2).tolist()
        for k, r in enumerate(rows.tolist()):
            s = score_round(score[k])
            scores[r] = s
            colours[r] = colour_of(s, card.red_below, card.green_from)
            card_names[r] = card.name
            parts = [
                f'{stem}, "raw": {_json_number(rv)}, "points": {_json_number(pv)}}}'
                for stem, rv, pv in zip(stems, raw_rows[k], pts_rows[k], strict=True)
            ]
            details[r] = head + ', "lines": [' + ", ".join(parts) + "]}"
    return DayResult(list(ids), scores, colours, card_names, details)


State = dict[int, tuple[str, date | None]]  # customer → (colour, colour since)


def _state_before(day: date, ids: Sequence[int]) -> State:
    """Each customer's colour and colour_since on the day before ``day`` (its history row;
    else its latest health when that is older than ``day``). Read for everyone at once when
    (nearly) everyone is scored, else 500 customers at a time."""
    yesterday = day - timedelta(days=1)
    wanted = set(ids)
    before: State = {}
    parts: list[list[int] | None] = [None] if len(ids) > 5_000 else list(chunks(list(ids)))
    for part in parts:
        rows = HealthScore.objects.filter(day=yesterday)
        latest = CustomerHealth.objects.filter(day__lt=day)
        if part is not None:
            rows = rows.filter(customer_id__in=part)
            latest = latest.filter(customer_id__in=part)
        for cid, colour, since in rows.values_list("customer_id", "colour", "colour_since"):
            if cid in wanted:
                before[cid] = (colour, since)
        for cid, colour, since in latest.values_list("customer_id", "colour", "colour_since"):
            if cid in wanted:
                before.setdefault(cid, (colour, since))
    return before


def _write_day(
    day: date, result: DayResult, state: State, *, record_changes: bool
) -> tuple[dict[str, int], list[tuple[int, int | None, str, date | None]]]:
    """Replace the day's history rows (delete + insert in one transaction: idempotent), move
    ``state`` (colour and colour_since) on to ``day``, record colour changes in the outbox.
    Returns the counts and the rows for each customer's latest health."""
    from tend.lib.db import insert_rows

    changes: list[tuple[int, str, str, dict[str, Any], datetime | None]] = []
    at = day_start(day)
    changed = 0
    rows: list[tuple[Any, ...]] = []
    latest: list[tuple[int, int | None, str, date | None]] = []
    pg = connection.vendor == "postgresql"
    for i, cid in enumerate(result.ids):
        colour = result.colours[i]
        score = result.scores[i]
        prev = state.get(cid)
        if not colour:
            since = None
        elif prev is not None and prev[0] == colour and prev[1] is not None:
            since = prev[1]
        else:
            since = day
        state[cid] = (colour, since)
        rows.append(
            (
                cid,
                day if pg else day.isoformat(),
                score,
                colour,
                result.cards[i][:120],
                result.details[i],
                since if pg or since is None else since.isoformat(),
            )
        )
        latest.append((cid, score, colour, since))
        if prev is not None and prev[0] != colour:
            changed += 1
            if record_changes:
                changes.append(
                    (
                        cid,
                        ChangeKind.HEALTH,
                        f"health:{cid}:{day.isoformat()}",
                        {"from": prev[0], "to": colour, "score": score, "day": day.isoformat()},
                        at,
                    )
                )
    with transaction.atomic():
        HealthScore.objects.filter(day=day)._raw_delete(HealthScore.objects.db)
        insert_rows(
            HealthScore,
            ["customer", "day", "score", "colour", "scorecard", "details", "colour_since"],
            rows,
        )
        if changes:
            changes_record_bulk(changes)
    return {"scored": sum(1 for s in result.scores if s is not None), "changed": changed}, latest


def _write_latest(day: date, latest: list[tuple[int, int | None, str, date | None]]) -> None:
    """Each customer's latest health, unless a later day is stored already."""
    later = set(CustomerHealth.objects.filter(day__gt=day).values_list("customer_id", flat=True))
    objs = [
        CustomerHealth(customer_id=cid, day=day, score=score, colour=colour, colour_since=since)
        for cid, score, colour, since in latest
        if cid not in later
    ]
    with transaction.atomic():
        for part in chunks(objs, WRITE_CHUNK):
            CustomerHealth.objects.bulk_create(
                part,
                update_conflicts=True,
                unique_fields=["customer"],
                update_fields=["day", "score", "colour", "colour_since"],
            )


def _forget_unscored(day: date, ids: Sequence[int]) -> int:
    """Customers no longer scored (churned) lose their latest health, so conditions and Today
    do not read a stale colour; their history stays."""
    keep = set(ids)
    stale = [
        cid
        for cid in CustomerHealth.objects.filter(day__lte=day).values_list("customer_id", flat=True)
        if cid not in keep
    ]
    for part in chunks(stale):
        CustomerHealth.objects.filter(customer_id__in=part, day__lte=day).delete()
    return len(stale)


def health_score_days(
    days: Sequence[date],
    *,
    record_changes: Callable[[date], bool] = lambda day: True,
    progress: Callable[[date], None] | None = None,
) -> dict[str, int]:
    """Score every customer on each of ``days`` (ascending), many days per pass; the latest
    health (``CustomerHealth``) follows the last day."""
    days = sorted(set(days))
    totals = {"scored": 0, "changed": 0, "days": 0, "forgotten": 0}
    if not days:
        return totals
    cards = scorecards_ordered()
    state: State | None = None
    latest: list[tuple[int, int | None, str, date | None]] = []
    last_ids: list[int] = []
    for start in range(0, len(days), BACKFILL_SPAN):
        span = days[start : start + BACKFILL_SPAN]
        per_day = {day: customers_scored(day) for day in span}
        # Everyone scored on any day of the span, computed together; each day keeps its own.
        everyone = sorted(set().union(*per_day.values()))
        if state is None:
            state = _state_before(span[0], everyone)
        if not everyone:
            latest, last_ids = [], []
            continue
        assignment_all = scorecards_assign(everyone, cards)
        raw = _raw_values(cards, everyone, span)
        position = {cid: i for i, cid in enumerate(everyone)}
        with transaction.atomic():  # one commit per span of days, not per day
            latest = _score_span(
                span,
                per_day,
                everyone,
                position,
                cards,
                assignment_all,
                raw,
                state,
                record_changes,
                totals,
                progress,
            )
        last_ids = per_day[span[-1]]
    _write_latest(days[-1], latest)
    totals["forgotten"] = _forget_unscored(days[-1], last_ids)
    return totals


def _score_span(
    span: Sequence[date],
    per_day: dict[date, list[int]],
    everyone: list[int],
    position: dict[int, int],
    cards: Sequence[Scorecard],
    assignment_all: dict[int, np.ndarray],
    raw: dict[tuple[str, str], dict[date, np.ndarray]],
    state: State,
    record_changes: Callable[[date], bool],
    totals: dict[str, int],
    progress: Callable[[date], None] | None,
) -> list[tuple[int, int | None, str, date | None]]:
    latest: list[tuple[int, int | None, str, date | None]] = []
    for day in span:
        scored = per_day[day]
        rows = np.array([position[cid] for cid in scored], dtype=np.int64)
        day_raw = {key: arrays[day][rows] for key, arrays in raw.items()}
        where = np.full(len(everyone), -1, dtype=np.int64)
        where[rows] = np.arange(len(rows))
        assignment = {pk: where[idx][where[idx] >= 0] for pk, idx in assignment_all.items()}
        for cid in set(state) - set(scored):
            state.pop(cid, None)  # not scored that day: its run of days ends
        result = score_day(day, scored, cards, day_raw, assignment)
        counts, latest = _write_day(day, result, state, record_changes=record_changes(day))
        totals["scored"] += counts["scored"]
        totals["changed"] += counts["changed"]
        totals["days"] += 1
        if progress is not None:
            progress(day)
    return latest


def health_compute(as_of: date | None = None) -> dict[str, int]:
    """Score every customer for ``as_of`` (today, UTC, by default)."""
    as_of = as_of or today_utc()
    clock = time.perf_counter()
    counts = health_score_days([as_of])
    log.info("health for %s: %s in %.2f s", as_of, counts, time.perf_counter() - clock)
    return counts


def health_pipeline_step(as_of: date) -> dict[str, int]:
    """The daily pipeline's health step (tend/jobs/pipeline.py)."""
    return health_compute(as_of)


def health_backfill(
    days: int = 365,
    *,
    end: date | None = None,
    progress: Callable[[date], None] | None = None,
) -> dict[str, int]:
    """Compute the history of the ``days`` days ending with ``end`` (today by default), oldest
    first, from the rollups and movements as they were on each day. Colour changes reach the
    outbox only for ``end`` itself (history is not news). Idempotent."""
    if days < 1:
        raise ValueError("days must be at least 1")
    end = end or today_utc()
    span = [end - timedelta(days=k) for k in range(days - 1, -1, -1)]
    return health_score_days(span, record_changes=lambda day: day == end, progress=progress)


def health_history(
    customer_id: int, *, days: int = 90, end: date | None = None
) -> list[HealthScore]:
    end = end or today_utc()
    return list(
        HealthScore.objects.filter(
            customer_id=customer_id, day__gt=end - timedelta(days=days), day__lte=end
        ).order_by("day")
    )


def ids_of(items: Iterable[Any]) -> list[int]:
    return [int(getattr(item, "pk", item)) for item in items]


class _Rollback(Exception):
    pass


def preview_distribution(
    raw: dict[str, Any], *, instance: Scorecard | None = None, day: date | None = None
) -> dict[str, Any]:
    """What a scorecard (saved or not) would give on ``day``'s data (today by default): the
    customers it would score and their colours and scores in ten bands. The scorecard is
    saved inside a transaction that is rolled back, so nothing is written; raises
    ``ScorecardError`` like saving would."""
    from tend.health.scorecards import scorecard_save

    day = day or today_utc()
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            card = scorecard_save(raw, instance=instance)
            cards = scorecards_ordered()
            ids = customers_scored(day)
            assignment = scorecards_assign(ids, cards)
            values = {key: arrays[day] for key, arrays in _raw_values(cards, ids, [day]).items()}
            scored = score_day(day, ids, cards, values, assignment)
            mine = assignment.get(card.pk, np.array([], dtype=np.int64))
            scores = [scored.scores[int(r)] for r in mine]
            colours = [scored.colours[int(r)] for r in mine]
            bands = [0] * 10
            for s in scores:
                if s is not None:
                    bands[min(s // 10, 9)] += 1
            result = {
                "day": day,
                "customers": len(mine),
                "no_score": sum(1 for s in scores if s is None),
                "red": colours.count(Colour.RED),
                "yellow": colours.count(Colour.YELLOW),
                "green": colours.count(Colour.GREEN),
                "bands": [
                    {
                        "low": k * 10,
                        "high": k * 10 + (10 if k == 9 else 9),
                        "n": n,
                        "colour": colour_of(k * 10 + 5, card.red_below, card.green_from),
                    }
                    for k, n in enumerate(bands)
                ],
                "figure": bands_figure(bands, card.red_below, card.green_from),
                "median": int(np.median([s for s in scores if s is not None]))
                if any(s is not None for s in scores)
                else None,
            }
            raise _Rollback
    except _Rollback:
        pass
    return result


def bands_figure(bands: Sequence[int], red_below: int, green_from: int) -> dict[str, Any]:
    """A bar chart of how many customers score 0–9, 10–19, … 90–100, coloured by the
    colour of each band's middle."""
    from django.utils.translation import gettext

    from tend.lib.charts import AXIS as _AXIS
    from tend.lib.charts import CONFIG as _CONFIG
    from tend.lib.charts import LAYOUT as _LAYOUT

    colours = {Colour.RED: "#c0392b", Colour.YELLOW: "#d4a017", Colour.GREEN: "#2f7d5b"}
    labels = [f"{k * 10}–{k * 10 + (10 if k == 9 else 9)}" for k in range(10)]
    return {
        "data": [
            {
                "type": "bar",
                "x": labels,
                "y": list(bands),
                "marker": {
                    "color": [
                        colours[Colour(colour_of(k * 10 + 5, red_below, green_from))]
                        for k in range(10)
                    ]
                },
                "hovertemplate": "%{x}: %{y}<extra></extra>",
                "name": gettext("Customers"),
            }
        ],
        "layout": {
            **_LAYOUT,
            "xaxis": {**_AXIS, "type": "category", "title": {"text": gettext("Score")}},
            "yaxis": {**_AXIS, "showgrid": True, "gridcolor": "#eef1f4", "rangemode": "tozero"},
        },
        "config": _CONFIG,
    }
