"""Retention projection of subscription customers: sBG per monthly cohort and pooled, Cox
proportional hazards on traits known at the start, and the subscription CLV from the sBG
projection. Fits are stored as ``RetentionFit`` rows; one run's rows share ``fitted_at``.

A customer enters at its first payment (``CustomerLife.started_at``) and leaves at its first
churn after that, as in the Kaplan–Meier curves (tend/metrics/survival.py); durations are
calendar months. A customer still paying after d months is right-censored at ⌊d⌋ whole
months; one who churned after d months churned in month ⌊d⌋ + 1. The cohort is the UTC
calendar month of the first payment; "all" pools every cohort aligned by age in months.

``lifetime_fit`` is the action (one audit row per run); ``sbg_clv`` is what
``tend.metrics.value.lifetime_value`` adds to the CLV tile.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from django_tasks import task

from tend.predict import sbg
from tend.predict.errors import NotEnoughData
from tend.predict.models import RetentionFit, RetentionFitKind, TrainingStatus

ALL = "all"
ACTUAL_MIN_AT_RISK = 20  # observed months with fewer customers at risk are not shown
REMAINING_AFTER = (0, 3, 6, 12, 24)  # months already survived, for the remaining-lifetime table
CHURNED_MESSAGE = gettext_noop("not enough data to fit: {have} churned customers, need {need}")
CUSTOMERS_MESSAGE = gettext_noop("not enough data to fit: {have} customers, need {need}")
# The exact formula shown next to the figure (the tile's tooltip and the page).
CLV_SBG_FORMULA = gettext_noop(
    "CLV (sBG) = ARPA × gross margin × Σ_{t=0}^{H−1} S(t) ÷ (1 + d)^t, with S(t) the sBG "
    "projected share of a new customer still paying after t months (all customers' fit), "
    "H = {months} months and d = (1 + yearly discount rate)^(1/12) − 1"
)


def min_customers() -> int:
    return int(getattr(settings, "TEND_LIFETIME_MIN_CUSTOMERS", 20))


def min_churned() -> int:
    return int(getattr(settings, "TEND_LIFETIME_MIN_CHURNED", 10))


def projection_months() -> int:
    return int(getattr(settings, "TEND_LIFETIME_PROJECTION_MONTHS", 36))


def clv_months() -> int:
    return int(getattr(settings, "TEND_LIFETIME_CLV_MONTHS", 120))


def monthly_discount() -> float:
    """The monthly rate equivalent to the yearly TEND_CLV_DISCOUNT_RATE."""
    yearly = float(settings.TEND_CLV_DISCOUNT_RATE)
    return float((1 + yearly) ** (1 / 12) - 1)


@dataclass
class Lives:
    """One row per paying customer: start (epoch s), months observed, churned, traits."""

    cohort: list[str]
    months: np.ndarray
    churned: np.ndarray
    traits: dict[str, list[Any]]


def _epoch(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})"
    return f"(julianday({column}) - 2440587.5) * 86400.0"


def lives_load(*, now: datetime) -> Lives:
    """Every customer that ever paid, with its months from first payment to churn or ``now``."""
    from tend.billing.models import Plan
    from tend.customers.models import Customer
    from tend.metrics.models import CustomerLife, CustomerMonth
    from tend.metrics.survival import calendar_months

    life, customers = CustomerLife._meta.db_table, Customer._meta.db_table
    months, plans = CustomerMonth._meta.db_table, Plan._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_epoch('l.started_at')}, {_epoch('l.churned_at')}, "
            f"COALESCE(p.name, ''), c.channel, c.industry, c.size, c.country, cm.mrr_end "
            f"FROM {life} l JOIN {customers} c ON c.id = l.customer_id "
            f"LEFT JOIN {plans} p ON p.id = c.plan_id "
            f"LEFT JOIN {months} cm ON cm.customer_id = l.customer_id AND cm.age = 0 "
            f"WHERE l.started_at <= %s",
            [now],
        )
        rows = cursor.fetchall()
    at = now.timestamp()
    starts = np.array([float(r[0]) for r in rows], dtype=float)
    churns = np.array([math.inf if r[1] is None else float(r[1]) for r in rows], dtype=float)
    churned = churns <= at
    lengths = (
        calendar_months(starts, np.where(churned, churns, at)) if rows else np.zeros(0, dtype=float)
    )
    cohort = [datetime.fromtimestamp(s, UTC).strftime("%Y-%m") for s in starts.tolist()]
    traits = {
        "plan": [r[2] or "" for r in rows],
        "channel": [r[3] or "" for r in rows],
        "industry": [r[4] or "" for r in rows],
        "size": [r[5] for r in rows],
        "country": [r[6] or "" for r in rows],
        "mrr_start": [None if r[7] is None else float(r[7]) for r in rows],
    }
    return Lives(
        cohort=cohort, months=np.asarray(lengths, dtype=float), churned=churned, traits=traits
    )


def _percent(values: Any) -> list[float | None]:
    return [None if v is None else round(float(v) * 100, 2) for v in values]


def sbg_results(fit: sbg.SbgFit, churned: Any, censored: Any) -> dict[str, Any]:
    """What the page, the API and the CLV read from one sBG fit."""
    horizon = projection_months()
    t = np.arange(horizon + 1)
    projected = fit.survival(t)
    actual = sbg.actual_survival(churned, censored)
    n = np.asarray(churned, dtype=float)
    m = np.asarray(censored, dtype=float)
    size = max(n.size, m.size)
    n, m = np.pad(n, (0, size - n.size)), np.pad(m, (0, size - m.size))
    at_risk = [
        int(n[k - 1 :].sum() + m[k:].sum()) if k else int(n.sum() + m.sum())
        for k in range(len(actual))
    ]
    # The observed tail with only a handful still at risk is noise: shown and compared up to
    # the last month with at least ACTUAL_MIN_AT_RISK customers at risk.
    shown = next((k for k, r in enumerate(at_risk) if r < ACTUAL_MIN_AT_RISK), len(actual))
    actual, at_risk = actual[: max(shown, 1)], at_risk[: max(shown, 1)]
    gaps = [abs(float(a) - float(fit.survival(k))) for k, a in enumerate(actual) if a is not None]
    d = monthly_discount()
    cap = clv_months()
    long_run = sbg.survival(fit.alpha, fit.beta, np.arange(600))
    below = np.nonzero(long_run <= 0.5)[0]
    return {
        "months": t.tolist(),
        "projected": _percent(projected),
        "actual": _percent(actual),
        "at_risk": at_risk,
        "retention": _percent(fit.retention_rate(np.arange(1, horizon + 1))),
        "median_months": int(below[0]) if below.size else None,
        # Fader & Hardie's polarisation index: 0 = every customer churns at the same rate.
        "polarization": round(1 / (fit.alpha + fit.beta + 1), 6),
        "mean_churn": round(fit.alpha / (fit.alpha + fit.beta) * 100, 3),
        "fit_gap_points": round(max(gaps) * 100, 2) if gaps else None,
        # E[min(T, H)] for a new customer; exact E[T] only exists when α > 1.
        "expected_lifetime_months": round(
            sbg.expected_remaining_lifetime(fit.alpha, fit.beta, horizon=cap), 2
        ),
        "expected_lifetime_unbounded": None
        if fit.alpha <= 1
        else round(sbg.expected_remaining_lifetime(fit.alpha, fit.beta), 2),
        "lifetime_cap_months": cap,
        "remaining": [
            {
                "after": after,
                "months": round(
                    sbg.expected_remaining_lifetime(
                        fit.alpha, fit.beta, alive_after=after, horizon=cap
                    ),
                    2,
                ),
                "derl": round(sbg.derl(fit.alpha, fit.beta, renewals=after, discount=d), 2)
                if d > 0
                else None,
            }
            for after in REMAINING_AFTER
        ],
        "discounted_months": round(
            sbg.discounted_sum(fit.alpha, fit.beta, months=cap, discount=d), 4
        ),
        "monthly_discount": d,
    }


def sbg_fit_group(months: np.ndarray, churned: np.ndarray) -> tuple[sbg.SbgFit, dict[str, Any]]:
    """Fit one group of customers; NotEnoughData when too few customers or churns."""
    customers = int(months.size)
    if customers < min_customers():
        raise NotEnoughData(have=customers, need=min_customers(), message_id=CUSTOMERS_MESSAGE)
    events = int(churned.sum())
    if events < min_churned():
        raise NotEnoughData(have=events, need=min_churned(), message_id=CHURNED_MESSAGE)
    n, m = sbg.durations_to_counts(months, churned)
    fit = sbg.fit_counts(churned=n, censored=m)
    return fit, sbg_results(fit, n, m)


def sbg_rows(lives: Lives, *, fitted_at: datetime) -> list[RetentionFit]:
    """Unsaved RetentionFit rows: "all", then each cohort (oldest first)."""
    groups: dict[str, list[int]] = {}
    for i, cohort in enumerate(lives.cohort):
        groups.setdefault(cohort, []).append(i)
    rows = [_sbg_row(ALL, lives.months, lives.churned, fitted_at)]
    for cohort in sorted(groups):
        index = np.asarray(groups[cohort], dtype=int)
        rows.append(_sbg_row(cohort, lives.months[index], lives.churned[index], fitted_at))
    return rows


def _sbg_row(
    cohort: str, months: np.ndarray, churned: np.ndarray, fitted_at: datetime
) -> RetentionFit:
    row = RetentionFit(
        kind=RetentionFitKind.SBG,
        cohort=cohort,
        fitted_at=fitted_at,
        customers=int(months.size),
        events=int(churned.sum()),
    )
    try:
        fit, results = sbg_fit_group(months, churned)
    except NotEnoughData as error:
        row.status = TrainingStatus.NOT_ENOUGH_DATA
        row.message, row.message_params = str(error), {"id": error.message_id, **error.params}
        return row
    except ValueError as error:
        row.status, row.message = TrainingStatus.FAILED, str(error)[:300]
        return row
    row.status = TrainingStatus.TRAINED
    row.params = {"alpha": fit.alpha, "beta": fit.beta}
    row.results = results
    row.log_likelihood = fit.log_likelihood
    return row


def _one_blas_thread() -> Any:
    """Many tiny L-BFGS-B problems: OpenBLAS's thread pool costs milliseconds per 2×2 call on
    a busy machine (26 cohort fits took 5.8 s instead of 0.4 s), so use one thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - comes with scikit-learn
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def lifetime_fit(*, by: Any = None, label: str = "", now: datetime | None = None) -> dict[str, Any]:
    """Fit sBG (all customers and each monthly cohort) and Cox, store the rows, audit the run.

    Returns {"fitted_at", "sbg": {"trained", "not_enough_data", "failed"}, "cox": status,
    "seconds": {"load", "sbg", "cox"}}.
    """
    from tend.accounts.actions import audit_record
    from tend.predict import cox

    at = now or timezone.now()
    started = time.perf_counter()
    lives = lives_load(now=at)
    loaded = time.perf_counter()
    with _one_blas_thread():
        rows = sbg_rows(lives, fitted_at=at)
    fitted = time.perf_counter()
    rows.append(cox.cox_row(lives, fitted_at=at))
    done = time.perf_counter()
    with transaction.atomic():
        RetentionFit.objects.bulk_create(rows)
        counts = {status: 0 for status in TrainingStatus.values}
        for row in rows[:-1]:
            counts[row.status] += 1
        summary = {
            "fitted_at": at.isoformat(),
            "customers": int(lives.months.size),
            "sbg": counts,
            "cox": rows[-1].status,
            "seconds": {
                "load": round(loaded - started, 3),
                "sbg": round(fitted - loaded, 3),
                "cox": round(done - fitted, 3),
            },
        }
        audit_record(
            by=by,
            action="lifetime.fit",
            obj=rows[0],
            changes={"sbg": counts, "cox": rows[-1].status, "customers": summary["customers"]},
            label=label,
        )
    return summary


