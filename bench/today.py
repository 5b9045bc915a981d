"""Benchmark: the Today page (and GET /api/v1/today) at 100,000 customers.

The page reads only ``TodayItem`` rows (the first 50 by rank, joined with their customer and
health, and their count), so the data set is what those queries touch: 100,000 customers
(a tenth owned by the benchmark user, a third with a health row) and one Today item for a
share of them (default 10 %: 10,000 items) with the built-in signals' reasons, written
directly in bulk. No events are needed: the page never reads them.

For each database (SQLite file, then PostgreSQL), this script
1. builds the data set (a set kept by an earlier ``--keep`` run is reused only when its database
   is still there and holds ``--customers`` customers; ``--rebuild`` never reuses one),
2. starts `tend serve` (gunicorn, 2 processes) exactly as production would,
3. logs in over HTTP and requests the page with each filter, and the API list, in turn,
4. prints p50/p95/p99 per kind next to /healthz measured in the same run as a baseline,
5. drops the database (and the SQLite file) it built, unless ``--keep``.

Usage: python bench/today.py [--db sqlite|postgres|both] [--customers 100000]
       [--items-share 0.1] [--requests 300] [--keep] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

from common import (
    ROOT,
    database_env,
    database_present,
    drop_database,
    recreate_database,
    run,
    serving,
    stored_customers,
)
from pages import PASSWORD, Browser, percentiles

PG_DB = "tend_bench_today"

BUILD = """
import random
from datetime import timedelta
from decimal import Decimal
from django.db import transaction
from django.utils import timezone
from tend.accounts.models import User
from tend.customers.models import Customer, Stage
from tend.health.models import CustomerHealth
from tend.lib.db import analyze
from tend.today.engine import combined_risk, money_at_stake
from tend.today.models import TodayItem

N, SHARE = {customers}, {share}
rng = random.Random(16)
bench = User.objects.get(username="bench")
today = timezone.now().date()
stages = [s for s in Stage.values if s != "churned"]
BATCH = 10_000
for start in range(0, N, BATCH):
    with transaction.atomic():
        Customer.objects.bulk_create(
            Customer(
                name=f"Customer {{i:06d}}",
                external_id=f"bench{{i}}",
                email=f"c{{i}}@example.com",
                stage=rng.choice(stages),
                mrr=Decimal(rng.choice([0, 29, 49, 99, 199, 499, 999, 2500])),
                owner=bench if i % 10 == 0 else None,
            )
            for i in range(start, min(N, start + BATCH))
        )
ids = list(Customer.objects.order_by("pk").values_list("pk", "mrr"))
owners = dict(Customer.objects.filter(owner__isnull=False).values_list("pk", "owner_id"))
CustomerHealth.objects.bulk_create(
    (
        CustomerHealth(customer_id=pk, day=today, score=rng.randint(0, 100),
                       colour=rng.choice(["red", "yellow", "green"]), colour_since=today)
        for pk, _mrr in ids if pk % 3 == 0
    ),
    batch_size=BATCH,
)
REASONS = [
    ("renewal", 0.3, lambda: {{"days": rng.randint(0, 14), "colour": "yellow"}}),
    ("payment_failed", 0.4,
     lambda: {{"days": rng.randint(0, 13), "amount": "49.00", "currency": "USD"}}),
    ("went_quiet", 0.35, lambda: {{"before": rng.randint(8, 30), "quiet_days": 14}}),
    ("onboarding_stalled", 0.3,
     lambda: {{"days": rng.randint(22, 60), "active": rng.randint(0, 2)}}),
    ("at_risk", 0.4, lambda: {{"days": rng.randint(0, 6), "manual": False}}),
]
chosen = rng.sample(ids, int(N * SHARE))
rows = []
for pk, mrr in chosen:
    picked = rng.sample(REASONS, rng.choice([1, 1, 1, 2, 3]))
    reasons = [
        {{"signal": s, "key": f"{{s}}:{{pk}}", "risk": r, "params": p()}} for s, r, p in picked
    ]
    risk = combined_risk(r["risk"] for r in reasons)
    rows.append((pk, reasons, risk, money_at_stake(mrr, risk), mrr))
