"""REST endpoints for customer lifetime: the latest retention fits (sBG per cohort and for
all customers, Cox) read by every key; a refit by owners (audited as ``lifetime.fit``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from tend.api.auth import Principal
from tend.api.schemas import ERRORS, InputSchema
from tend.lib.access import require_manage
from tend.predict.retention import fit_as_dict, latest_run, lifetime_fit

router = Router(tags=["predict"])


class RetentionFitOut(Schema):
    id: int
    kind: str = Field(..., description="`sbg` (shifted-beta-geometric) or `cox`.")
    cohort: str = Field(..., description="`YYYY-MM` (month of first payment) or `all`.")
    fitted_at: datetime
    status: str = Field(..., description="`trained`, `not_enough_data` or `failed`.")
    message: str = Field(..., description="Why there is no fit (English).")
    customers: int
    events: int = Field(..., description="Churned customers observed.")
    params: dict[str, Any] = Field(
        ..., description="sBG: `alpha`, `beta`. Cox: `covariates` with hazard ratios and CIs."
    )
    results: dict[str, Any] = Field(
        ...,
        description="sBG: `projected` and `actual` survival (%) by month, "
        "`expected_lifetime_months`, `remaining`. Cox: `concordance`.",
    )
    log_likelihood: float | None


class LifetimeOut(Schema):
    fitted_at: datetime | None = Field(..., description="The latest run; null = never fitted.")
    fits: list[RetentionFitOut]


class RefitIn(InputSchema):
    pass


class RefitOut(Schema):
    fitted_at: datetime
    customers: int
    sbg: dict[str, int] = Field(..., description="Cohort fits by status (with `all`).")
    cox: str
    seconds: dict[str, float]


@router.get("/predict/lifetime", response={200: LifetimeOut, **ERRORS})
def lifetime_endpoint(request: HttpRequest) -> dict[str, Any]:
    """The latest run: sBG for all customers, each monthly cohort (newest first), and Cox."""
    rows = latest_run()
    return {
        "fitted_at": rows[0].fitted_at if rows else None,
        "fits": [fit_as_dict(r) for r in rows],
    }


@router.post("/predict/lifetime/refit", response={200: RefitOut, **ERRORS})
def lifetime_refit_endpoint(request: HttpRequest, payload: RefitIn) -> dict[str, Any]:
    """Fit again now (owners only); audited as ``lifetime.fit``."""
    principal: Principal = request.auth  # type: ignore[attr-defined]
    by = require_manage(principal.user)
    return lifetime_fit(by=by, label=principal.label)
