"""Churn models: a regularised logistic regression and a histogram gradient-boosted tree model,
fitted on a feature frame, calibrated, compared with a time-based backtest (or stratified
5-fold cross-validation for a trait-only table) against the baseline "days since last
activity", and explained per customer.

No database here: everything takes pandas/numpy (``tend.predict.actions`` reads the training
set and stores the result; ``tend.predict.scoring`` scores a day). docs/prediction.md
explains the choices (class weights, calibration, the embargo before the test dates).

Class imbalance: churners are a few percent of the rows, so both models are fitted with
balanced class weights (each class weighs half of the loss) — otherwise the trees barely split
on the rare class and the linear model's coefficients are dominated by the retained rows. That
weighting inflates the raw probabilities (a model trained as if half the rows churned), so
every model is then calibrated with Platt scaling fitted on a *time-later slice of its own
training rows* (the last quarter of the training dates; a stratified quarter when there are no
dates), never on the test rows: the stored risk is an honest probability.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import numpy as np
import pandas as pd
from django.utils.translation import gettext_noop

from tend.predict import evaluation
from tend.predict.errors import NotEnoughData

LOGISTIC = "logistic"
BOOSTING = "boosting"
KINDS = (LOGISTIC, BOOSTING)
# The baseline every model must beat: days since the customer's last activity, as a ranking.
# The first of these columns found in the frame is used (features registry names).
BASELINE_FEATURES = (
    "days_since_last_activity",
    "days_since_last_active",
    "days_since_last_seen",
    "recency_days",
)
BASELINE_PRIOR = "prior"  # trait-only tables without such a column: the churn rate for all
MAX_LEVELS = 50  # categories kept per categorical feature (the rest read as "missing")
MIN_ROWS = 50
MIN_RETAINED = 20
LOGISTIC_PARAMS: dict[str, Any] = {"C": 1.0, "class_weight": "balanced", "max_iter": 2000}
BOOSTING_PARAMS: dict[str, Any] = {
    "learning_rate": 0.1,
    "max_iter": 100,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "class_weight": "balanced",
    "early_stopping": False,
    "random_state": 0,
}

MSG_CHURNED = gettext_noop("not enough data to train: {have} churned, need {need}")
MSG_ROWS = gettext_noop("not enough data to train: {have} rows, need {need}")
MSG_RETAINED = gettext_noop("not enough data to train: {have} retained, need {need}")
MSG_FEATURES = gettext_noop("not enough data to train: {have} features with values, need {need}")
MSG_TEST = gettext_noop(
    "not enough data to backtest: {have} churned on the test dates, need {need}"
)
MSG_DATES = gettext_noop("not enough data to backtest: {have} observation dates, need {need}")


# --- the feature layout: what the scorer needs to turn a frame into model input -----------


@dataclass
class Layout:
    """Feature names in order, their kinds, numeric medians and categorical levels, learnt on
    the training rows and stored with the model (``ChurnModel.preprocessing``)."""

    features: list[str]
    kinds: dict[str, str]
    medians: dict[str, float | None]
    levels: dict[str, list[str]]

    @classmethod
    def learn(cls, X: pd.DataFrame, kinds: dict[str, str]) -> Layout:
        features: list[str] = []
        medians: dict[str, float | None] = {}
        levels: dict[str, list[str]] = {}
        for name in map(str, X.columns):
            kind = kinds.get(name, "numeric")
            column = X[name]
            if kind == "categorical":
                values = column.dropna().astype(str)
                if values.empty:
                    continue
                counts = values.value_counts()
                levels[name] = sorted(counts.index[:MAX_LEVELS].tolist())
            else:
                numbers = pd.to_numeric(column, errors="coerce")
                if numbers.notna().sum() == 0:
                    continue  # all missing: nothing to learn from it
                medians[name] = float(numbers.median())
            features.append(name)
        return cls(features, {n: kinds.get(n, "numeric") for n in features}, medians, levels)

    def numeric(self, X: pd.DataFrame, name: str) -> np.ndarray:
        if name not in X.columns:
            return np.full(len(X), np.nan)
        return pd.to_numeric(X[name], errors="coerce").to_numpy(dtype=float)

    def codes(self, X: pd.DataFrame, name: str) -> np.ndarray:
        """A categorical feature as level indexes (float, NaN for missing or unseen)."""
        if name not in X.columns:
            return np.full(len(X), np.nan)
        column = X[name]
        present = column.notna().to_numpy()
        codes = np.full(len(X), np.nan)
        if present.any():
            found = pd.Categorical(
                column[present].astype(str), categories=self.levels[name]
            ).codes.astype(float)
            found[found < 0] = np.nan
            codes[present] = found
        return codes

    def typical(self, name: str) -> Any:
        """The value a driver compares against: the median, or the most common level."""
        if self.kinds[name] == "categorical":
            return self.levels[name][0] if self.levels[name] else None
        return self.medians.get(name)

    def as_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "kinds": dict(self.kinds),
            "medians": dict(self.medians),
            "levels": {k: list(v) for k, v in self.levels.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layout:
        return cls(
            list(data["features"]),
            dict(data["kinds"]),
            {k: (None if v is None else float(v)) for k, v in data.get("medians", {}).items()},
            {k: [str(x) for x in v] for k, v in data.get("levels", {}).items()},
        )


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


@dataclass
class Calibration:
    """risk = sigmoid(slope × raw log-odds + intercept) (Platt scaling)."""

    slope: float = 1.0
    intercept: float = 0.0
    method: str = "platt"

    def apply(self, raw: np.ndarray) -> np.ndarray:
        return _sigmoid(self.slope * raw + self.intercept)

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "slope": self.slope, "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        return cls(float(data["slope"]), float(data["intercept"]), str(data.get("method", "platt")))


class Predictor(Protocol):
    kind: str
    layout: Layout
    calibration: Calibration

    def raw(self, X: pd.DataFrame) -> np.ndarray: ...

    def predict(self, X: pd.DataFrame) -> np.ndarray: ...

    def effects(self, X: pd.DataFrame) -> pd.DataFrame: ...


# --- logistic regression, as plain numbers ----------------------------------------------------


@dataclass
class LinearChurn:
    """Logistic regression on standardised columns: numeric features (signed log, missing
    filled with the median plus a missing indicator) and one-hot categoricals. Everything it
    needs to predict is a handful of JSON lists, so it is stored as JSON."""

    layout: Layout
    columns: list[str] = field(default_factory=list)  # design columns
    column_feature: list[str] = field(default_factory=list)  # the original feature of each
    missing: list[str] = field(default_factory=list)  # numeric features with an indicator
    means: list[float] = field(default_factory=list)
    scales: list[float] = field(default_factory=list)
    coef: list[float] = field(default_factory=list)
    intercept: float = 0.0
    calibration: Calibration = field(default_factory=Calibration)
    params: dict[str, Any] = field(default_factory=lambda: dict(LOGISTIC_PARAMS))
    kind: str = LOGISTIC

    def _design(self, X: pd.DataFrame, *, learn: bool = False) -> np.ndarray:
        blocks: list[np.ndarray] = []
        names: list[str] = []
        owners: list[str] = []
        if learn:
            self.missing = []
        for name in self.layout.features:
            if self.layout.kinds[name] == "categorical":
                codes = self.layout.codes(X, name)
                for i, level in enumerate(self.layout.levels[name]):
                    blocks.append((codes == i).astype(float))
                    names.append(f"{name}={level}")
                    owners.append(name)
                continue
            values = self.layout.numeric(X, name)
            absent = np.isnan(values)
            median = self.layout.medians.get(name)
            filled = np.where(absent, 0.0 if median is None else median, values)
            blocks.append(_signed_log(filled))
            names.append(name)
            owners.append(name)
            if learn and absent.any() and not absent.all():
                self.missing.append(name)
            if name in self.missing:
                blocks.append(absent.astype(float))
                names.append(f"{name}__missing")
                owners.append(name)
        design = np.column_stack(blocks) if blocks else np.zeros((len(X), 0))
        if learn:
            self.columns, self.column_feature = names, owners
            self.means = design.mean(axis=0).tolist()
            scales = design.std(axis=0)
            self.scales = np.where(scales > 1e-12, scales, 1.0).tolist()
        design -= np.asarray(self.means)  # in place: the design matrix is the big allocation
        design /= np.asarray(self.scales)
        return design

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> LinearChurn:
        from sklearn.linear_model import LogisticRegression

        design = self._design(X, learn=True)
        model = LogisticRegression(**self.params).fit(design, y)
        self.coef = model.coef_[0].tolist()
        self.intercept = float(model.intercept_[0])
        return self

    def raw(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self._design(X) @ np.asarray(self.coef) + self.intercept)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.calibration.apply(self.raw(X))

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Log-odds contribution of each original feature: Σ coef × standardised value over
        its design columns (0 = the training average)."""
        parts = self._design(X) * np.asarray(self.coef)
        frame = pd.DataFrame(parts, columns=self.columns, index=X.index)
        return (
            frame.T.groupby(np.asarray(self.column_feature), sort=False)
            .sum()
            .T.reindex(columns=self.layout.features, fill_value=0.0)
        )

    def effects(self, X: pd.DataFrame) -> pd.DataFrame:
        """Risk now minus risk with the feature's contribution removed (at the average), in
        probability units."""
        raw = self.raw(X)
        risk = self.calibration.apply(raw)
        contributions = self.contributions(X)
        without = self.calibration.apply(raw[:, None] - contributions.to_numpy())
        return pd.DataFrame(risk[:, None] - without, columns=contributions.columns, index=X.index)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": "tend-linear-1",
            "layout": self.layout.as_json(),
            "columns": self.columns,
            "column_feature": self.column_feature,
            "missing": self.missing,
            "means": self.means,
            "scales": self.scales,
            "coef": self.coef,
            "intercept": self.intercept,
            "transform": "signed_log1p",
            "calibration": self.calibration.as_json(),
            "params": self.params,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearChurn:
        if data.get("format") != "tend-linear-1":
            raise ValueError("not a Tend linear churn model")
        model = cls(Layout.from_json(data["layout"]))
        model.columns = [str(c) for c in data["columns"]]
        model.column_feature = [str(c) for c in data["column_feature"]]
        model.missing = [str(c) for c in data["missing"]]
        model.means = [float(v) for v in data["means"]]
        model.scales = [float(v) for v in data["scales"]]
        model.coef = [float(v) for v in data["coef"]]
        if not len(model.columns) == len(model.means) == len(model.scales) == len(model.coef):
            raise ValueError("linear churn model: columns and coefficients differ in length")
        model.intercept = float(data["intercept"])
        model.calibration = Calibration.from_json(data["calibration"])
        model.params = dict(data.get("params", {}))
        return model