def latest_run() -> list[RetentionFit]:
    """The rows of the latest run (sBG "all" first, cohorts newest first, then Cox)."""
    last = (
        RetentionFit.objects.filter(kind=RetentionFitKind.SBG, cohort=ALL)
        .order_by("-fitted_at", "-id")
        .values_list("fitted_at", flat=True)
        .first()
    )
    if last is None:
        return []
    rows = list(RetentionFit.objects.filter(fitted_at=last).order_by("id"))
    sbg_rows_ = [r for r in rows if r.kind == RetentionFitKind.SBG]
    cox_rows = [r for r in rows if r.kind == RetentionFitKind.COX]
    pooled = [r for r in sbg_rows_ if r.cohort == ALL]
    cohorts = sorted(
        (r for r in sbg_rows_ if r.cohort != ALL), key=lambda r: r.cohort, reverse=True
    )
    return pooled + cohorts + cox_rows


def latest_pooled() -> RetentionFit | None:
    return (
        RetentionFit.objects.filter(kind=RetentionFitKind.SBG, cohort=ALL)
        .order_by("-fitted_at", "-id")
        .first()
    )


# One read of the pooled fit per web request: the dashboard computes lifetime_value for the
# range, the range before and every channel, and its query count must not grow with them.
_request_memo: dict[str, Any] = {}
MEMO_SECONDS = 30.0


