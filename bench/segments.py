"""Benchmark: refreshing saved segments for 100,000 customers.

For each database (SQLite file, then PostgreSQL), this script
1. builds 100,000 customers (sizes, MRR, stages, sign-up and last-seen dates, countries, one
   tag on a tenth of them) with bulk inserts, and four segments of different shapes,
2. times the first refresh (every member enters: history and outbox rows for all of them),
3. moves 1% of the customers across the segments' boundaries and times the next day's
   refresh, then times a second refresh of that day (nothing to do),
and prints the seconds and rows written.

Usage: python bench/segments.py [--db sqlite|postgres|both] [--customers 100000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from common import drop_database, fresh_database, run

PG_DB = "tend_bench_segments"

SCRIPT = """
import json, random, time
from datetime import timedelta
from decimal import Decimal
from django.db import connection, transaction
from django.utils import timezone
from tend.changes.models import CustomerChange
from tend.customers.models import Customer, Tag
from tend.segments.actions import segment_create
from tend.segments.membership import segments_refresh, today_utc
from tend.segments.models import SegmentChange

N = {customers}
rng = random.Random(7)
now = timezone.now()
stages = ["trial", "onboarding", "adopting", "established", "renewal_due", "at_risk", "churned"]
countries = ["US", "DE", "CN", "GB", "FR", "JP", "BR", "IN"]
t = time.perf_counter()
batch = []
for i in range(N):
    batch.append(Customer(
        name=f"Customer {{i}}", email=f"c{{i}}@example.com", size=rng.randint(1, 500),
        mrr=Decimal(rng.choice([0, 0, 19, 49, 99, 199, 499])), stage=rng.choice(stages),
        country=rng.choice(countries), signed_up_at=now - timedelta(days=rng.randint(0, 900)),
        last_seen_at=now - timedelta(days=rng.randint(0, 120)),
    ))
    if len(batch) == 5000:
        Customer.objects.bulk_create(batch); batch = []
Customer.objects.bulk_create(batch)
vip = Tag.objects.create(name="vip")
ids = list(Customer.objects.values_list("pk", flat=True))
Customer.tags.through.objects.bulk_create(
    [Customer.tags.through(customer_id=pk, tag_id=vip.pk) for pk in ids[::10]])
built = time.perf_counter() - t
segs = [
    segment_create(by=None, name="Paying big", refresh=False, condition={{"all": [
        {{"field": "mrr", "op": "gte", "value": 99}},
        {{"field": "size", "op": "gte", "value": 50}}]}}),
    segment_create(by=None, name="At risk or due", refresh=False, condition={{
        "field": "stage", "op": "in", "value": ["at_risk", "renewal_due"]}}),
    segment_create(by=None, name="New and quiet", refresh=False, condition={{"all": [
        {{"field": "signed_up", "op": "within_last", "value": 90}},
        {{"field": "last_seen", "op": "more_than_days_ago", "value": 14}}]}}),
    segment_create(by=None, name="VIP or Asia", refresh=False, condition={{"any": [
        {{"field": "tags", "op": "has", "value": "vip"}},
        {{"field": "country", "op": "in", "value": ["CN", "JP", "IN"]}}]}}),
]
day = today_utc() - timedelta(days=1)
t = time.perf_counter(); first = segments_refresh(day); first_s = time.perf_counter() - t
moved = rng.sample(ids, N // 100)
half = len(moved) // 2
with transaction.atomic():
    Customer.objects.filter(pk__in=moved[:half]).update(stage="at_risk", mrr=Decimal(0))
    Customer.objects.filter(pk__in=moved[half:]).update(
        stage="established", size=400, mrr=Decimal(199))
nxt = day + timedelta(days=1)
t = time.perf_counter(); daily = segments_refresh(nxt); daily_s = time.perf_counter() - t
t = time.perf_counter(); again = segments_refresh(nxt); again_s = time.perf_counter() - t
print("RESULT " + json.dumps({{
    "built_s": built, "first_s": first_s, "daily_s": daily_s, "again_s": again_s,
    "members": sum(r.members for r in first),
    "daily_moves": sum(r.entered + r.left for r in daily),
    "again_moves": sum(r.entered + r.left for r in again),
    "history_rows": SegmentChange.objects.count(),
    "outbox_rows": CustomerChange.objects.filter(kind="segment").count(),
}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmp:
            env = fresh_database(kind, Path(tmp), PG_DB)
            out = run(env, "shell", "-c", SCRIPT.format(customers=args.customers))
            r = json.loads(out.split("RESULT ", 1)[1].splitlines()[0])
            print(
                f"[{kind}] {args.customers:,} customers (built in {r['built_s']:.0f} s), "
                f"4 segments: first refresh {r['first_s']:.1f} s ({r['members']:,} members "
                f"entering); next day with 1% moved {r['daily_s']:.2f} s "
                f"({r['daily_moves']:,} moves); same day again {r['again_s']:.2f} s "
                f"({r['again_moves']} moves); {r['history_rows']:,} history rows, "
                f"{r['outbox_rows']:,} outbox rows"
            )
            drop_database(kind, PG_DB)


if __name__ == "__main__":
    main()