# --- gradient boosting --------------------------------------------------------------------------


@dataclass
class BoostedChurn:
    """scikit-learn's HistGradientBoostingClassifier with native categorical support
    (categories as level codes, unseen ones as missing) and balanced class weights."""

    layout: Layout
    estimator: Any = None
    calibration: Calibration = field(default_factory=Calibration)
    params: dict[str, Any] = field(default_factory=lambda: dict(BOOSTING_PARAMS))
    kind: str = BOOSTING

    def matrix(self, X: pd.DataFrame) -> np.ndarray:
        columns = [
            self.layout.codes(X, n)
            if self.layout.kinds[n] == "categorical"
            else self.layout.numeric(X, n)
            for n in self.layout.features
        ]
        return np.column_stack(columns) if columns else np.zeros((len(X), 0))

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> BoostedChurn:
        from sklearn.ensemble import HistGradientBoostingClassifier

        mask = [self.layout.kinds[n] == "categorical" for n in self.layout.features]
        self.estimator = HistGradientBoostingClassifier(
            categorical_features=np.asarray(mask, dtype=bool) if any(mask) else None,
            **self.params,
        ).fit(self.matrix(X), y)
        return self

    def raw(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.estimator.decision_function(self.matrix(X)), dtype=float)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.calibration.apply(self.raw(X))

    def effects(self, X: pd.DataFrame) -> pd.DataFrame:
        """What-if contributions (model-agnostic): risk now minus risk with this one feature
        set to the training population's typical value, one vectorised prediction a feature."""
        risk = self.predict(X)
        matrix = self.matrix(X)
        out = np.zeros((len(X), len(self.layout.features)))
        for j, name in enumerate(self.layout.features):
            typical = self.layout.typical(name)
            changed = matrix.copy()
            if self.layout.kinds[name] == "categorical":
                changed[:, j] = 0.0 if typical is not None else np.nan
            else:
                changed[:, j] = np.nan if typical is None else typical
            raw = np.asarray(self.estimator.decision_function(changed), dtype=float)
            out[:, j] = risk - self.calibration.apply(raw)
        return pd.DataFrame(out, columns=self.layout.features, index=X.index)


