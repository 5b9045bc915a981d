"""The metric formulas of PRODUCT.md §2: one pure function per metric, and their registry.

Nothing here reads the database. Callers (snapshots, series, pages, API, CLI) gather the
counts and amounts and pass them in by keyword.

Conventions:

- Money is ``Decimal`` in the reporting currency (``TEND_CURRENCY``); converting other
  currencies is the caller's job. Sums and products are exact; a money result that comes
  from a division is rounded to the cent, half up.
- Rates are returned as ``float`` percentages: 95.0 means 95 %. The exceptions are plain
  ratios: LTV:CAC (a multiple), CAC payback (months), NPS (−100…100) and CES (mean, 1–7).
- An undefined result (nothing to divide by, no answers) is ``None``, shown as "—". It is
  never a silent 0 and never an exception.
- Impossible inputs (negative counts, more retained customers than were active, scores
  outside their scale, …) raise ``ValueError`` whose message names the argument.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Literal

from django.utils.translation import gettext_lazy as _

from tend.lib.money import to_cents

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

HUNDRED = Decimal(100)

Rate = Decimal | float | int
Unit = Literal["percent", "money", "months", "ratio", "score", "count"]


# --- input checks -------------------------------------------------------------------------


def _count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} cannot be negative, got {value}")
    return int(value)


def _decimal(name: str, value: Rate) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    # str() keeps a float's shortest form: 2.5 → Decimal("2.5"), not its binary expansion.
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def _money(name: str, value: Decimal | int) -> Decimal:
    if isinstance(value, float):
        raise ValueError(f"{name} is money and must be a Decimal, not a float ({value!r})")
    amount = _decimal(name, value)
    if amount < 0:
        raise ValueError(f"{name} cannot be negative, got {value}")
    return amount


def _part_of(name: str, part: int, whole_name: str, whole: int) -> None:
    if part > whole:
        raise ValueError(f"{name} ({part}) cannot exceed {whole_name} ({whole})")


def _gross_margin(value: Rate) -> Decimal:
    margin = _decimal("gross_margin", value)
    if not Decimal(0) < margin <= Decimal(1):
        raise ValueError(f"gross_margin must be a fraction in (0, 1], got {value!r}")
    return margin


def _percent(part: Decimal | int, whole: Decimal | int) -> float:
    return float(Decimal(part) * HUNDRED / Decimal(whole))


def _answers(name: str, values: Iterable[int], low: int, high: int) -> list[int]:
    checked: list[int] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be whole numbers from {low} to {high}, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"{name} must be from {low} to {high}, got {value}")
        checked.append(int(value))
    return checked


# --- MRR ----------------------------------------------------------------------------------


def mrr_to_arr(*, mrr: Decimal) -> Decimal:
    """Annual recurring revenue from monthly recurring revenue.

    ARR = MRR × 12
    """
    return _money("mrr", mrr) * 12


def net_new_mrr(
    *,
    new: Decimal,
    expansion: Decimal,
    contraction: Decimal,
    churn: Decimal,
    reactivation: Decimal,
) -> Decimal:
    """The period's change of MRR, from its movements.

    Net new MRR = new + expansion + reactivation − contraction − churned MRR

    Every argument is a non-negative amount: contraction and churn are the sizes of the
    losses (pass 30, not −30). Over one period it equals MRR at end − MRR at start.
    """
    return (
        _money("new", new)
        + _money("expansion", expansion)
        + _money("reactivation", reactivation)
        - _money("contraction", contraction)
        - _money("churn", churn)
    )


def arpa(*, mrr: Decimal, customers: int) -> Decimal | None:
    """Average revenue per account, per month, rounded to the cent.

    ARPA = MRR ÷ paying customers

    None when there are no paying customers.
    """
    amount = _money("mrr", mrr)
    count = _count("customers", customers)
    if count == 0:
        return None
    return to_cents(amount / count)


# --- retention and churn ------------------------------------------------------------------


def crr(*, active_at_start: int, retained: int) -> float | None:
    """Customer retention rate, in percent.

    CRR = customers active at start and still active at end ÷ customers active at start × 100%

    Customers acquired during the period never enter the numerator. None when nobody was
    active at start.
    """
    start = _count("active_at_start", active_at_start)
    kept = _count("retained", retained)
    _part_of("retained", kept, "active_at_start", start)
    return None if start == 0 else _percent(kept, start)


def logo_churn_rate(*, active_at_start: int, churned: int) -> float | None:
    """Logo (customer) churn rate, in percent.

    Logo churn rate = customers active at start who churned during the period ÷ customers active at start × 100%

    None when nobody was active at start.
    """  # noqa: E501 - the formula line is kept whole; it is compared with the registry
    start = _count("active_at_start", active_at_start)
    lost = _count("churned", churned)
    _part_of("churned", lost, "active_at_start", start)
    return None if start == 0 else _percent(lost, start)


def revenue_churn_rate(*, start_mrr: Decimal, churned_mrr: Decimal) -> float | None:
    """Revenue churn rate, in percent.

    Revenue churn rate = MRR at start of the customers who churned during the period ÷ MRR at start × 100%

    Contraction (customers who stay but pay less) is not churn; GRR counts both. None when
    MRR at start is 0.
    """  # noqa: E501 - the formula line is kept whole; it is compared with the registry
    start = _money("start_mrr", start_mrr)
    lost = _money("churned_mrr", churned_mrr)
    if lost > start:
        raise ValueError(f"churned_mrr ({lost}) cannot exceed start_mrr ({start})")
    return None if start == 0 else _percent(lost, start)


def _start_cohort_losses(start: Decimal, contraction: Decimal, churned: Decimal) -> None:
    if contraction + churned > start:
        raise ValueError(
            f"contraction ({contraction}) + churned_mrr ({churned}) cannot exceed "
            f"start_mrr ({start}): both are measured against start MRR"
        )


def grr(*, start_mrr: Decimal, contraction: Decimal, churned_mrr: Decimal) -> float | None:
    """Gross revenue retention, in percent; never above 100.

    GRR = (MRR at start − contraction − churned MRR) ÷ MRR at start × 100%, at most 100%

    Over the customers active at start, each compared with their own MRR at start:
    churned MRR is the start MRR of those who left, contraction is how much less the others
    pay at the end. Expansion is left out, which is why GRR cannot pass 100 %. None when
    MRR at start is 0.
    """
    start = _money("start_mrr", start_mrr)
    down = _money("contraction", contraction)
    lost = _money("churned_mrr", churned_mrr)
    _start_cohort_losses(start, down, lost)
    if start == 0:
        return None
    return min(_percent(start - down - lost, start), 100.0)


def nrr(
    *, start_mrr: Decimal, expansion: Decimal, contraction: Decimal, churned_mrr: Decimal
) -> float | None:
    """Net revenue retention, in percent; above 100 when expansion outweighs losses.

    NRR = (MRR at start + expansion − contraction − churned MRR) ÷ MRR at start × 100%, counting only customers active at start

    Computed over the customers active at start only: customers acquired or won back
    during the period are left out, so NRR equals those customers' MRR at end ÷ their MRR
    at start. Amounts are measured as for GRR. None when MRR at start is 0.
    """  # noqa: E501 - the formula line is kept whole; it is compared with the registry
    start = _money("start_mrr", start_mrr)
    up = _money("expansion", expansion)
    down = _money("contraction", contraction)
    lost = _money("churned_mrr", churned_mrr)
    _start_cohort_losses(start, down, lost)
    return None if start == 0 else _percent(start + up - down - lost, start)


def cer(*, active_at_start: int, expanded: int) -> float | None:
    """Customer expansion rate, in percent.

    CER = customers active at start who expanded ÷ customers active at start × 100%

    None when nobody was active at start.
    """
    start = _count("active_at_start", active_at_start)
    grew = _count("expanded", expanded)
    _part_of("expanded", grew, "active_at_start", start)
    return None if start == 0 else _percent(grew, start)


def renewal_rate(*, due: int, renewed: int) -> float | None:
    """Renewal rate, in percent.

    Renewal rate = contracts renewed ÷ contracts whose renewal date fell in the period × 100%

    None when no renewal was due.
    """
    due_count = _count("due", due)
    done = _count("renewed", renewed)
    _part_of("renewed", done, "due", due_count)
    return None if due_count == 0 else _percent(done, due_count)


def referral_rate(*, referrers: int, customers: int) -> float | None:
    """Referral rate, in percent.

    Referral rate = customers who referred at least one new customer ÷ all customers × 100%

    None when there are no customers.
    """
    who = _count("referrers", referrers)
    everyone = _count("customers", customers)
    _part_of("referrers", who, "customers", everyone)
    return None if everyone == 0 else _percent(who, everyone)


# --- surveys and success plans ------------------------------------------------------------


def csat(*, answers: Iterable[int]) -> float | None:
    """Customer satisfaction score, in percent.

    CSAT = answers of 4 or 5 on a 1–5 scale ÷ all answers × 100%

    None when there are no answers.
    """
    values = _answers("answers", answers, 1, 5)
    if not values:
        return None
    return _percent(sum(1 for v in values if v >= 4), len(values))


def csi(*, answers: Iterable[int]) -> float | None:
    """Customer satisfaction index (seed 000), in percent.

    CSI = (very satisfied + satisfied + neutral) ÷ all answers × 100%, on the five-level scale

    The scale is 5 very satisfied, 4 satisfied, 3 neutral, 2 dissatisfied, 1 very
    dissatisfied. Unlike CSAT, CSI counts neutral answers as content, so on the same
    answers it is never lower than CSAT. None when there are no answers.
    """
    values = _answers("answers", answers, 1, 5)
    if not values:
        return None
    return _percent(sum(1 for v in values if v >= 3), len(values))


def nps(*, scores: Iterable[int]) -> float | None:
    """Net promoter score, from −100 to 100.

    NPS = % promoters (9–10) − % detractors (0–6), from −100 to 100

    Passives (7–8) count in the total only. None when there are no answers.
    """
    values = _answers("scores", scores, 0, 10)
    if not values:
        return None
    promoters = sum(1 for v in values if v >= 9)
    detractors = sum(1 for v in values if v <= 6)
    return _percent(promoters - detractors, len(values))


def ces(*, scores: Iterable[int]) -> float | None:
    """Customer effort score: the mean answer, from 1 to 7.

    CES = mean of the answers on the 1–7 effort scale (7 = very easy)

    The question is "The company made it easy for me to handle my issue", answered from
    1 (strongly disagree) to 7 (strongly agree), so higher is better. None when there are
    no answers.
    """
    values = _answers("scores", scores, 1, 7)
    if not values:
        return None
    return float(Decimal(sum(values)) / len(values))


def satisfaction_ratio(
    *, objectives: Iterable[tuple[Decimal | None, Decimal | None]]
) -> float | None:
    """Satisfaction ratio of success-plan objectives (seed 001), in percent.

    Satisfaction ratio = total achieved value ÷ total expected value × 100%, over the objectives that record both

    Each objective is an (expected, achieved) pair; pairs missing either value are
    skipped. It is a ratio of sums, not a mean of per-objective ratios, so an objective
    worth 10,000 weighs more than one worth 10, and an objective expecting 0 cannot divide
    by zero. None when no objective records both or the expected values add up to 0.
    """  # noqa: E501 - the formula line is kept whole; it is compared with the registry
    expected_total = Decimal(0)
    achieved_total = Decimal(0)
    for expected, achieved in objectives:
        if expected is None or achieved is None:
            continue
        expected_total += _money("objectives (expected)", expected)
        achieved_total += _money("objectives (achieved)", achieved)
    if expected_total == 0:
        return None
    return _percent(achieved_total, expected_total)


# --- lifetime value and acquisition -------------------------------------------------------


def clv_discounted(
    *, first_period_revenue: Decimal, growth: Rate, discount_rate: Rate, periods: int
) -> Decimal:
    """Customer lifetime value as discounted cash flow, rounded to the cent.

    CLV = Σₜ₌₁ⁿ Rₜ ÷ (1 + r)ᵗ, with Rₜ = R₁ × (1 + g)ᵗ⁻¹ — R₁ revenue in the first period, g growth per period, r discount rate per period, n periods

    ``growth`` and ``discount_rate`` are fractions per period (0.10 for 10 %); growth may
    be negative down to −1, the discount rate must be above −1. Summed term by term, exactly
    as written, so g = r needs no special case (every term is then R₁ ÷ (1 + r)).
    """  # noqa: E501 - the formula line is kept whole; it is compared with the registry
    first = _money("first_period_revenue", first_period_revenue)
    g = _decimal("growth", growth)
    r = _decimal("discount_rate", discount_rate)
    n = _count("periods", periods)
    if g < -1:
        raise ValueError(f"growth must be at least -1 (−100 %), got {growth!r}")
    if r <= -1:
        raise ValueError(f"discount_rate must be above -1 (−100 %), got {discount_rate!r}")
    if n < 1:
        raise ValueError(f"periods must be at least 1, got {periods}")
    with localcontext() as context:
        context.prec = 50
        total = Decimal(0)
        revenue = first  # Rₜ
        discount = 1 + r  # (1 + r)ᵗ
        for _ in range(n):
            total += revenue / discount
            revenue *= 1 + g
            discount *= 1 + r
        return to_cents(total)


def clv_simple(
    *, arpa: Decimal | None, gross_margin: Rate, monthly_churn_rate: Rate | None
) -> Decimal | None:
    """Simple subscription customer lifetime value, rounded to the cent.

    CLV = ARPA × gross margin ÷ monthly churn rate

    ``gross_margin`` is a fraction in (0, 1] (0.8 for 80 %); ``monthly_churn_rate`` is a
    percentage as the churn functions return it (2.5 for 2.5 %). None when the churn rate
    is 0 (nobody leaves: no finite lifetime) or when ARPA or the churn rate is undefined.
    """
    margin = _gross_margin(gross_margin)
    if arpa is None or monthly_churn_rate is None:
        return None
    revenue = _money("arpa", arpa)
    churn = _decimal("monthly_churn_rate", monthly_churn_rate)
    if not Decimal(0) <= churn <= HUNDRED:
        raise ValueError(f"monthly_churn_rate must be a percentage 0–100, got {churn}")
    if churn == 0:
        return None
    return to_cents(revenue * margin * HUNDRED / churn)


def cac(*, acquisition_cost: Decimal, customers_acquired: int) -> Decimal | None:
    """Customer acquisition cost, rounded to the cent.

    CAC = acquisition cost ÷ customers acquired

    Per channel and period, as the caller groups them. None when no customer was acquired.
    """
    cost = _money("acquisition_cost", acquisition_cost)
    acquired = _count("customers_acquired", customers_acquired)
    return None if acquired == 0 else to_cents(cost / acquired)


def ltv_to_cac(*, ltv: Decimal | None, cac: Decimal | None) -> float | None:
    """LTV:CAC, as a multiple (3.0 means lifetime value is three times acquisition cost).

    LTV:CAC = customer lifetime value ÷ CAC

    None when CAC is 0 or either value is undefined.
    """
    if ltv is None or cac is None:
        return None
    value = _money("ltv", ltv)
    cost = _money("cac", cac)
    return None if cost == 0 else float(value / cost)


def cac_payback_months(
    *, cac: Decimal | None, arpa: Decimal | None, gross_margin: Rate
) -> float | None:
    """Months of gross profit needed to earn back the cost of acquiring a customer.

    CAC payback (months) = CAC ÷ (ARPA × gross margin)

    ``gross_margin`` is a fraction in (0, 1]. None when ARPA is 0 (never paid back) or
    either value is undefined.
    """
    margin = _gross_margin(gross_margin)
    if cac is None or arpa is None:
        return None
    cost = _money("cac", cac)
    revenue = _money("arpa", arpa)
    return None if revenue == 0 else float(cost / (revenue * margin))


# --- change against the previous period ---------------------------------------------------


def percent_change(*, current: Rate | None, previous: Rate | None) -> float | None:
    """Relative change against the previous period, in percent.

    Change = (current − previous) ÷ |previous| × 100%

    Dividing by the size of ``previous`` keeps the sign meaningful when the previous value
    was negative (net new MRR going from −100 to −50 is +50 %). None when previous is 0 or
    either value is undefined. For metrics that are already percentages use point_change.
    """
    if current is None or previous is None:
        return None
    now = _decimal("current", current)
    before = _decimal("previous", previous)
    if before == 0:
        return None
    return float((now - before) * HUNDRED / abs(before))


def point_change(*, current: Rate | None, previous: Rate | None) -> float | None:
    """Change of a percentage metric against the previous period, in percentage points.

    Change (points) = current − previous

    CRR going from 90 % to 93 % is +3 points (not +3.3 %). Computed in decimal so that
    95.5 − 94.2 is 1.3, not 1.2999999999999972. None when either value is undefined.
    """
    if current is None or previous is None:
        return None
    return float(_decimal("current", current) - _decimal("previous", previous))


# --- registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """How a metric is named, defined and read; tooltips and docs/metrics.md use it."""

    key: str
    label: StrPromise
    formula: StrPromise
    unit: Unit
    higher_is_better: bool


# What a metric's value can be: (lowest, highest), None where there is no bound. By unit,
# with the exceptions named: a rate that is a share of a whole (churn, CRR, GRR, renewal
# rate…) is 0–100 %, NRR and the satisfaction ratio have no ceiling, net new MRR is the one
# amount that can be negative, NPS runs from −100 to 100 and CES from 1 to 7.
UNIT_RANGES: dict[str, tuple[Decimal | None, Decimal | None]] = {
    "percent": (Decimal(0), HUNDRED),
    "money": (Decimal(0), None),
    "months": (Decimal(0), None),
    "ratio": (Decimal(0), None),
    "score": (None, None),
    "count": (Decimal(0), None),
}
VALUE_RANGES: dict[str, tuple[Decimal | None, Decimal | None]] = {
    "nrr": (Decimal(0), None),
    "satisfaction_ratio": (Decimal(0), None),
    "net_new_mrr": (None, None),
    "nps": (Decimal(-100), HUNDRED),
    "ces": (Decimal(1), Decimal(7)),
}


def value_range(key: str) -> tuple[Decimal | None, Decimal | None]:
    """The values metric ``key`` can take: (lowest, highest), None for no bound."""
    if key in VALUE_RANGES:
        return VALUE_RANGES[key]
    return UNIT_RANGES[FORMULAS[key].unit]


def _registry(*formulas: Formula) -> dict[str, Formula]:
    return {formula.key: formula for formula in formulas}


# Each formula text is also the formula line of its function's docstring (tested).
FORMULAS: dict[str, Formula] = _registry(
    Formula(
        "mrr",
        _("Monthly recurring revenue (MRR)"),
        _(
            "MRR = sum of the monthly amounts of all active subscriptions "
            "(annual plans ÷ 12, quarterly ÷ 3, weekly × 52 ÷ 12, after discounts)"
        ),
        "money",
        True,
    ),
    Formula("arr", _("Annual recurring revenue (ARR)"), _("ARR = MRR × 12"), "money", True),
    Formula(
        "net_new_mrr",
        _("Net new MRR"),
        _("Net new MRR = new + expansion + reactivation − contraction − churned MRR"),
        "money",
        True,
    ),
    Formula(
        "new_mrr",
        _("New MRR"),
        _("New MRR = MRR of customers who started paying for the first time in the period"),
        "money",
        True,
    ),
    Formula(
        "expansion_mrr",
        _("Expansion MRR"),
        _("Expansion MRR = MRR added by paying customers who raised their MRR (upgrades, seats)"),
        "money",
        True,
    ),
    Formula(
        "contraction_mrr",
        _("Contraction MRR"),
        _("Contraction MRR = MRR lost by paying customers who lowered their MRR but kept paying"),
        "money",
        False,
    ),
    Formula(
        "churned_mrr",
        _("Churned MRR"),
        _("Churned MRR = MRR lost from customers who stopped paying"),
        "money",
        False,
    ),
    Formula(
        "reactivation_mrr",
        _("Reactivation MRR"),
        _("Reactivation MRR = MRR of former customers who started paying again"),
        "money",
        True,
    ),
    Formula(
        "logo_churn",
        _("Logo churn rate"),
        _(
            "Logo churn rate = customers active at start who churned during the period "
            "÷ customers active at start × 100%"
        ),
        "percent",
        False,
    ),
    Formula(
        "revenue_churn",
        _("Revenue churn rate"),
        _(
            "Revenue churn rate = MRR at start of the customers who churned during the period "
            "÷ MRR at start × 100%"
        ),
        "percent",
        False,
    ),
    Formula(
        "crr",
        _("Customer retention rate (CRR)"),
        _(
            "CRR = customers active at start and still active at end "
            "÷ customers active at start × 100%"
        ),
        "percent",
        True,
    ),
    Formula(
        "grr",
        _("Gross revenue retention (GRR)"),
        _("GRR = (MRR at start − contraction − churned MRR) ÷ MRR at start × 100%, at most 100%"),
        "percent",
        True,
    ),
    Formula(
        "nrr",
        _("Net revenue retention (NRR)"),
        _(
            "NRR = (MRR at start + expansion − contraction − churned MRR) ÷ MRR at start "
            "× 100%, counting only customers active at start"
        ),
        "percent",
        True,
    ),
    Formula(
        "cer",
        _("Customer expansion rate (CER)"),
        _("CER = customers active at start who expanded ÷ customers active at start × 100%"),
        "percent",
        True,
    ),
    Formula(
        "renewal_rate",
        _("Renewal rate"),
        _(
            "Renewal rate = contracts renewed "
            "÷ contracts whose renewal date fell in the period × 100%"
        ),
        "percent",
        True,
    ),
    Formula(
        "arpa",
        _("Average revenue per account (ARPA)"),
        _("ARPA = MRR ÷ paying customers"),
        "money",
        True,
    ),
    Formula(
        "clv_discounted",
        _("Customer lifetime value, discounted"),
        _(
            "CLV = Σₜ₌₁ⁿ Rₜ ÷ (1 + r)ᵗ, with Rₜ = R₁ × (1 + g)ᵗ⁻¹ — R₁ revenue in the first "
            "period, g growth per period, r discount rate per period, n periods"
        ),
        "money",
        True,
    ),
    Formula(
        "clv_simple",
        _("Customer lifetime value, subscription"),
        _("CLV = ARPA × gross margin ÷ monthly churn rate"),
        "money",
        True,
    ),
    Formula(
        "clv_probabilistic",
        _("Customer lifetime value, predicted"),
        _(
            "CLV = expected future purchases (BG/NBD model) "
            "× expected value of a purchase (Gamma-Gamma model)"
        ),
        "money",
        True,
    ),
    Formula(
        "cac",
        _("Customer acquisition cost (CAC)"),
        _("CAC = acquisition cost ÷ customers acquired"),
        "money",
        False,
    ),
    Formula(
        "ltv_cac",
        _("LTV:CAC"),
        _("LTV:CAC = customer lifetime value ÷ CAC"),
        "ratio",
        True,
    ),
    Formula(
        "cac_payback",
        _("CAC payback"),
        _("CAC payback (months) = CAC ÷ (ARPA × gross margin)"),
        "months",
        False,
    ),
    Formula(
        "referral_rate",
        _("Referral rate"),
        _(
            "Referral rate = customers who referred at least one new customer "
            "÷ all customers × 100%"
        ),
        "percent",
        True,
    ),
    Formula(
        "satisfaction_ratio",
        _("Satisfaction ratio"),
        _(
            "Satisfaction ratio = total achieved value ÷ total expected value × 100%, "
            "over the objectives that record both"
        ),
        "percent",
        True,
    ),
    Formula(
        "csat",
        _("Customer satisfaction (CSAT)"),
        _("CSAT = answers of 4 or 5 on a 1–5 scale ÷ all answers × 100%"),
        "percent",
        True,
    ),
    Formula(
        "csi",
        _("Satisfaction index (CSI, neutral counts as content)"),
        _(
            "CSI = (very satisfied + satisfied + neutral) ÷ all answers × 100%, "
            "on the five-level scale"
        ),
        "percent",
        True,
    ),
    Formula(
        "nps",
        _("Net promoter score (NPS)"),
        _("NPS = % promoters (9–10) − % detractors (0–6), from −100 to 100"),
        "score",
        True,
    ),
    Formula(
        "ces",
        _("Customer effort score (CES)"),
        _("CES = mean of the answers on the 1–7 effort scale (7 = very easy)"),
        "score",
        True,
    ),
)
