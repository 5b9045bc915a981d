"""The churn model's training set: who was at risk on a day, what they looked like before it,
and whether they churned within the horizon after it, with no leakage.

The rules (docs/prediction.md):

- An *observation date* ``at`` is a day; ``at`` 00:00 UTC splits time. Features read only what
  happened strictly before it; the label looks at ``[at, at + horizon)`` (half-open, UTC).
- The *population* at ``at`` is the customers paying then, judged from the billing history
  (the MRR ledger), never from today's state.
- Observation dates are the first days of months whose label window has fully passed.
- Traits (``Customer.traits``) and profile fields have no history: they are taken as they are
  now. That is a leakage risk unless they are stable; traits whose name looks like a churn
  flag or a status are left out, and so are free-text-like ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tend.predict import features_builtin as fb
from tend.predict.features import Feature, features

DEFAULT_HORIZON_DAYS = 90
# A trait is a feature only if at least this many customers carry it.
TRAIT_MIN_CUSTOMERS = 2
# More distinct values than this, or values longer than TRAIT_MAX_TEXT: free text, left out.
TRAIT_MAX_CATEGORIES = 50
TRAIT_MAX_TEXT = 80
# Trait names that may carry the outcome itself (a churn flag, a cancellation, a status).
LEAKY_TRAIT = re.compile(r"churn|cancel|status|流失|取消|状态", re.IGNORECASE)
TRAIT_PREFIX = "trait:"


# --- dates and population -----------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def observation_dates(
    *, end: date, count: int = 12, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> list[date]:
    """The first days of the ``count`` latest months whose label window has fully passed by
    ``end`` (``d + horizon ≤ end``), oldest first. ``horizon_days=0`` ("by the next renewal")
    counts as a month, the usual billing period."""
    horizon = timedelta(days=horizon_days or 31)
    first = end.replace(day=1)
    out: list[date] = []
    months = 0
    while len(out) < count and months < 1200:
        day = _add_months(first, -months)
        if day + horizon <= end:
            out.append(day)
        months += 1
    return sorted(out)


def population(at: date) -> list[int]:
    """The customers at risk at ``at`` 00:00 UTC: paying then, sorted by id.

    Paying is read from the MRR ledger: the customer's last movement before ``at`` left a
    positive MRR (so a customer who churned before ``at`` and did not come back is out). A
    customer with no movement before ``at`` at all counts when one of its subscriptions with a
    positive MRR was running then (started before, not canceled before): data loaded without
    a ledger.
    """
    moves = fb.movements(None, at)
    last = moves.groupby("customer_id")["mrr_after"].last()
    paying = set(last[last > 0].index.tolist())
    live = fb.live_subscriptions(None, at)
    fallback = live[(live["mrr"] > 0) & ~live["customer_id"].isin(last.index)]
    paying.update(fallback["customer_id"].tolist())
    return sorted(int(cid) for cid in paying)


# --- labels -------------------------------------------------------------------------------

_INTERVAL_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def next_renewal(started: datetime, interval: str, after: datetime) -> datetime:
    """The first period end of a subscription started at ``started`` that is after ``after``:
    periods follow each other from the start (weekly: every 7 days; monthly, quarterly,
    yearly: on the start's day of the month, clamped to the month's last day)."""
    if interval == "week":
        weeks = max(0, (after - started).days // 7)
        end = started + timedelta(days=7 * weeks)
        while end <= after:
            end += timedelta(days=7)
        return end
    step = _INTERVAL_MONTHS.get(interval, 1)
    months = max(0, (after.year - started.year) * 12 + after.month - started.month)
    months -= months % step
    while True:
        end_day = _add_months(started.date(), months)
        end = datetime.combine(end_day, started.timetz())
        if end > after:
            return end
        months += step


def renewal_ends(customer_ids: Sequence[int], at: date) -> dict[int, date]:
    """Per customer, the end (exclusive) of the "by the next renewal" label window: the day
    after the latest next period end among the subscriptions running at ``at``. Period ends
    are not kept in history (``current_period_end`` is today's), so they are worked out from
    each subscription's start and billing interval; a customer with no subscription running
    (ledger-only data) gets a month."""
    start = fb.day_start(at)
    live = fb.live_subscriptions(customer_ids, at)
    out: dict[int, date] = {}
    for cid, started, interval in zip(
        live["customer_id"].tolist(),
        live["started_at"].tolist(),
        live["interval"].tolist(),
        strict=True,
    ):
        renewal = next_renewal(started.to_pydatetime(), interval, start)
        end = renewal.date() + timedelta(days=1)
        if end > out.get(cid, end - timedelta(days=1)):
            out[cid] = end
    for cid in customer_ids:
        out.setdefault(int(cid), _add_months(at, 1))
    return out


def labels(*, customer_ids: Sequence[int], at: date, horizon_days: int) -> np.ndarray:
    """1 for each customer with a churn movement in ``[at, at + horizon)`` (UTC, half-open),
    else 0, in the order of ``customer_ids``. ``horizon_days=0``: until the next renewal
    (``renewal_ends``)."""
    from tend.billing.models import MovementKind, MrrMovement

    ids = [int(cid) for cid in customer_ids]
    if horizon_days < 0:
        raise ValueError("horizon_days must be 0 (next renewal) or more")
    start = fb.day_start(at)
    if horizon_days:
        ends = None
        until = start + timedelta(days=horizon_days)
    else:
        ends = renewal_ends(ids, at)
        until = fb.day_start(max(ends.values(), default=at))
    churned: dict[int, list[datetime]] = {}
    for part in fb.parts(ids):
        rows = fb.only(
            MrrMovement.objects.filter(kind=MovementKind.CHURN, at__gte=start, at__lt=until),
            part,
        ).values_list("customer_id", "at")
        for cid, moment in rows:
            churned.setdefault(cid, []).append(moment)
    if ends is None:
        return np.isin(np.asarray(ids, dtype=np.int64), list(churned)).astype(np.int64)
    out = np.zeros(len(ids), dtype=np.int64)
    for i, cid in enumerate(ids):
        moments = churned.get(cid)
        if moments:
            limit = fb.day_start(ends[cid])
            out[i] = int(any(moment < limit for moment in moments))
    return out


# --- traits -------------------------------------------------------------------------------


def _parse_number(text: str) -> float | None:
    text = text.strip().replace(",", "") if isinstance(text, str) else text
    if not text or len(text) > 40:
        return None
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _to_float(value: Any) -> float:
    if value is None or isinstance(value, bool | dict | list):
        return float(value) if isinstance(value, bool) else math.nan
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else math.nan
    if isinstance(value, str):
        parsed = _parse_number(value)
        return math.nan if parsed is None else parsed
    return math.nan


def _to_category(value: Any) -> Any:
    if value is None or isinstance(value, dict | list):
        return np.nan
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return np.nan
    text = str(value).strip()
    return text if text else np.nan


def _numbers(column: pd.Series) -> pd.Series:
    """Each value as a finite float or NaN (numbers, numeric text such as "1,200", true/false
    as 1/0), vectorised; the value-by-value path when a value defeats pandas."""
    obj = column.astype(object)
    try:
        types = obj.map(type)
        if types.isin([dict, list]).any():
            raise ValueError("nested values")
        text = types.isin([str])
        cleaned = obj.copy()
        if text.any():
            stripped = obj[text].str.strip().str.replace(",", "", regex=False)
            stripped = stripped.where(stripped.str.len() <= 40, None)
            cleaned[text] = stripped
        booleans = types.isin([bool])
        cleaned[booleans] = obj[booleans].astype(float)
        numbers = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    except (OverflowError, ValueError, TypeError):
        numbers = obj.map(_to_float).astype("float64")
    return numbers.where(np.isfinite(numbers))


def _categories(column: pd.Series) -> pd.Series:
    """Each value as stripped text, true/false for booleans, NaN when blank or a list."""
    obj = column.astype(object)
    types = obj.map(type)
    out = obj.map(_to_category) if types.isin([dict, list, float, bool]).any() else None
    if out is None:
        present = obj.notna()
        text = obj[present].astype(str).str.strip()
        out = pd.Series(np.nan, index=obj.index, dtype="object")
        out[present] = text.where(text != "", np.nan)
    return out.astype("object")


def trait_kinds(values: Mapping[str, Iterable[Any]]) -> dict[str, str]:
    """Which traits become features, and how: {name: "numeric"|"categorical"}.

    Left out: names that look like the outcome (churn, cancel, status), traits fewer than
    ``TRAIT_MIN_CUSTOMERS`` customers carry, lists and objects, and free-text-like ones (more
    than ``TRAIT_MAX_CATEGORIES`` distinct values or values longer than ``TRAIT_MAX_TEXT``).
    A trait whose every value is a number (or numeric text) is numeric; true/false is numeric.
    """
    out: dict[str, str] = {}
    for name, raw in values.items():
        if LEAKY_TRAIT.search(name):
            continue
        column = pd.Series(list(raw), dtype="object")
        types = column.map(type)
        blank = column.isna().to_numpy(dtype=bool)
        strings = types.isin([str]).to_numpy(dtype=bool)
        if strings.any():
            stripped = [value.strip() for value in column[strings]]
            blank[strings] = np.array([text == "" for text in stripped], dtype=bool)
        present = column[~blank]
        kinds = set(types[~blank])
        if len(present) < TRAIT_MIN_CUSTOMERS or kinds & {dict, list}:
            continue
        if kinds == {bool}:
            out[name] = "numeric"
            continue
        if bool not in kinds and _numbers(present).notna().all():
            out[name] = "numeric"
            continue
        texts = present.astype(str).str.strip()
        if texts.nunique() > TRAIT_MAX_CATEGORIES or texts.str.len().max() > TRAIT_MAX_TEXT:
            continue
        out[name] = "categorical"
    return out


def _traits_table(ids: Sequence[int] | None) -> pd.DataFrame:
    """Every customer's traits as columns (one row per customer id); read once per build."""

    def load(which: Sequence[int] | None) -> pd.DataFrame:
        profile = fb.profile(which)
        records = [t if isinstance(t, dict) else {} for t in profile["traits"].tolist()]
        if not records:
            return pd.DataFrame(index=profile.index)
        return pd.DataFrame.from_records(records, index=profile.index)

    scope = fb._scope.get()
    if scope is not None and scope.until is not None:
        table = fb._cached("traits_table", None, None, lambda: load(None))
        return table if ids is None else table.reindex(pd.Index(list(ids), dtype="int64"))
    return fb._cached("traits_table", None, ids, lambda: load(ids))


def trait_features(names: Mapping[str, str] | None = None) -> list[Feature]:
    """One feature per usable trait (``trait:<name>``). ``names`` ({name: kind}) fixes the
    set, as a fitted model does; None works it out from every customer's traits now."""
    if names is None:
        table = _traits_table(None)
        names = trait_kinds({str(col): table[col].tolist() for col in table.columns})
    out = []
    for name, kind in names.items():
        label = gettext("trait “%(name)s”") % {"name": name}
        explain = fb.explain_number(label) if kind == "numeric" else fb.explain_category(label)
        out.append(
            Feature(
                name=TRAIT_PREFIX + name,
                label=label,
                kind=kind,
                compute=_trait_compute(name, kind),
                explain=explain,
                group="traits",
            )
        )
    return out


def _trait_values(column: pd.Series, kind: str) -> pd.Series:
    """A trait column as float64 (numeric) or stripped text with NaN (categorical)."""
    if kind == "numeric":
        return _numbers(column)
    return _categories(column)


def _trait_compute(name: str, kind: str) -> Any:
    def compute(ids: Sequence[int], as_of: date) -> pd.Series:
        index = pd.Index(list(ids), dtype="int64", name="customer_id")
        scope = fb._scope.get()
        if scope is not None and scope.until is not None:
            # Traits have no history: converted once per build, picked per day.
            values = fb._cached(
                "trait:" + name,
                None,
                None,
                lambda: _trait_column(None, name, kind),
            )
            return values.reindex(index)
        return _trait_column(ids, name, kind).reindex(index)

    return compute


def _trait_column(ids: Sequence[int] | None, name: str, kind: str) -> pd.Series:
    table = _traits_table(ids)
    if name not in table.columns:
        return pd.Series(np.nan, index=table.index, dtype="float64")
    return _trait_values(table[name], kind)


# --- the frame ----------------------------------------------------------------------------


def frame_features(traits: Mapping[str, str] | None = None) -> list[Feature]:
    """The features of a frame: every registered one in registry order, then the traits."""
    return [*features, *trait_features(traits)]


def _column(feature: Feature, ids: list[int], at: date) -> pd.Series:
    index = pd.Index(ids, dtype="int64", name="customer_id")
    result = feature.compute(ids, at)
    if isinstance(result, pd.Series):
        column = result.reindex(index)
    else:
        column = pd.Series([result.get(cid) for cid in ids], index=index, dtype="object")
    if feature.kind == "numeric":
        if column.dtype == object:
            column = column.map(_to_float)
        return column.astype("float64")
    return column.astype("object").where(column.notna(), np.nan)


def feature_frame(
    *,
    at: date,
    customer_ids: Sequence[int] | None = None,
    traits: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The features of ``customer_ids`` (default: ``population(at)``) as of ``at``: index
    customer_id, one column per feature (``frame_features(traits)``), numeric as float64 with
    NaN for missing, categorical as object (text, NaN for missing). Reads only data before
    ``at`` 00:00 UTC, in a fixed number of queries whatever the number of customers."""
    scope = nullcontext() if fb._scope.get() is not None else fb.sources_run()
    with scope:
        ids = population(at) if customer_ids is None else [int(c) for c in customer_ids]
        chosen = frame_features(traits)
        columns = {feature.name: _column(feature, ids, at) for feature in chosen}
    frame = pd.DataFrame(columns, index=pd.Index(ids, dtype="int64", name="customer_id"))
    return frame[[feature.name for feature in chosen]]


def feature_kinds(traits: Mapping[str, str] | None = None) -> dict[str, str]:
    return {feature.name: feature.kind for feature in frame_features(traits)}


# --- training sets ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TrainingSet:
    """Rows are (customer, observation day); ``X`` has one column per feature."""

    X: pd.DataFrame
    y: np.ndarray
    customer_id: np.ndarray
    day: np.ndarray  # datetime64[D]; NaT for the trait-only mode
    kinds: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)

    @property
    def traits(self) -> dict[str, str]:
        """{trait name: kind} of the trait columns, to build a scoring frame with the same
        columns (``feature_frame(traits=…)``)."""
        return {
            name.removeprefix(TRAIT_PREFIX): kind
            for name, kind in self.kinds.items()
            if name.startswith(TRAIT_PREFIX)
        }


def training_set(
    *,
    dates: Sequence[date],
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    traits: Mapping[str, str] | None = None,
) -> TrainingSet:
    """The population of each date with its features as of that date and its label over
    ``[date, date + horizon)``. Sources that do not depend on the day are read once."""
    days = sorted(set(dates))
    if not days:
        frame = pd.DataFrame(columns=[f.name for f in frame_features(traits or {})])
        return TrainingSet(
            X=frame,
            y=np.zeros(0, dtype=np.int64),
            customer_id=np.zeros(0, dtype=np.int64),
            day=np.zeros(0, dtype="datetime64[D]"),
            kinds=feature_kinds(traits or {}),
        )
    frames: list[pd.DataFrame] = []
    ys: list[np.ndarray] = []
    stamp: list[np.ndarray] = []
    with fb.sources_run(until=days[-1]):
        if traits is None:
            traits = {f.name.removeprefix(TRAIT_PREFIX): f.kind for f in trait_features()}
        for day in days:
            ids = population(day)
            frames.append(feature_frame(at=day, customer_ids=ids, traits=traits))
            ys.append(labels(customer_ids=ids, at=day, horizon_days=horizon_days))
            stamp.append(np.full(len(ids), np.datetime64(day, "D")))
    X = pd.concat(frames)
    ids_all = X.index.to_numpy(dtype=np.int64)
    kinds = feature_kinds(traits)
    for name, kind in kinds.items():
        if kind == "categorical":
            X[name] = X[name].astype("object")
    return TrainingSet(
        X=X.reset_index(drop=True),
        y=np.concatenate(ys).astype(np.int64),
        customer_id=ids_all,
        day=np.concatenate(stamp).astype("datetime64[D]"),
        kinds=kinds,
    )


# --- trait-only mode ----------------------------------------------------------------------

_YES = {"1", "true", "yes", "y", "是", "t"}
_NO = {"0", "false", "no", "n", "否", "f"}


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1 = the first data row (the header is row 0)
    column: str
    message: str

    def __str__(self) -> str:
        return gettext("row %(row)s, column “%(column)s”: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


class TraitsTableError(ValueError):
    """The table has rows that cannot be used; ``problems`` names each row and column."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        self.problems = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:20])
        more = len(self.problems) - 20
        if more > 0:
            shown += " " + gettext("(and %(n)s more)") % {"n": more}
        super().__init__(shown)


def parse_flag(value: Any) -> int | None:
    """1/0 from 1/0, true/false, yes/no, 是/否 (any case, spaces around), None if not one."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in _YES:
        return 1
    if text in _NO:
        return 0
    return None


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return str(_("contains a NUL character"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return str(_("is not valid text (a lone surrogate)"))
    return None


def traits_training_set(
    rows: Iterable[Mapping[str, Any]], *, label: str, id_column: str | None = None
) -> TrainingSet:
    """A training set from a customer table with a churned flag and traits but no history
    (a CSV from a CRM): ``label`` is the flag's column, ``id_column`` the customer id (row
    numbers without one). Other columns are features: numeric when every filled value is a
    finite number, else categorical (free-text-like and outcome-like columns left out, as for
    traits). Bad rows raise ``TraitsTableError`` naming each row and column; none is dropped.
    """
    problems: list[RowProblem] = []
    ids: list[Any] = []
    ys: list[int] = []
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            problems.append(RowProblem(number, "", str(_("is not a row of named columns"))))
            continue
        record: dict[str, Any] = {}
        bad = False
        for key, value in row.items():
            if key is None or not isinstance(key, str):
                problems.append(RowProblem(number, "", str(_("has more values than columns"))))
                bad = True
                continue
            problem = _text_problem(key)
            if problem:
                problems.append(
                    RowProblem(number, key.encode("utf-8", "replace").decode(), problem)
                )
                bad = True
                continue
            if isinstance(value, list | tuple | dict):
                problems.append(RowProblem(number, key, str(_("has several values"))))
                bad = True
                continue
            if isinstance(value, str):
                problem = _text_problem(value)
                if problem:
                    problems.append(RowProblem(number, key, problem))
                    bad = True
                    continue
            record[key] = value
        if label not in row:
            problems.append(RowProblem(number, label, str(_("is missing"))))
            bad = True
        else:
            flag = parse_flag(row[label])
            if flag is None:
                problems.append(
                    RowProblem(number, label, str(_("is not 1/0, true/false, yes/no or 是/否")))
                )
                bad = True
        if id_column is not None:
            raw_id = row.get(id_column)
            text_id = "" if raw_id is None else str(raw_id).strip()
            if not text_id:
                problems.append(RowProblem(number, id_column, str(_("is empty"))))
                bad = True
            elif text_id in seen:
                problems.append(RowProblem(number, id_column, str(_("repeats an earlier row"))))
                bad = True
            else:
                seen.add(text_id)
        if bad:
            continue
        ys.append(int(parse_flag(row[label]) or 0))
        ids.append(str(row[id_column]).strip() if id_column is not None else number)
        record.pop(label, None)
        if id_column is not None:
            record.pop(id_column, None)
        records.append(record)
    if problems:
        raise TraitsTableError(problems)
    columns: dict[str, list[Any]] = {}
    for record in records:
        for key in record:
            columns.setdefault(key, [])
    for key in columns:
        columns[key] = [record.get(key) for record in records]
    kinds = trait_kinds(columns)
    data: dict[str, pd.Series] = {}
    for name, kind in kinds.items():
        data[name] = _trait_values(pd.Series(columns[name], dtype="object"), kind)
    X = pd.DataFrame(data, index=pd.RangeIndex(len(records)))
    return TrainingSet(
        X=X,
        y=np.asarray(ys, dtype=np.int64),
        customer_id=np.asarray(ids, dtype=object),
        day=np.full(len(records), np.datetime64("NaT"), dtype="datetime64[D]"),
        kinds=kinds,
    )


def customers_traits_training_set(*, label: str = "churned") -> TrainingSet:
    """The trait-only training set from the customers in the database whose traits carry
    ``label`` (a churned flag): their traits plus industry, size, channel and country."""
    from tend.customers.models import Customer

    rows: list[dict[str, Any]] = []
    for pk, traits, industry, size, channel, country in (
        Customer.objects.filter(traits__has_key=label)
        .order_by("pk")
        .values_list("pk", "traits", "industry", "size", "channel", "country")
        .iterator(chunk_size=5_000)
    ):
        row: dict[str, Any] = {
            key: value
            for key, value in (traits or {}).items()
            if not isinstance(value, dict | list)
        }
        row.update(
            {
                "id": pk,
                "industry": industry or None,
                "size": size,
                "channel": channel or None,
                "country": country or None,
            }
        )
        rows.append(row)
    result = traits_training_set(rows, label=label, id_column="id")
    return TrainingSet(
        X=result.X,
        y=result.y,
        customer_id=result.customer_id.astype(np.int64),
        day=result.day,
        kinds=result.kinds,
    )
