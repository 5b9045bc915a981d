"""Probabilistic customer lifetime value: BG/NBD, Pareto/NBD, Gamma-Gamma. Pure numpy/scipy.

API (times are in the period unit of the summary, "week" by default)::

    from tend.predict.clv import (
        purchase_summary, fit_bgnbd, fit_pareto_nbd, fit_gamma_gamma, clv_discounted,
    )

    s = purchase_summary(df, end=date(2026, 12, 1), start=None, unit="week",
                         holdout_end=None, customer="customer", when="when", amount="amount")
        # -> PurchaseSummary: customers, frequency (repeat purchase days), recency, T,
        #    monetary_value (mean repeat-day value), holdout_frequency; .to_frame()
    bg = fit_bgnbd(s.frequency, s.recency, s.T)  # BGNBDFit(r, alpha, a, b, log_likelihood, n)
    pn = fit_pareto_nbd(s.frequency, s.recency, s.T)  # ParetoNBDFit(r, alpha, s, beta, ...)
    gg = fit_gamma_gamma(s.frequency, s.monetary_value)  # GammaGammaFit(p, q, gamma, ...)
        # all take weights=None, penalizer=0.0, min_repeaters=10

    bg.expected_purchases(t, x, tx, T)   # E[Y(t) | x, tₓ, T], next t periods (t broadcasts)
    bg.p_alive(x, tx, T)                 # P(still a customer)
    bg.expected_purchases_new(t)         # E[X(t)], a new customer's repeat purchases in t
    bg.params, bg.to_dict()              # also on ParetoNBDFit
    gg.expected_spend(x, m)              # E[mean purchase value | x, m]; gg.mean_spend
    clv_discounted(bg, x, tx, T, gg.expected_spend(x, m), months=12,
                   annual_discount_rate=0.10, unit="week")   # money per customer

Errors: ValueError naming the field ("recency: greater than T ...") for bad input;
``tend.predict.errors.NotEnoughData`` (a ValueError) with fewer than ``min_repeaters``
repeat buyers. Fit results are frozen dataclasses. Formulas: docs/clv.md and each module.
"""

from tend.predict.clv._common import MIN_REPEATERS, NOT_ENOUGH_REPEATERS
from tend.predict.clv.bgnbd import BGNBDFit, fit_bgnbd
from tend.predict.clv.gammagamma import GammaGammaFit, fit_gamma_gamma
from tend.predict.clv.pareto import ParetoNBDFit, fit_pareto_nbd
from tend.predict.clv.summary import DAYS_PER_UNIT, PurchaseSummary, purchase_summary
from tend.predict.clv.value import PERIODS_PER_MONTH, clv_discounted

__all__ = [
    "DAYS_PER_UNIT",
    "MIN_REPEATERS",
    "NOT_ENOUGH_REPEATERS",
    "PERIODS_PER_MONTH",
    "BGNBDFit",
    "GammaGammaFit",
    "ParetoNBDFit",
    "PurchaseSummary",
    "clv_discounted",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_pareto_nbd",
    "purchase_summary",
]
