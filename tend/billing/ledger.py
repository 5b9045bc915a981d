"""Classifying a change of a customer's MRR. Pure functions, shared by actions and bulk loaders."""

from __future__ import annotations

from decimal import Decimal

from tend.billing.models import MONTHS_PER_INTERVAL, MovementKind
from tend.lib.money import CENT, to_cents

__all__ = ["CENT", "classify", "monthly_amount"]  # CENT: older callers import it from here


def monthly_amount(
    *, price: Decimal, quantity: int, interval: str, discount: Decimal = Decimal(0)
) -> Decimal:
    """MRR of a price billed every ``interval``: price × quantity × (1 − discount) ÷ months.

    Yearly prices are divided by 12, quarterly by 3, weekly multiplied by 52/12.
    """
    if price < 0:
        raise ValueError("price cannot be negative")
    if not Decimal(0) <= discount <= Decimal(1):
        raise ValueError("discount must be between 0 and 1")
    months = MONTHS_PER_INTERVAL[interval]
    value = price * quantity * (Decimal(1) - discount) / months
    return to_cents(value)


def classify(*, before: Decimal, after: Decimal, had_mrr_before: bool) -> str | None:
    """The movement kind for a customer whose MRR goes from ``before`` to ``after``.

    new: 0 → >0 for the first time; reactivation: 0 → >0 after an earlier churn;
    churn: >0 → 0; expansion / contraction: up / down between two positive values.
    Returns None when nothing changed.
    """
    if before == after:
        return None
    if before == 0:
        return MovementKind.REACTIVATION if had_mrr_before else MovementKind.NEW
    if after == 0:
        return MovementKind.CHURN
    return MovementKind.EXPANSION if after > before else MovementKind.CONTRACTION
