"""``tend predict [CUSTOMER] [--top N] [--json]``: churn risk from the command line.

Without a customer: the latest scored day's riskiest customers (``--top``, default 20) with
their top drivers. With a customer (id, external id or exact name): the risk, rank, 90-day
change and every stored driver in words. ``--json`` prints the same as the REST API. When no
model could be trained, says why ("not enough data to train: 12 churned, need 20") and exits 1.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from rich.console import Console
from rich.table import Table

from tend.predict import churn_display as display
from tend.predict.models import ChurnModel, ChurnScore, TrainingStatus

MAX_TOP = 10_000


def _customer(text: str) -> Any:
    from tend.customers.models import Customer

    query = Q(external_id=text) | Q(name=text)
    if text.isdigit() and len(text) < 19:
        query |= Q(pk=int(text))
    found = list(Customer.objects.filter(query)[:2])
    if not found:
        raise CommandError(f"No customer {text!r} (give an id, external id or exact name).")
    if len(found) > 1:
        raise CommandError(f"More than one customer matches {text!r}; give the id.")
    return found[0]


class Command(BaseCommand):
    help = "Show churn risk: the riskiest customers, or one customer's risk and drivers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("customer", nargs="?", help="customer id, external id or exact name")
        parser.add_argument("--top", type=int, default=20, help="how many customers (default 20)")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def _print(self, table: Table) -> None:
        buffer = io.StringIO()
        Console(file=buffer, width=140).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def _no_model(self, as_json: bool) -> None:
        latest = ChurnModel.objects.defer("artifact").order_by("-version").first()
        if latest is None:
            message = "no churn model has been trained yet (run: tend train)"
        elif latest.status == TrainingStatus.NOT_ENOUGH_DATA:
            message = display.model_message(latest) or latest.message
        else:
            message = display.model_message(latest) or "the last training run failed"
        if as_json:
            self.stdout.write(
                json.dumps({"status": latest.status if latest else "none", "message": message})
            )
        raise CommandError(message)

    def handle(self, *args: Any, **options: Any) -> None:
        top = options["top"]
        if not 1 <= top <= MAX_TOP:
            raise CommandError(f"--top must be between 1 and {MAX_TOP:,}.")
        as_json = options["json"]
        if options["customer"]:
            self._one(_customer(options["customer"]), as_json)
            return
        day = display.latest_score_day()
        if day is None:
            self._no_model(as_json)
            return
        scores = list(
            ChurnScore.objects.filter(day=day)
            .select_related("customer", "model")
            .defer(
                "model__artifact", "model__metrics", "model__importances", "model__preprocessing"
            )
            .order_by("-risk", "customer_id")[:top]
        )
        rows = []
        for s in scores:
            row = display.score_as_dict(s)
            row["customer_name"] = s.customer.name
            rows.append(row)
        if as_json:
            self.stdout.write(
                json.dumps({"day": day.isoformat(), "items": rows}, default=str, ensure_ascii=False)
            )
            return
        table = Table(title=f"Churn risk on {day.isoformat()} (riskiest {len(rows)})")
        for column, justify in (
            ("Id", "right"),
            ("Customer", "left"),
            ("Risk", "right"),
            ("Rank", "left"),
            ("Top drivers", "left"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for row in rows:
            drivers = "; ".join(
                f"{'↑' if d['effect'] > 0 else '↓'} {d['text']}" for d in row["drivers"][:3]
            )
            table.add_row(
                str(row["customer_id"]),
                row["customer_name"],
                f"{row['risk']:.2f}",
                row["top"],
                drivers,
            )
        self._print(table)

    def _one(self, customer: Any, as_json: bool) -> None:
        history = list(
            ChurnScore.objects.filter(customer_id=customer.pk)
            .select_related("model")
            .defer(
                "model__artifact", "model__metrics", "model__importances", "model__preprocessing"
            )
            .order_by("-day")[:90]
        )
        if not history:
            if display.latest_score_day() is None:
                self._no_model(as_json)
            message = f"{customer.name} has no churn score yet."
            if as_json:
                self.stdout.write(
                    json.dumps({"customer_id": customer.pk, "scored": False, "message": message})
                )
                return
            self.stdout.write(message)
            return
        latest, oldest = history[0], history[-1]
        oldest = next(
            (s for s in reversed(history) if latest.day - s.day < timedelta(days=90)), latest
        )
        row = display.score_as_dict(latest)
        row.update(
            customer_name=customer.name,
            scored=True,
            change=round(latest.risk - oldest.risk, 4) if oldest is not latest else None,
            since=oldest.day.isoformat(),
            model_trained_at=latest.model.trained_at.isoformat(),
        )
        if as_json:
            self.stdout.write(json.dumps(row, default=str, ensure_ascii=False))
            return
        self.stdout.write(
            f"{customer.name} (#{customer.pk}): churn risk {latest.risk:.2f} on "
            f"{latest.day.isoformat()}, {row['top']} — model v{row['model_version']}"
        )
        if row["change"] is not None:
            self.stdout.write(f"  {row['change']:+.2f} since {row['since']}")
        for d in row["drivers"]:
            arrow = "raises" if d["effect"] > 0 else "lowers"
            self.stdout.write(f"  {arrow} {abs(d['effect']) * 100:.0f} pts: {d['text']}")
