"""Condition fields for behavioural segments: RFM scores and the usage cluster.

Each reads the customer's current row (``Customer.rfm``, ``Customer.usage_cluster``); a
customer with no row (no paid order, not clustered) is empty for all of them.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from tend.segments.behaviour_models import RfmGroup
from tend.segments.fields import ConditionField, condition_fields

K_LIMIT = 12  # as tend.segments.clusters.K_LIMIT (not imported: keeps sklearn out of ready())


def _cluster_choices() -> list[tuple[Any, str]]:
    from tend.segments.behaviour import cluster_choices

    return [(int(value), label) for value, label in cluster_choices()]


def _rfm_groups() -> list[tuple[Any, str]]:
    return [(value, str(label)) for value, label in RfmGroup.choices]


BEHAVIOUR_FIELDS = (
    ConditionField(
        "rfm_group",
        _("RFM group"),
        "choice",
        lookup="rfm__group",
        choices=_rfm_groups,
        strict=True,
        description=_("The customer's RFM group at the latest recompute (behaviour page)."),
    ),
    ConditionField(
        "rfm_r", _("RFM recency score (R)"), "number", lookup="rfm__r",
        description=_("1–5, 5 = ordered most recently."),
    ),
    ConditionField(
        "rfm_f", _("RFM frequency score (F)"), "number", lookup="rfm__f",
        description=_("1–5, 5 = most orders in the window."),
    ),
    ConditionField(
        "rfm_m", _("RFM monetary score (M)"), "number", lookup="rfm__m",
        description=_("1–5, 5 = most revenue in the window."),
    ),
    ConditionField(
        "rfm_score", _("RFM score"), "text", lookup="rfm__score",
        description=_("R, F and M as three digits, such as 545."),
    ),
    ConditionField(
        "rfm_recency_days", _("Days since the last order"), "number", lookup="rfm__recency_days",
    ),
    ConditionField(
        "rfm_frequency", _("Orders in the RFM window"), "number", lookup="rfm__frequency",
    ),
    ConditionField(
        "rfm_monetary", _("Revenue in the RFM window"), "number", lookup="rfm__monetary",
    ),
    ConditionField(
        "usage_cluster",
        _("Usage cluster"),
        "choice",
        lookup="usage_cluster__number",
        choices=_cluster_choices,
        choice_kind="int",
        # Any cluster number a run can have: a saved segment stays valid after a recompute
        # that makes fewer clusters (it is then empty), rather than breaking.
        valid=lambda value: type(value) is int and 1 <= value <= K_LIMIT,
        description=_("The customer's cluster number in the latest k-means run on usage."),
    ),
)  # fmt: skip


def behaviour_fields_register() -> None:
    """Register the fields once (called from SegmentsConfig.ready())."""
    for field in BEHAVIOUR_FIELDS:
        if field.name not in condition_fields.names():
            condition_fields.register(field)
