"""The built-in lifecycle rules every install starts with, in evaluation order.

First match wins (docs/lifecycle.md), so the order is the meaning: a customer who stopped
paying is churned whatever else holds; one red for a week is at risk before anything about
tenure is asked; "stay at risk until green" is a rule whose target is the stage the customer is
already in, which holds them there; and tenure (onboarding → adopting → established) comes last.

The default rules are about subscriptions (``ever_subscribed``): a shop that sells by order
writes its own rules. Names are English message ids, shown in the reader's language.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from tend.customers.models import Stage

SUBSCRIBED: dict[str, Any] = {"field": "has_active_subscription", "op": "is_true"}

# (key, name, condition, target stage, only from stages)
DEFAULT_RULES: list[tuple[str, str, dict[str, Any], str, list[str]]] = [
    (
        "churned",
        gettext_noop("No active subscription after paying"),
        {
            "all": [
                {"field": "ever_subscribed", "op": "is_true"},
                {"field": "first_paid", "op": "is_not_empty"},
                {"field": "has_active_subscription", "op": "is_false"},
            ]
        },
        Stage.CHURNED,
        [],
    ),
    (
        "at_risk",
        gettext_noop("Health red for 7 days"),
        {
            "all": [
                SUBSCRIBED,
                {"field": "health_colour", "op": "eq", "value": "red"},
                {"field": "health_colour_since", "op": "more_than_days_ago", "value": 7},
            ]
        },
        Stage.AT_RISK,
        [],
    ),
    (
        "at_risk_hold",
        gettext_noop("Stay at risk until health is green"),
        {"not": {"field": "health_colour", "op": "eq", "value": "green"}},
        Stage.AT_RISK,
        [Stage.AT_RISK],
    ),
    (
        "renewal_due",
        gettext_noop("Yearly renewal within 60 days"),
        {"all": [SUBSCRIBED, {"field": "next_yearly_renewal", "op": "within_next", "value": 60}]},
        Stage.RENEWAL_DUE,
        [],
    ),
    (
        "expansion",
        gettext_noop("MRR grew in the last 30 days"),
        {"all": [SUBSCRIBED, {"field": "last_expansion", "op": "within_last", "value": 30}]},
        Stage.EXPANSION,
        [],
    ),
    (
        "onboarding",
        gettext_noop("First payment in the last 30 days"),
        {"all": [SUBSCRIBED, {"field": "first_paid", "op": "within_last", "value": 30}]},
        Stage.ONBOARDING,
        [],
    ),
    (
        "adopting",
        gettext_noop("Paying for 30 to 90 days"),
        {
            "all": [
                SUBSCRIBED,
                {"field": "first_paid", "op": "more_than_days_ago", "value": 30},
                {"field": "first_paid", "op": "within_last", "value": 90},
            ]
        },
        Stage.ADOPTING,
        [],
    ),
    (
        "established",
        gettext_noop("Paying for more than 90 days"),
        {"all": [SUBSCRIBED, {"field": "first_paid", "op": "more_than_days_ago", "value": 90}]},
        Stage.ESTABLISHED,
        [],
    ),
]


def default_rule_rows() -> list[dict[str, Any]]:
    """The built-in rules as field values for ``LifecycleRule`` (positions 10, 20, …)."""
    return [
        {
            "key": key,
            "name": name,
            "condition": condition,
            "stage": str(stage),
            "from_stages": [str(s) for s in from_stages],
            "position": (i + 1) * 10,
        }
        for i, (key, name, condition, stage, from_stages) in enumerate(DEFAULT_RULES)
    ]
