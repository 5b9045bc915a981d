"""Writing CLV fits: ``clv_fit_run`` fits the models on orders and stores the fit and every
customer's CLV, with an audit row. Too little data is a stored fit with status
``not_enough_data`` and its message, never an exception to the caller."""

from __future__ import annotations

import math
import time
from datetime import UTC, date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.billing.currency import reporting_currency
from tend.billing.models import Order, OrderStatus
from tend.lib.db import insert_rows
from tend.predict.clv_fit import clv_compute
from tend.predict.errors import NotEnoughData
from tend.predict.models import ClvFit, ClvModelKind, CustomerClv, TrainingStatus

CUSTOMER_FIELDS = (
    "customer",
    "fit",
    "frequency",
    "recency",
    "age",
    "expected_purchases",
    "p_alive",
    "expected_spend",
    "clv",
)
KEEP_FITS = 30  # older fits are deleted (their customer rows are gone anyway)
CENT = Decimal("0.01")


def clv_fit_run(
    *,
    by: User | None,
    kind: str | None = None,
    as_of: date | None = None,
    label: str = "",
) -> ClvFit:
    """Fit CLV on every paid order up to the end of ``as_of`` (today, UTC, by default) with
    ``kind`` (``TEND_CLV_MODEL`` by default) and store it: the fit, and each customer's row
    replacing the previous fit's. Not enough data stores a ``not_enough_data`` fit and keeps
    the customers' rows of the last good fit. Audited as ``clv.fit``."""
    kind = kind or settings.TEND_CLV_MODEL
    if kind not in ClvModelKind.values:
        raise ValueError(f"kind: one of {', '.join(ClvModelKind.values)}, got {kind!r}")
    as_of = as_of or timezone.now().astimezone(UTC).date()
    started = time.perf_counter()
    common: dict[str, Any] = {
        "kind": kind,
        "period_days": settings.TEND_CLV_PERIOD_DAYS,
        "horizon_periods": settings.TEND_CLV_HORIZON_PERIODS,
        "currency": reporting_currency(),
        "discount_rate": float(settings.TEND_CLV_DISCOUNT_RATE),
    }
    try:
        result = clv_compute(as_of=as_of, kind=kind)
    except NotEnoughData as exc:
        with transaction.atomic():
            fit = ClvFit.objects.create(
                **common,
                status=TrainingStatus.NOT_ENOUGH_DATA,
                message=str(exc)[:300],
                message_params={"message_id": exc.message_id, **exc.params},
                calibration_end=as_of,
                seconds=time.perf_counter() - started,
            )
            _audit(fit, by, label)
            _prune(fit)
        return fit
    summary = result.summary
    with transaction.atomic():
        fit = ClvFit.objects.create(
            **common,
            status=TrainingStatus.TRAINED,
            calibration_start=result.calibration_start,
            calibration_end=result.calibration_end,
            customers=len(summary.customer),
            repeaters=summary.repeaters,
            params=result.params,
            spend_params=result.spend_params,
            log_likelihood=result.log_likelihood,
            spend_log_likelihood=result.spend_log_likelihood,
            diagnostics=result.diagnostics,
            seconds=time.perf_counter() - started,
        )
        CustomerClv.objects.all().delete()
        # executemany (SQLite) or COPY (PostgreSQL): 100,000 rows in a few queries.
        insert_rows(
            CustomerClv,
            CUSTOMER_FIELDS,
            (
                (
                    int(summary.customer[i]),
                    fit.pk,
                    int(summary.x[i]),
                    float(summary.tx[i]),
                    float(summary.T[i]),
                    float(result.expected_purchases[i]),
                    float(result.p_alive[i]),
                    _cents(result.expected_spend[i]),
                    _cents(result.clv[i]),
                )
                for i in range(len(summary.customer))
            ),
        )
        fit.seconds = time.perf_counter() - started
        fit.save(update_fields=["seconds"])
        _audit(fit, by, label)
        _prune(fit)
    return fit


MAX_MONEY = 10.0**12  # the columns' max_digits=14, decimal_places=2


def _cents(value: float) -> Decimal | None:
    """To the cent; None for what is not a usable amount (NaN, infinite, past the column)."""
    if not math.isfinite(value) or abs(value) >= MAX_MONEY:
        return None
    return Decimal(f"{value:.2f}").quantize(CENT)


def _audit(fit: ClvFit, by: User | None, label: str) -> None:
    audit_record(
        by=by,
        action="clv.fit",
        obj=fit,
        changes={
            "kind": fit.kind,
            "status": fit.status,
            "customers": fit.customers,
            "repeaters": fit.repeaters,
        },
        label=label,
    )


def _prune(fit: ClvFit) -> None:
    """Keep the latest fits only; never the one the customers' rows belong to."""
    kept = CustomerClv.objects.values("fit_id")[:1]
    old = ClvFit.objects.exclude(pk=fit.pk).exclude(pk__in=kept).order_by("-fitted_at", "-id")
    ClvFit.objects.filter(pk__in=list(old.values_list("pk", flat=True)[KEEP_FITS:])).delete()


def clv_pipeline_step(as_of: date) -> dict[str, int]:
    """The daily pipeline's CLV step: refit on the orders when there are any (a business
    without orders gets no fit and no row); counts for the step's record."""
    if not Order.objects.filter(status=OrderStatus.PAID).exists():
        return {"customers": 0}
    fit = clv_fit_run(by=None, as_of=as_of, label="schedule")
    return {
        "customers": fit.customers,
        "repeaters": fit.repeaters,
        "trained": int(fit.status == TrainingStatus.TRAINED),
    }
