"""Reads for the lifecycle board: per-stage counts and MRR, and the top cards of each column."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from tend.customers.models import Customer, Stage
from tend.lifecycle.models import StageOverride

CARDS_PER_COLUMN = 20
CENT = Decimal("0.01")


@dataclass
class Column:
    stage: str
    label: str
    count: int = 0
    mrr: Decimal = Decimal("0")
    cards: list[Customer] = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(self.count - len(self.cards), 0)


def board_totals(customers: QuerySet[Customer]) -> dict[str, tuple[int, Decimal]]:
    """(count, MRR total) per stage, one query; stages without customers are left out."""
    rows = customers.order_by().values("stage").annotate(n=Count("pk"), total=Sum("mrr"))
    return {r["stage"]: (r["n"], Decimal(r["total"] or 0).quantize(CENT)) for r in rows}


def board_columns(
    customers: QuerySet[Customer] | None = None, *, per_column: int = CARDS_PER_COLUMN
) -> list[Column]:
    """Every stage in lifecycle order with its count, MRR total and its ``per_column`` customers
    of highest MRR (ties by name). Two queries however many customers there are."""
    customers = Customer.objects.all() if customers is None else customers
    totals = board_totals(customers)
    columns = {
        value: Column(value, str(label), *totals.get(value, (0, Decimal("0"))))
        for value, label in Stage.choices
    }
    if per_column > 0 and totals:
        ranked = (
            customers.order_by()
            .annotate(
                place=Window(
                    RowNumber(),
                    partition_by=[F("stage")],
                    order_by=[F("mrr").desc(), F("name").asc(), F("pk").asc()],
                ),
                overridden=Exists(StageOverride.objects.active().filter(customer=OuterRef("pk"))),
            )
            .filter(place__lte=per_column)
            .select_related("health")
            .order_by("stage", "place")
        )
        now = timezone.now()
        for customer in ranked:
            column = columns.get(customer.stage)
            if column is not None:
                customer.days_in_stage = max((now - customer.stage_changed_at).days, 0)  # type: ignore[attr-defined]
                customer.colour = health_colour(customer)  # type: ignore[attr-defined]
                column.cards.append(customer)
    return list(columns.values())


def health_colour(customer: Customer) -> str:
    """The customer's latest health colour ("" when not scored)."""
    try:
        health: Any = customer.health  # type: ignore[attr-defined]
    except ObjectDoesNotExist:  # no health row yet
        return ""
    return str(health.colour or "")
