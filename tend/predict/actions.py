"""Writes for churn models: train one (``churn_train``), store a day's scores
(``churn_scores_write``). Each writes an audit row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from tend.accounts.actions import audit_record
from tend.predict import churn, serialise
from tend.predict.errors import NotEnoughData
from tend.predict.models import ChurnModel, ChurnScore, TrainingMode, TrainingStatus

SCORE_BATCH = 2_000


def _today() -> date:
    return datetime.now(UTC).date()


def _next_version() -> int:
    return int(ChurnModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1


def _save_new(model: ChurnModel) -> ChurnModel:
    """Save with the next version number (retried if a concurrent run took it)."""
    for _attempt in range(5):
        model.version = _next_version()
        try:
            with transaction.atomic():
                model.save()
            return model
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a churn model version")


def churn_train(
    *,
    by: Any = None,
    label: str = "",
    mode: str = TrainingMode.HISTORY,
    horizon_days: int | None = None,
    traits_rows: Iterable[Mapping[str, Any]] | None = None,
    label_column: str = "churned",
    id_column: str | None = None,
    as_of: date | None = None,
    measure_memory: bool = True,
) -> ChurnModel:
    """Train the churn model and store the run (``ChurnModel``, version + 1).

    ``mode=history``: the training set of ``TEND_CHURN_OBSERVATION_DATES`` monthly observation
    dates before ``as_of`` (today), labelled "churned within ``horizon_days``" (default
    ``TEND_CHURN_HORIZON_DAYS``; 0 = by the next renewal), both kinds backtested on the later
    dates; the chosen one becomes the active model. ``mode=traits``: a table of traits with a
    churned flag (``traits_rows``, e.g. a CSV's rows, with ``label_column`` and ``id_column``;
    default the customers' own traits carrying ``label_column``), 5-fold cross-validated;
    its scores are written for today when its ids are customers' (``external_id`` for a
    table, the customer id for the customers' traits), else only its metrics are kept.

    Too little data stores a ``not_enough_data`` run (message and params for every surface)
    and raises ``NotEnoughData`` after it is saved.
    """
    from tend.predict import training

    horizon = settings.TEND_CHURN_HORIZON_DAYS if horizon_days is None else int(horizon_days)
    if horizon < 0:
        raise ValueError(f"horizon_days must be 0 (by next renewal) or more; got {horizon}")
    min_churned = settings.TEND_CHURN_MIN_CHURNED
    as_of = as_of or _today()
    who = label or (getattr(by, "username", "") if by is not None else "") or "system"
    run = ChurnModel(mode=mode, horizon_days=horizon, trained_by=who[:120])
    result: churn.Backtest | None = None
    matched: dict[Any, int] = {}
    try:
        if mode == TrainingMode.HISTORY:
            dates = training.observation_dates(
                end=as_of, count=settings.TEND_CHURN_OBSERVATION_DATES, horizon_days=horizon
            )
            ts = training.training_set(dates=dates, horizon_days=horizon)
            _count(run, ts.y, ts.customer_id)
            result = churn.backtest_time(
                ts.X,
                ts.y,
                ts.day,
                ts.kinds,
                customer_id=ts.customer_id,
                horizon_days=horizon,
                min_churned=min_churned,
                measure_memory=measure_memory,
            )
        elif mode == TrainingMode.TRAITS:
            if traits_rows is not None:
                ts = training.traits_training_set(
                    traits_rows, label=label_column, id_column=id_column
                )
                matched = _customers_by_external_id(ts.customer_id) if id_column else {}
            else:
                ts = training.customers_traits_training_set(label=label_column)
                matched = {int(c): int(c) for c in ts.customer_id}
            _count(run, ts.y, ts.customer_id)
            result = churn.backtest_folds(
                ts.X,
                ts.y,
                ts.kinds,
                customer_id=ts.customer_id,
                min_churned=min_churned,
                measure_memory=measure_memory,
            )
        else:
            raise ValueError(f"unknown training mode {mode!r}")
    except NotEnoughData as exc:
        run.status = TrainingStatus.NOT_ENOUGH_DATA
        run.message = exc.message_id[:300]
        run.message_params = exc.params
        _save_new(run)
        audit_record(
            by=by if getattr(by, "pk", None) else None,
            label=label,
            action="churn_model.train",
            obj=run,
            changes={"status": run.status, "message": str(exc), "mode": mode},
        )
        raise
    assert result is not None
    fmt, artifact = serialise.dumps(result.model)
    run.status = TrainingStatus.TRAINED
    run.kind = result.chosen
    run.train_start, run.train_end = result.train_start, result.train_end
    run.test_start, run.test_end = result.test_start, result.test_end
    run.rows, run.positives, run.customers = result.rows, result.positives, result.customers
    run.features = list(result.model.layout.features)
    run.params = result.params
    run.metrics = result.metrics
    if mode == TrainingMode.TRAITS:
        run.metrics["matched_customers"] = len(matched)
    run.importances = result.importances
    run.preprocessing = serialise.preprocessing(result.model)
    run.artifact_format, run.artifact = fmt, artifact
    run.seconds, run.peak_memory_mb = result.seconds, result.peak_memory_mb
    with transaction.atomic():
        if mode == TrainingMode.HISTORY:
            ChurnModel.objects.filter(is_active=True).update(is_active=False)
            run.is_active = True
        _save_new(run)
        audit_record(
            by=by if getattr(by, "pk", None) else None,
            label=label,
            action="churn_model.train",
            obj=run,
            changes={
                "status": run.status,
                "mode": mode,
                "kind": run.kind,
                "version": run.version,
                "auc": run.metrics[run.kind]["auc"],
                "baseline_auc": run.metrics["baseline"]["auc"],
            },
        )
    if mode == TrainingMode.TRAITS and matched:
        _score_traits(run, result.model, ts, matched, as_of)
    return run


def _count(run: ChurnModel, y: np.ndarray, ids: np.ndarray) -> None:
    run.rows = len(y)
    run.positives = int(np.sum(y))
    run.customers = len(np.unique(ids)) if len(ids) else 0


def _customers_by_external_id(ids: Iterable[Any]) -> dict[Any, int]:
    """{table id: customer pk} for the table's ids that are customers' external ids."""
    from tend.customers.models import Customer

    wanted = sorted({str(i) for i in ids if str(i)})
    found: dict[Any, int] = {}
    for start in range(0, len(wanted), 5_000):
        chunk = wanted[start : start + 5_000]
        for external, pk in Customer.objects.filter(external_id__in=chunk).values_list(
            "external_id", "pk"
        ):
            found[external] = pk
    return found


def _score_traits(run: ChurnModel, model: Any, ts: Any, matched: dict[Any, int], day: date) -> None:
    keys = [str(i) if isinstance(next(iter(matched)), str) else i for i in ts.customer_id]
    rows = [i for i, key in enumerate(keys) if key in matched]
    X = ts.X.iloc[rows]
    risks = model.predict(X)
    explained = churn.drivers(model, X)
    churn_scores_write(
        model=run,
        day=day,
        rows=[
            (matched[keys[i]], float(risk), drivers)
            for i, risk, drivers in zip(rows, risks, explained, strict=True)
        ],
        replace_day=False,
    )


def churn_scores_write(
    *,
    model: ChurnModel,
    day: date,
    rows: Iterable[tuple[int, float, list[dict[str, Any]]]],
    replace_day: bool = True,
    by: Any = None,
    label: str = "",
) -> int:
    """Store one day's scores from ``model``: (customer id, risk, drivers) rows; percentile =
    share of that day's scored customers with a strictly lower risk. Idempotent for the day:
    in one transaction the day's rows (``replace_day``) or these customers' rows for the day
    are deleted, then the new ones inserted in batches. One audit row for the batch."""
    from scipy.stats import rankdata

    items = list(rows)
    risks = np.asarray([risk for _c, risk, _d in items], dtype=float)
    below = (rankdata(risks, method="min") - 1) / len(items) if items else np.zeros(0)
    with transaction.atomic():
        existing = ChurnScore.objects.filter(day=day)
        if replace_day:
            existing.delete()
        else:
            ids = [c for c, _r, _d in items]
            for start in range(0, len(ids), 5_000):
                existing.filter(customer_id__in=ids[start : start + 5_000]).delete()
        ChurnScore.objects.bulk_create(
            (
                ChurnScore(
                    customer_id=customer_id,
                    day=day,
                    model=model,
                    risk=round(float(risk), 6),
                    percentile=round(float(share), 6),
                    drivers=drivers,
                )
                for (customer_id, risk, drivers), share in zip(items, below, strict=True)
            ),
            batch_size=SCORE_BATCH,
        )
        audit_record(
            by=by if getattr(by, "pk", None) else None,
            label=label or "pipeline",
            action="churn_score.write",
            obj=model,
            changes={"day": day.isoformat(), "scored": len(items), "version": model.version},
        )
    return len(items)
