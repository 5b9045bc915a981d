"""REST endpoints for probabilistic CLV: the latest fit, a customer's CLV, and refit (owners).

``GET /predict/clv`` answers the latest fit whatever its status (``status`` and ``message``
say why a fit could not run); 404 before the first fit. ``GET /customers/{id}/clv`` is a
customer's row from the latest trained fit: 404 for a customer with none, 409 with code
``not_enough_data`` when no fit has run because there were too few repeat buyers.
``POST /predict/clv/fit`` refits now (owners' keys or sessions): 201 with the fit, or 409
``not_enough_data`` (the refused fit is stored, like the page's and the CLI's).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from tend.api.auth import Principal
from tend.api.errors import FieldError
from tend.api.schemas import ERRORS_404, ERRORS_409, InputSchema, Money, PathId, money
from tend.customers.models import Customer
from tend.lib.access import require_manage
from tend.predict.clv_actions import clv_fit_run
from tend.predict.clv_views import FORMULAS, fit_message, latest_fits
from tend.predict.models import ClvFit, CustomerClv, TrainingStatus

router = Router(tags=["prediction"])

NOT_ENOUGH_DATA = "not_enough_data"


class HoldoutRowOut(Schema):
    x: int = Field(..., description="Repeat purchases before the cutoff (the last row: or more).")
    or_more: bool
    customers: int
    expected: float = Field(..., description="Mean expected repeat purchases after the cutoff.")
    actual: float = Field(..., description="Mean actual purchase days after the cutoff.")


class HoldoutOut(Schema):
    status: str = Field(..., description="`trained`, or `not_enough_data` (then `message`).")
    message: str = ""
    cutoff: date | None = None
    end: date | None = None
    periods: int | None = None
    customers: int | None = None
    expected: float | None = Field(None, description="Σ E[X(t) | x, tₓ, T] after the cutoff.")
    actual: int | None = Field(None, description="Purchase days in [cutoff, end).")
    error: float | None = Field(None, description="(expected − actual) ÷ actual.")
    by_x: list[HoldoutRowOut] = []


class ClvFitOut(Schema):
    id: int
    fitted_at: datetime
    status: str = Field(..., description="`trained` or `not_enough_data`.")
    message: str = Field(..., description="Why the fit could not run, or empty.")
    model: str = Field(..., description="`bgnbd` or `pareto_nbd`.")
    calibration_start: date | None = Field(..., description="First order's day (inclusive).")
    calibration_end: date | None = Field(..., description="End of the orders used (exclusive).")
    period_days: int
    horizon_periods: int
    customers: int
    repeaters: int = Field(..., description="Customers who bought on two or more days.")
    params: dict[str, float]
    spend_params: dict[str, float]
    log_likelihood: float | None
    spend_log_likelihood: float | None
    currency: str
    discount_rate: float = Field(..., description="A year.")
    clv_mean: Money | None
    p_alive_mean: float | None
    orders: int | None
    unconverted: int | None = Field(..., description="Orders without an exchange rate.")
    holdout: HoldoutOut | None
    formula: str


class CustomerClvOut(Schema):
    customer_id: int
    fit_id: int
    model: str
    fitted_at: datetime
    frequency: int = Field(..., description="x: repeat purchase days.")
    recency: float = Field(..., description="tₓ in periods.")
    age: float = Field(..., description="T in periods.")
    horizon_periods: int
    period_days: int
    expected_purchases: float = Field(..., description="In the next `horizon_periods`.")
    p_alive: float
    expected_spend: Money | None = Field(..., description="Per purchase.")
    clv: Money | None
    formulas: dict[str, str]


class ClvFitIn(InputSchema):
    model: Literal["bgnbd", "pareto_nbd"] | None = Field(
        None, description="The purchase model; default `TEND_CLV_MODEL`."
    )


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def fit_out(fit: ClvFit) -> dict[str, Any]:
    d = fit.diagnostics or {}
    holdout = d.get("holdout")
    if holdout:
        holdout = dict(holdout)
        if holdout.get("status") != TrainingStatus.TRAINED:
            from tend.predict.errors import message_text

            holdout["message"] = message_text(
                str(holdout.get("message_id", "")), dict(holdout.get("params") or {})
            )
            holdout.pop("params", None)
    mean = d.get("clv_mean")
    return {
        "id": fit.pk,
        "fitted_at": fit.fitted_at,
        "status": fit.status,
        "message": fit_message(fit) if fit.status != TrainingStatus.TRAINED else "",
        "model": fit.kind,
        "calibration_start": fit.calibration_start,
        "calibration_end": fit.calibration_end,
        "period_days": fit.period_days,
        "horizon_periods": fit.horizon_periods,
        "customers": fit.customers,
        "repeaters": fit.repeaters,
        "params": fit.params,
        "spend_params": fit.spend_params,
        "log_likelihood": fit.log_likelihood,
        "spend_log_likelihood": fit.spend_log_likelihood,
        "currency": fit.currency,
        "discount_rate": fit.discount_rate,
        "clv_mean": money(None if mean is None else _decimal(mean), fit.currency),
        "p_alive_mean": d.get("p_alive_mean"),
        "orders": d.get("orders"),
        "unconverted": d.get("unconverted"),
        "holdout": holdout,
        "formula": str(FORMULAS["clv"]),
    }


def _decimal(value: Any) -> Any:
    from decimal import Decimal

    return Decimal(str(value)).quantize(Decimal("0.01"))


def _not_enough(fit: ClvFit) -> FieldError:
    return FieldError("orders", fit_message(fit), 409, NOT_ENOUGH_DATA)


@router.get("/predict/clv", response={200: ClvFitOut, **ERRORS_404})
def clv_fit_retrieve(request: HttpRequest) -> dict[str, Any]:
    """The latest CLV fit: parameters, log-likelihoods, holdout check, mean CLV; a fit that
    could not run has ``status`` `not_enough_data` and its ``message``."""
    latest, _trained = latest_fits()
    if latest is None:
        raise Http404("No CLV fit yet: the daily pipeline fits one when there are paid orders.")
    return fit_out(latest)


@router.post("/predict/clv/fit", response={201: ClvFitOut, **ERRORS_409})
def clv_fit_create(request: HttpRequest, payload: ClvFitIn) -> Status[dict[str, Any]]:
    """Refit CLV on the paid orders now (owners only). Too few repeat buyers: 409 with code
    `not_enough_data` and the reason (the refused fit is stored)."""
    by = require_manage(_principal(request).user)
    fit = clv_fit_run(by=by, kind=payload.model, label=_principal(request).label)
    if fit.status != TrainingStatus.TRAINED:
        raise _not_enough(fit)
    return Status(201, fit_out(fit))


@router.get("/customers/{customer_id}/clv", response={200: CustomerClvOut, **ERRORS_409})
def customer_clv_retrieve(request: HttpRequest, customer_id: PathId) -> dict[str, Any]:
    """A customer's expected purchases, P(alive), expected spend and CLV from the latest
    trained fit, with the formulas."""
    if not Customer.objects.filter(pk=customer_id).exists():
        raise Http404(f"Customer {customer_id} not found.")
    row = CustomerClv.objects.select_related("fit").filter(customer_id=customer_id).first()
    if row is None:
        latest, trained = latest_fits()
        if latest is not None and trained is None:
            raise _not_enough(latest)
        raise Http404(
            f"Customer {customer_id} has no CLV: no paid order when the models were fitted."
        )
    fit = row.fit
    return {
        "customer_id": customer_id,
        "fit_id": fit.pk,
        "model": fit.kind,
        "fitted_at": fit.fitted_at,
        "frequency": row.frequency,
        "recency": row.recency,
        "age": row.age,
        "horizon_periods": fit.horizon_periods,
        "period_days": fit.period_days,
        "expected_purchases": row.expected_purchases,
        "p_alive": row.p_alive,
        "expected_spend": money(row.expected_spend, fit.currency),
        "clv": money(row.clv, fit.currency),
        "formulas": {k: str(v) for k, v in FORMULAS.items() if k != "holdout"},
    }
