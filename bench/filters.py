"""Benchmark: the revenue dashboard's on-demand figures with filters written by hand (before
the condition language) against filters compiled from a condition tree (now).

Runs in the current environment's database (``TEND_DATABASE_URL`` / ``TEND_DATA_DIR``), which
must hold billing data with snapshots built (e.g. ``tend demo-data --business saas
--customers 20000 --months 36``). For each filter it computes, uncached, everything the
dashboard adds up on demand for a filtered view (KPI series, cohorts, survival, channels, CAC,
referral rate), alternating the old ``customer_sql``/``customers`` (copied below, as they were
before) and the current ones, ``--rounds`` times, and prints the median of each.

Usage: python bench/filters.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")


def old_customer_sql(self: Any, column: str = "c.id") -> tuple[str, list[Any]]:
    """``Filters.customer_sql`` as it was written by hand before the condition language."""
    from tend.customers.models import Customer, Tag

    parts: list[str] = []
    params: list[Any] = []
    for name, values in (
        ("f.plan_id", self.plans),
        ("f.channel", self.channels),
        ("f.country", self.countries),
    ):
        if values:
            parts.append(f"{name} IN ({', '.join(['%s'] * len(values))})")
            params.extend(values)
    if self.tags:
        through = Customer.tags.through._meta.db_table
        tag_table = Tag._meta.db_table
        parts.append(
            f"f.id IN (SELECT ct.customer_id FROM {through} ct JOIN {tag_table} t "
            f"ON t.id = ct.tag_id WHERE t.name IN ({', '.join(['%s'] * len(self.tags))}))"
        )
        params.extend(self.tags)
    if not parts:
        return "", []
    table = Customer._meta.db_table
    return f"{column} IN (SELECT f.id FROM {table} f WHERE {' AND '.join(parts)})", params


def old_customers(self: Any) -> Any:
    from tend.customers.models import Customer

    qs = Customer.objects.all()
    if self.plans:
        qs = qs.filter(plan_id__in=self.plans)
    if self.channels:
        qs = qs.filter(channel__in=self.channels)
    if self.countries:
        qs = qs.filter(country__in=self.countries)
    if self.tags:
        qs = qs.filter(
            pk__in=Customer.tags.through.objects.filter(tag__name__in=self.tags).values(
                "customer_id"
            )
        )
    return qs


def compute(filters: Any) -> None:
    """Everything the dashboard adds up on demand for ``filters``, uncached."""
    from django.core.cache import cache

    from tend.metrics.channels import by_channel, cac_by_channel_month
    from tend.metrics.cohorts import cohorts, survival
    from tend.metrics.kpis import kpi_series
    from tend.metrics.value import referral_rate

    cache.clear()
    kpi_series(filters)
    cohorts(filters)
    survival(filters)
    by_channel(filters)
    cac_by_channel_month(filters)
    referral_rate(filters)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from tend.customers.models import Customer, Tag
    from tend.metrics.filters import Filters

    tag = Tag.objects.order_by("pk").values_list("name", flat=True).first()
    channels = list(
        Customer.objects.exclude(channel="")
        .order_by()
        .values_list("channel", flat=True)
        .distinct()[:2]
    )
    country = (
        Customer.objects.exclude(country="").order_by().values_list("country", flat=True).first()
    )
    cases: dict[str, dict[str, Any]] = {
        "two channels": {"channel": channels},
        "channel and country": {"channel": channels[:1], "country": [country]},
    }
    if tag:
        cases["a tag"] = {"tag": [tag]}
    print(
        f"{connection.vendor}: {Customer.objects.count():,} customers; "
        f"{args.rounds} rounds, median seconds per uncached on-demand dashboard"
    )
    new_sql, new_customers = Filters.customer_sql, Filters.customers
    for label, raw in cases.items():
        filters = Filters.parse(raw)
        times: dict[str, list[float]] = {"before": [], "now": []}
        for _round in range(args.rounds):
            for which in ("before", "now"):
                if which == "before":
                    Filters.customer_sql, Filters.customers = old_customer_sql, old_customers  # type: ignore[method-assign]
                else:
                    Filters.customer_sql, Filters.customers = new_sql, new_customers  # type: ignore[method-assign]
                started = time.perf_counter()
                compute(filters)
                times[which].append(time.perf_counter() - started)
        Filters.customer_sql, Filters.customers = new_sql, new_customers  # type: ignore[method-assign]
        before, now = statistics.median(times["before"]), statistics.median(times["now"])
        print(f"  {label:<22} before {before:.3f} s   now {now:.3f} s   ({now / before:.2f}×)")


if __name__ == "__main__":
    main()