def _pooled_for_request() -> RetentionFit | None:
    from tend.observability.logconfig import request_id_var

    request_id = request_id_var.get()
    if not request_id:  # the CLI, the worker, tests calling in directly: always fresh
        return latest_pooled()
    now = time.monotonic()
    if _request_memo.get("id") == request_id and now - _request_memo["at"] < MEMO_SECONDS:
        return _request_memo["fit"]  # type: ignore[no-any-return]
    fit = latest_pooled()
    _request_memo.update(id=request_id, at=now, fit=fit)
    return fit


def sbg_clv(*, arpa: Decimal | None, gross_margin: Decimal) -> dict[str, Any]:
    """Subscription CLV from the latest pooled sBG projection, with its inputs.

    CLV(sBG) = ARPA × gross margin × Σ_{t=0}^{H−1} S(t) / (1 + d)^t: the first month's payment
    undiscounted, H = TEND_LIFETIME_CLV_MONTHS (120), d the monthly rate equivalent to
    TEND_CLV_DISCOUNT_RATE (yearly, as the discounted CLV uses). None without a trained fit.
    """
    fit = _pooled_for_request()
    out: dict[str, Any] = {
        "clv_sbg": None,
        "clv_sbg_alpha": None,
        "clv_sbg_beta": None,
        "clv_sbg_months": clv_months(),
        "clv_sbg_discounted_months": None,
        "clv_sbg_status": fit.status if fit else "",
    }
    if fit is None or fit.status != TrainingStatus.TRAINED or arpa is None:
        return out
    alpha, beta = float(fit.params["alpha"]), float(fit.params["beta"])
    months = sbg.discounted_sum(alpha, beta, months=clv_months(), discount=monthly_discount())
    out.update(
        clv_sbg=(arpa * gross_margin * Decimal(str(round(months, 6)))).quantize(Decimal("0.01")),
        clv_sbg_alpha=alpha,
        clv_sbg_beta=beta,
        clv_sbg_discounted_months=round(months, 2),
    )
    return out


def fit_message(row: RetentionFit) -> str:
    """The row's message in the reader's language (not enough data, or why it failed)."""
    from tend.predict.errors import message_text

    params = dict(row.message_params or {})
    message_id = params.pop("id", "")
    return message_text(message_id, params) if message_id else row.message


def fit_as_dict(row: RetentionFit) -> dict[str, Any]:
    """One stored fit as the REST API and ``tend lifetime fit --json`` show it."""
    return {
        "id": row.pk,
        "kind": row.kind,
        "cohort": row.cohort,
        "fitted_at": row.fitted_at.isoformat(),
        "status": row.status,
        "message": row.message,
        "customers": row.customers,
        "events": row.events,
        "params": row.params,
        "results": row.results,
        "log_likelihood": row.log_likelihood,
    }


@task()
def lifetime_fit_task() -> dict[str, Any]:
    """The weekly refit (TEND_SCHEDULES["lifetime-fit"]); audited as "schedule"."""
    return lifetime_fit(label="schedule")