rows.sort(key=lambda r: (-r[3], -r[2], r[0]))
TodayItem.objects.bulk_create(
    (
        TodayItem(customer_id=pk, owner_id=owners.get(pk), day=today, current=True,
                  reasons=reasons,
                  signals=" " + " ".join(x["signal"] for x in reasons) + " ",
                  value_basis="mrr" if mrr else "none", monthly_value=mrr, risk=risk,
                  money_at_stake=money, rank=rank, first_seen=today,
                  state="snoozed" if rank % 17 == 0 else "open",
                  snoozed_until=today + timedelta(days=3) if rank % 17 == 0 else None)
        for rank, (pk, reasons, risk, money, mrr) in enumerate(rows, 1)
    ),
    batch_size=BATCH,
)
analyze([Customer, CustomerHealth, TodayItem])
print(f"built {{len(ids)}} customers, {{len(rows)}} Today items")
"""


def build(kind: str, env: dict[str, str], args: argparse.Namespace) -> None:
    marker = Path(env["TEND_DATA_DIR"]) / f"built-today-{kind}-{args.customers}-{args.items_share}"
    data_dir = Path(env["TEND_DATA_DIR"])
    if marker.exists() and not args.rebuild:
        if database_present(kind, data_dir, PG_DB):
            run(env, "migrate", "-v", "0")
            if stored_customers(env) == args.customers:
                print(f"[{kind}] reusing the data set kept by an earlier --keep run")
                return
        print(f"[{kind}] the kept data set's database is gone or changed: building it again")
        marker.unlink()
    recreate_database(kind, Path(env["TEND_DATA_DIR"]), PG_DB)
    for old in Path(env["TEND_DATA_DIR"]).glob(f"built-today-{kind}-*"):
        old.unlink()
    started = time.perf_counter()
    run(env, "migrate", "-v", "0")
    run(env, "createuser", "bench", "--role", "viewer", "--password", PASSWORD)
    code = BUILD.format(customers=args.customers, share=args.items_share)
    print(f"[{kind}] " + run(env, "shell", "-c", code).strip().splitlines()[-1])
    print(f"[{kind}] built in {time.perf_counter() - started:.0f} s")
    if args.keep:
        marker.touch()


VARIANTS = [
    "/today/",
    "/today/?owner=mine",
    "/today/?signal=renewal",
    "/today/?signal=went_quiet&owner=mine",
    "/today/?signal=at_risk",
]


def measure(
    kind: str, env: dict[str, str], args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    port = 8766
    with serving(env, port):
        browser = Browser(port)
        browser.login()
        rng = random.Random(1)
        results: dict[str, list[float]] = {"healthz": [], "page": [], "api": []}
        per_variant: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for _ in range(20):  # warm up caches and connections
            browser.request("GET", rng.choice(VARIANTS))
            browser.request("GET", "/api/v1/today")
        for i in range(args.requests):
            status, _, t = browser.request("GET", "/healthz")
            results["healthz"].append(t)
            path = VARIANTS[i % len(VARIANTS)]
            status, body, t = browser.request("GET", path)
            assert status == 200 and "today-item" in body, f"{path} gave HTTP {status}"
            results["page"].append(t)
            per_variant[path].append(t)
            if i % 3 == 0:
                status, _, t = browser.request("GET", "/api/v1/today?limit=50")
                assert status == 200, f"/api/v1/today gave HTTP {status}"
                results["api"].append(t)
        for path, samples in per_variant.items():
            ordered = sorted(samples)
            print(
                f"[{kind}]   {path:40s} median={statistics.median(ordered) * 1000:6.1f} ms  "
                f"max={ordered[-1] * 1000:6.1f} ms"
            )
        return {name: percentiles(samples) for name, samples in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--items-share", type=float, default=0.1)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the data set for a next run")
    parser.add_argument("--rebuild", action="store_true", help="never reuse a kept data set")
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "bench-today"))
    args = parser.parse_args()
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"# today benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs")
    for kind in kinds:
        env = database_env(kind, data_dir, PG_DB)
        build(kind, env, args)
        try:
            stats = measure(kind, env, args)
        finally:
            if not args.keep:
                drop_database(kind, PG_DB)
                recreate_database("sqlite", data_dir, PG_DB)  # removes the SQLite file
        for name, s in stats.items():
            ratio = s["p95"] / stats["healthz"]["p95"] if name != "healthz" else 1.0
            print(
                f"[{kind}] {name:8s} n={s['n']:4.0f}  p50={s['p50']:6.1f} ms  "
                f"p95={s['p95']:6.1f} ms  p99={s['p99']:6.1f} ms  p95/healthz={ratio:5.1f}x"
            )
        ok = stats["page"]["p95"] < 150
        print(f"[{kind}] target page p95 < 150 ms: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