def new_model(kind: str, layout: Layout) -> LinearChurn | BoostedChurn:
    if kind == LOGISTIC:
        return LinearChurn(layout)
    if kind == BOOSTING:
        return BoostedChurn(layout)
    raise ValueError(f"unknown churn model kind {kind!r}")


# --- fitting with calibration ---------------------------------------------------------------


def _calibration_slice(y: np.ndarray, days: np.ndarray | None, seed: int = 0) -> np.ndarray:
    """Which training rows calibrate: the last quarter of the observation dates (at least one
    date) when there are three dates or more, else a stratified random quarter."""
    if days is not None:
        distinct = np.unique(days)
        if len(distinct) >= 3:
            later = distinct[-max(1, round(len(distinct) / 4)) :]
            return np.isin(days, later)
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(y), dtype=bool)
    for label in (0, 1):
        index = np.flatnonzero(y == label)
        if len(index):
            mask[rng.choice(index, size=max(1, len(index) // 4), replace=False)] = True
    return mask


def _platt(raw: np.ndarray, y: np.ndarray) -> Calibration | None:
    from sklearn.linear_model import LogisticRegression

    if y.sum() < 5 or (1 - y).sum() < 5:
        return None
    fit = LogisticRegression(C=1e4, max_iter=1000).fit(raw.reshape(-1, 1), y)
    slope = float(fit.coef_[0][0])
    if not math.isfinite(slope) or slope <= 0:
        return None  # the slice ranks backwards: do not trust it
    return Calibration(slope, float(fit.intercept_[0]))


def fit_calibrated(
    kind: str, X: pd.DataFrame, y: np.ndarray, kinds: dict[str, str], days: np.ndarray | None
) -> LinearChurn | BoostedChurn:
    """Fit ``kind`` on all rows, calibrated by Platt scaling learnt from a same-kind model
    fitted without the later slice and scored on it. When the slice cannot calibrate (too
    few churners in it), the balanced weighting is undone analytically: the log-odds shift
    by log(churned ÷ retained)."""
    layout = Layout.learn(X, kinds)
    y = np.asarray(y, dtype=int)
    held = _calibration_slice(y, days)
    calibration = None
    if 0 < held.sum() < len(y) and len(np.unique(y[~held])) == 2:
        early = new_model(kind, layout).fit(X[~held], y[~held])
        calibration = _platt(early.raw(X[held]), y[held])
    model = new_model(kind, layout).fit(X, y)
    if calibration is None:
        positives, negatives = max(int(y.sum()), 1), max(int((1 - y).sum()), 1)
        calibration = Calibration(1.0, math.log(positives / negatives), "prior-correction")
    model.calibration = calibration
    return model


# --- guards -------------------------------------------------------------------------------------


def usable_columns(X: pd.DataFrame) -> pd.DataFrame:
    """Drop features with no value at all (they cannot be learnt from); refuse when none is left."""
    keep = [c for c in X.columns if X[c].notna().any()]
    if not keep:
        raise NotEnoughData(have=0, need=1, message_id=MSG_FEATURES)
    return X[keep]


def check_enough(
    y: np.ndarray, customer_id: np.ndarray | None, *, min_churned: int
) -> tuple[int, int]:
    """Raise NotEnoughData unless there are ``min_churned`` churned customers, enough rows and
    enough retained ones. Returns (positive rows, churned customers)."""
    y = np.asarray(y, dtype=int)
    positives = int(y.sum())
    churned = (
        len(np.unique(np.asarray(customer_id)[y == 1])) if customer_id is not None else positives
    )
    if churned < min_churned:
        raise NotEnoughData(have=churned, need=min_churned, message_id=MSG_CHURNED)
    if len(y) < MIN_ROWS:
        raise NotEnoughData(have=len(y), need=MIN_ROWS, message_id=MSG_ROWS)
    retained = len(y) - positives
    if retained < MIN_RETAINED:
        raise NotEnoughData(have=retained, need=MIN_RETAINED, message_id=MSG_RETAINED)
    return positives, churned


# --- importances and the baseline -------------------------------------------------------------


def baseline_column(X: pd.DataFrame) -> str | None:
    return next((c for c in BASELINE_FEATURES if c in X.columns), None)


def baseline_score(X: pd.DataFrame) -> np.ndarray:
    """Days since last activity as a churn ranking (longer = riskier; never active = riskiest)."""
    column = baseline_column(X)
    if column is None:
        return np.zeros(len(X))
    days = pd.to_numeric(X[column], errors="coerce").to_numpy(dtype=float)
    top = np.nanmax(days) if np.isfinite(days).any() else 0.0
    return np.where(np.isnan(days), top + 1.0, days)


def permutation_importance(
    model: Predictor, X: pd.DataFrame, y: np.ndarray, *, repeats: int = 3, max_rows: int = 20_000
) -> list[dict[str, Any]]:
    """Per original feature: the mean drop in AUC when its column is shuffled (test rows,
    at most ``max_rows`` of them, stratified by a fixed seed), largest first."""
    rng = np.random.default_rng(0)
    y = np.asarray(y, dtype=int)
    if len(y) > max_rows:
        take = np.sort(rng.choice(len(y), size=max_rows, replace=False))
        X, y = X.iloc[take], y[take]
    base = evaluation.auc(y, model.predict(X))
    if base is None:
        return []
    out = []
    for name in model.layout.features:
        drops = []
        for _ in range(repeats):
            shuffled = X.copy()
            shuffled[name] = X[name].to_numpy()[rng.permutation(len(X))]
            score = evaluation.auc(y, model.predict(shuffled))
            drops.append(base - (score if score is not None else 0.5))
        out.append({"feature": name, "importance": round(float(np.mean(drops)), 5)})
    return sorted(out, key=lambda row: -row["importance"])


# --- backtests ----------------------------------------------------------------------------------


@dataclass
class Backtest:
    """What training found: the metrics of both kinds and the baseline, the chosen kind, and
    the chosen model refitted on every row (for scoring)."""

    chosen: str
    model: LinearChurn | BoostedChurn
    metrics: dict[str, Any]
    importances: list[dict[str, Any]]
    rows: int
    positives: int
    customers: int
    train_start: date | None = None
    train_end: date | None = None
    test_start: date | None = None
    test_end: date | None = None
    seconds: float = 0.0
    peak_memory_mb: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)


def time_split(
    days: np.ndarray, *, test_share: float = 0.25, horizon_days: int = 0
) -> tuple[list[Any], list[Any]]:
    """Training and test observation dates: the last quarter of the dates (at least one) are
    the test; training keeps the earlier dates whose labels were known by the first test date
    (date + horizon ≤ first test date: the embargo), so no label reads the test period."""
    distinct = sorted(set(days.tolist()))
    if len(distinct) < 2:
        raise NotEnoughData(have=len(distinct), need=2, message_id=MSG_DATES)
    n_test = min(len(distinct) - 1, max(1, round(len(distinct) * test_share)))
    test = distinct[-n_test:]
    # "By the next renewal" (0) embargoes a month, the usual billing period.
    embargo = horizon_days if horizon_days > 0 else 31
    train = [d for d in distinct[:-n_test] if _known_by(d, embargo, test[0])]
    if not train:
        train = distinct[:1]
    return train, test


def _known_by(day: Any, horizon_days: int, first_test: Any) -> bool:
    if horizon_days <= 0 or not isinstance(day, date):
        return True
    return bool(day + timedelta(days=horizon_days) <= first_test)


def _measure(memory: bool) -> tuple[float, bool]:
    """Start the clock and (``memory``) tracemalloc. Tracing slows the tree fitting about
    threefold, so the benchmark times without it and measures memory in a second run."""
    started = time.perf_counter()
    tracing = memory and not tracemalloc.is_tracing()
    if tracing:
        tracemalloc.start()
    elif tracemalloc.is_tracing():
        tracemalloc.reset_peak()
    return started, tracing


def _finish(result: Backtest, started: float, tracing: bool) -> Backtest:
    result.seconds = round(time.perf_counter() - started, 3)
    if tracemalloc.is_tracing():
        result.peak_memory_mb = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    if tracing:
        tracemalloc.stop()
    return result


def _choose(metrics: dict[str, Any]) -> str:
    aucs = {k: metrics[k]["auc"] if metrics[k]["auc"] is not None else -1.0 for k in KINDS}
    chosen = max(KINDS, key=lambda k: (aucs[k], k == LOGISTIC))  # tie: the simpler model
    baseline = metrics["baseline"]["auc"]
    metrics["chosen"] = chosen
    metrics["baseline_wins"] = bool(baseline is not None and aucs[chosen] <= baseline)
    return chosen


def _params(horizon_days: int | None) -> dict[str, Any]:
    return {
        LOGISTIC: {k: v for k, v in LOGISTIC_PARAMS.items() if k != "max_iter"},
        BOOSTING: {k: v for k, v in BOOSTING_PARAMS.items() if k != "random_state"},
        "horizon_days": horizon_days,
        "calibration": "platt on the last quarter of the training dates",
        "class_weight": "balanced",
    }


def backtest_time(
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray,
    days: Sequence[Any] | np.ndarray,
    kinds: dict[str, str],
    *,
    customer_id: Sequence[int] | np.ndarray | None = None,
    horizon_days: int = 30,
    min_churned: int = 20,
    measure_memory: bool = True,
) -> Backtest:
    """Train both kinds on the earlier observation dates, test them and the baseline on the
    later ones, choose the better test AUC, then refit the chosen kind on every date."""
    started, tracing = _measure(measure_memory)
    try:
        labels = np.asarray(y, dtype=int)
        day_array = np.asarray(days).astype("datetime64[D]")
        ids = None if customer_id is None else np.asarray(customer_id)
        positives, _ = check_enough(labels, ids, min_churned=min_churned)
        X = usable_columns(X.reset_index(drop=True))
        train_days, test_days = time_split(day_array, horizon_days=horizon_days)
        train = np.isin(day_array, np.array(train_days, dtype="datetime64[D]"))
        test = np.isin(day_array, np.array(test_days, dtype="datetime64[D]"))
        y_test = labels[test]
        if y_test.sum() == 0 or y_test.sum() == len(y_test):
            raise NotEnoughData(have=int(y_test.sum()), need=1, message_id=MSG_TEST)
        if labels[train].sum() == 0:
            raise NotEnoughData(have=0, need=min_churned, message_id=MSG_CHURNED)
        metrics: dict[str, Any] = {
            "split": "time",
            "train_dates": [str(d) for d in train_days],
            "test_dates": [str(d) for d in test_days],
            "baseline_name": baseline_column(X) or BASELINE_PRIOR,
        }
        models: dict[str, Predictor] = {}
        X_train, X_test = X[train], X[test]
        for kind in KINDS:
            model = fit_calibrated(kind, X_train, labels[train], kinds, day_array[train])
            models[kind] = model
            metrics[kind] = evaluation.report(y_test, model.predict(X_test))
        metrics["baseline"] = evaluation.report(y_test, baseline_score(X_test), probabilities=False)
        chosen = _choose(metrics)
        for kind, fitted in models.items():
            metrics[kind]["importances"] = permutation_importance(fitted, X_test, y_test)
        final = fit_calibrated(chosen, X, labels, kinds, day_array)
        result = Backtest(
            chosen=chosen,
            model=final,
            metrics=metrics,
            importances=metrics[chosen]["importances"],
            rows=len(labels),
            positives=positives,
            customers=len(np.unique(ids)) if ids is not None else len(labels),
            train_start=_as_date(min(day_array)),
            train_end=_as_date(max(day_array)),
            test_start=_as_date(test_days[0]),
            test_end=_as_date(test_days[-1]),
            params=_params(horizon_days),
        )
    except BaseException:
        if tracing:
            tracemalloc.stop()
        raise
    return _finish(result, started, tracing)


def backtest_folds(
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray,
    kinds: dict[str, str],
    *,
    customer_id: Sequence[Any] | np.ndarray | None = None,
    min_churned: int = 20,
    folds: int = 5,
    measure_memory: bool = True,
) -> Backtest:
    """Trait-only mode: stratified ``folds``-fold cross-validation (shuffled, fixed seed);
    metrics on the pooled out-of-fold predictions, AUC per fold too; the chosen kind refitted
    on every row."""
    from sklearn.model_selection import StratifiedKFold

    started, tracing = _measure(measure_memory)
    try:
        labels = np.asarray(y, dtype=int)
        ids = None if customer_id is None else np.asarray(customer_id)
        positives, _ = check_enough(labels, ids, min_churned=min_churned)
        X = usable_columns(X.reset_index(drop=True))
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
        out_of_fold = {kind: np.zeros(len(labels)) for kind in KINDS}
        per_fold: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        baseline_folds: list[dict[str, Any]] = []
        fold_models: dict[str, list[tuple[Predictor, np.ndarray]]] = {k: [] for k in KINDS}
        base = baseline_score(X)
        for number, (train, test) in enumerate(splitter.split(np.zeros(len(labels)), labels), 1):
            for kind in KINDS:
                model = fit_calibrated(kind, X.iloc[train], labels[train], kinds, None)
                out_of_fold[kind][test] = model.predict(X.iloc[test])
                fold_models[kind].append((model, test))
                per_fold[kind].append(_fold_row(number, labels[test], out_of_fold[kind][test]))
            baseline_folds.append(_fold_row(number, labels[test], base[test]))
        metrics: dict[str, Any] = {
            "split": f"cv{folds}",
            "baseline_name": baseline_column(X) or BASELINE_PRIOR,
        }
        for kind in KINDS:
            metrics[kind] = evaluation.report(labels, out_of_fold[kind], folds=per_fold[kind])
        metrics["baseline"] = evaluation.report(
            labels, base, probabilities=False, folds=baseline_folds
        )
        chosen = _choose(metrics)
        for kind in KINDS:
            first, test = fold_models[kind][0]
            metrics[kind]["importances"] = permutation_importance(first, X.iloc[test], labels[test])
        final = fit_calibrated(chosen, X, labels, kinds, None)
        result = Backtest(
            chosen=chosen,
            model=final,
            metrics=metrics,
            importances=metrics[chosen]["importances"],
            rows=len(labels),
            positives=positives,
            customers=len(np.unique(ids)) if ids is not None else len(labels),
            params=_params(None) | {"calibration": "platt on a stratified quarter of the rows"},
        )
    except BaseException:
        if tracing:
            tracemalloc.stop()
        raise
    return _finish(result, started, tracing)


def _fold_row(number: int, y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    value = evaluation.auc(y, score)
    return {
        "fold": number,
        "auc": None if value is None else round(value, 4),
        "rows": len(y),
        "positives": int(np.sum(y)),
    }


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    try:
        return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        return None


# --- drivers ------------------------------------------------------------------------------------


def _plain(value: Any) -> float | str | None:
    if value is None:
        return None
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else round(float(value), 4)
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.bool_, bool)):
        return int(bool(value))
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def drivers(
    model: Predictor,
    X: pd.DataFrame,
    before: pd.DataFrame | None = None,
    *,
    up: int = 3,
    down: int = 3,
    min_effect: float = 0.0005,
) -> list[list[dict[str, Any]]]:
    """Per row of ``X``: up to ``up`` features that raise the risk most and ``down`` that lower
    it most, [{"feature", "effect", "value", "before"}], largest |effect| first. ``before`` is
    the same customers' frame 30 days earlier (same index), for the words."""
    effects = model.effects(X)
    names = np.asarray(effects.columns)
    values = effects.to_numpy()
    order = np.argsort(-values, axis=1)
    rows: list[list[dict[str, Any]]] = []
    for i, index in enumerate(X.index):
        picked = [j for j in order[i, :up] if values[i, j] > min_effect]
        picked += [j for j in order[i, ::-1][:down] if values[i, j] < -min_effect]
        picked.sort(key=lambda j: -abs(values[i, j]))
        row = []
        for j in picked:
            name = str(names[j])
            prior = None
            if before is not None and name in before.columns and index in before.index:
                prior = _plain(before.at[index, name])
            row.append(
                {
                    "feature": name,
                    "effect": round(float(values[i, j]), 4),
                    "value": _plain(X.at[index, name]) if name in X.columns else None,
                    "before": prior,
                }
            )
        rows.append(row)
    return rows
