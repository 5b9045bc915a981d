"""Cox proportional hazards on subscription customers (lifelines ``CoxPHFitter``).

Duration: calendar months from the first payment to the first churn, or to now (censored).
Covariates are traits known at the start: plan, acquisition channel, industry, company size
band, country (one-hot, the most common level the reference, levels beyond the 8 most common
pooled as "other") and the first month's MRR (per 100 of the currency). Columns that are
almost constant (fewer than 1 % or 10 customers on either side) are dropped. A small ridge
penalty (``TEND_LIFETIME_COX_PENALIZER``, 0.01) keeps separated levels finite.

A hazard ratio (HR) of 0.55 for "plan: Annual" reads "customers on the Annual plan leave at
0.55× the rate of those on the reference plan": below 1 lengthens lifetime, above 1
shortens it; a 95 % confidence interval that spans 1 says the data cannot tell.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.utils.translation import gettext_noop

from tend.predict.errors import NotEnoughData
from tend.predict.models import RetentionFit, RetentionFitKind, TrainingStatus

if TYPE_CHECKING:
    import pandas as pd

    from tend.predict.retention import Lives

CATEGORICAL = ("plan", "channel", "industry", "size_band", "country")
MAX_LEVELS = 8
MRR_UNIT = 100.0
SIZE_BANDS = ((1, 10, "1–10"), (11, 50, "11–50"), (51, 200, "51–200"), (201, None, "201+"))
CHURNED_MESSAGE = gettext_noop("not enough data to fit: {have} churned customers, need {need}")


def penalizer() -> float:
    return float(getattr(settings, "TEND_LIFETIME_COX_PENALIZER", 0.01))


def min_churned() -> int:
    return int(getattr(settings, "TEND_LIFETIME_COX_MIN_CHURNED", 20))


def size_band(size: int | None) -> str:
    if size is None:
        return ""
    for low, high, label in SIZE_BANDS:
        if size >= low and (high is None or size <= high):
            return label
    return ""


def design(traits: dict[str, list[Any]]) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The covariate matrix and a description of each column (variable, level, reference)."""
    import pandas as pd

    rows = len(traits["plan"])
    columns: dict[str, np.ndarray] = {}
    described: list[dict[str, Any]] = []
    values = {**traits, "size_band": [size_band(s) for s in traits["size"]]}
    floor = max(10, math.ceil(rows * 0.01))
    for variable in CATEGORICAL:
        raw = [v or "" for v in values[variable]]
        counts = Counter(raw)
        keep = [level for level, _n in counts.most_common(MAX_LEVELS)]
        pooled = [v if v in keep else "\x00other" for v in raw]
        levels = Counter(pooled)
        if len(levels) < 2:
            continue
        reference = levels.most_common(1)[0][0]
        array = np.asarray(pooled, dtype=object)
        for level in sorted(levels):
            if level == reference:
                continue
            column = (array == level).astype(float)
            have = int(column.sum())
            if have < floor or rows - have < floor:
                continue
            name = f"{variable}={level}"
            columns[name] = column
            described.append(
                {"column": name, "variable": variable, "level": level, "reference": reference}
            )
    mrr = np.asarray([np.nan if v is None else float(v) for v in traits["mrr_start"]], dtype=float)
    if rows and np.isfinite(mrr).sum() == rows and np.nanstd(mrr) > 0:
        columns["mrr_start"] = mrr / MRR_UNIT
        described.append(
            {"column": "mrr_start", "variable": "mrr_start", "level": "", "reference": ""}
        )
    return pd.DataFrame(columns), described


def fit_frame(frame: pd.DataFrame, *, duration: str, event: str, penalty: float) -> dict[str, Any]:
    """Fit lifelines' CoxPHFitter (Efron ties) and return coefficients, HRs, CIs, p-values."""
    from lifelines import CoxPHFitter

    fitter = CoxPHFitter(penalizer=penalty)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter.fit(frame, duration_col=duration, event_col=event)
    summary = fitter.summary
    out = []
    for name, row in summary.iterrows():
        out.append(
            {
                "column": str(name),
                "coef": float(row["coef"]),
                "se": float(row["se(coef)"]),
                "hr": float(row["exp(coef)"]),
                "lower": float(row["exp(coef) lower 95%"]),
                "upper": float(row["exp(coef) upper 95%"]),
                "p": float(row["p"]),
            }
        )
    return {
        "coefficients": out,
        "concordance": float(fitter.concordance_index_),
        "log_likelihood": float(fitter.log_likelihood_),
    }


def cox_row(lives: Lives, *, fitted_at: datetime) -> RetentionFit:
    """An unsaved RetentionFit(kind "cox", cohort "all") for every paying customer."""
    events = int(lives.churned.sum())
    row = RetentionFit(
        kind=RetentionFitKind.COX,
        cohort="all",
        fitted_at=fitted_at,
        customers=int(lives.months.size),
        events=events,
    )
    try:
        if events < min_churned():
            raise NotEnoughData(have=events, need=min_churned(), message_id=CHURNED_MESSAGE)
        frame, described = design(lives.traits)
        if not described:
            row.status = TrainingStatus.FAILED
            row.message = "no covariate varies enough between customers"
            return row
        # A customer churned in its first days still lived a moment: lifelines needs > 0.
        frame["_months"] = np.maximum(lives.months, 1 / 30)
        frame["_churned"] = lives.churned.astype(int)
        result = fit_frame(frame, duration="_months", event="_churned", penalty=penalizer())
    except NotEnoughData as error:
        row.status = TrainingStatus.NOT_ENOUGH_DATA
        row.message, row.message_params = str(error), {"id": error.message_id, **error.params}
        return row
    except Exception as error:  # lifelines' convergence errors are several types
        row.status, row.message = TrainingStatus.FAILED, str(error)[:300]
        return row
    by_column = {d["column"]: d for d in described}
    row.status = TrainingStatus.TRAINED
    row.params = {
        "covariates": [{**by_column[c["column"]], **c} for c in result["coefficients"]],
        "penalizer": penalizer(),
        "mrr_unit": MRR_UNIT,
        "currency": settings.TEND_CURRENCY,
    }
    row.results = {"concordance": result["concordance"]}
    row.log_likelihood = result["log_likelihood"]
    return row
