"""Benchmark: metric snapshots and the revenue dashboard at 100,000 customers.

For each database (SQLite file, then PostgreSQL), this script
1. builds a SaaS demo data set once with `tend demo-data` (36 months; few events, which the
   dashboard never reads), reused on later runs unless --rebuild,
2. times a full snapshot rebuild and an incremental one after 200 subscriptions changed,
3. starts `tend serve` (gunicorn, 2 processes) and requests dashboard variants one after
   another — unfiltered, quarters, one plan, one channel (pre-added summaries) and a tag or
   two channels (added up from customer-month rows on demand) — next to /healthz as a
   same-run baseline, and prints p50/p95/p99.

Usage: python bench/metrics.py [--db sqlite|postgres|both] [--customers 100000]
       [--requests 300] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

from common import ROOT, database_env, recreate_database, run, serving
from pages import Browser, percentiles

PG_DB = "tend_bench_metrics"
PASSWORD = "bench-password-123"

REFRESH = """
import json, time
from tend.metrics.snapshots import snapshots_refresh
import lifelines  # imported before the clock starts: a worker has it loaded already
t = time.perf_counter(); full = snapshots_refresh(full=True); full_s = time.perf_counter() - t
from decimal import Decimal
from django.db import transaction
from tend.billing.actions import subscription_update
from tend.billing.models import Subscription
subs = list(Subscription.objects.filter(status="active").order_by("pk")[:200])
with transaction.atomic():
    for sub in subs:
        subscription_update(subscription=sub, by=None, mrr=sub.mrr + Decimal("10"))
t = time.perf_counter(); inc = snapshots_refresh(); inc_s = time.perf_counter() - t
from tend.metrics.models import CustomerMonth
print("RESULT " + json.dumps({"full_s": full_s, "full_customers": full.customers,
    "rows": CustomerMonth.objects.count(), "inc_s": inc_s, "inc_customers": inc.customers}))
"""


def build(kind: str, env: dict[str, str], args: argparse.Namespace) -> None:
    marker = Path(env["TEND_DATA_DIR"]) / f"built-{kind}-{args.customers}"
    if marker.exists() and not args.rebuild:
        print(f"[{kind}] reusing data set ({marker.name})")
        return
    recreate_database(kind, Path(env["TEND_DATA_DIR"]), PG_DB)
    started = time.perf_counter()
    run(env, "migrate", "-v", "0")
    run(
        env,
        *("demo-data", "--business", "saas", "--customers", str(args.customers)),
        *("--months", "36", "--seed", "11", "--events-per-customer", "2"),
    )
    run(env, "createuser", "bench", "--role", "viewer", "--password", PASSWORD)
    print(f"[{kind}] built in {time.perf_counter() - started:.0f} s")
    marker.touch()


def refresh(kind: str, env: dict[str, str]) -> dict[str, float]:
    out = run(env, "shell", "-c", REFRESH)
    result = json.loads(out.split("RESULT ", 1)[1].splitlines()[0])
    print(
        f"[{kind}] snapshots: full rebuild {result['full_s']:.1f} s for "
        f"{result['full_customers']:,} paying customers ({result['rows']:,} customer-months); "
        f"incremental after 200 changed subscriptions {result['inc_s']:.2f} s "
        f"({result['inc_customers']} customers rebuilt)"
    )
    return result


def measure(kind: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, dict]:
    port = 8766
    with serving(env, port):
        browser = Browser(port)
        browser.login()
        page = browser.request("GET", "/metrics/")[1]
        plans = sorted(set(re.findall(r'name="plan"[^>]*value="(\d+)"', page))) or sorted(
            set(re.findall(r'<option value="(\d+)"', page))
        )
        variants = {
            "summary": [
                "/metrics/",
                "/metrics/?period=quarter",
                "/metrics/?period=year",
                "/metrics/?channel=organic",
                "/metrics/?country=US",
                *(f"/metrics/?plan={p}" for p in plans[:2]),
            ],
            "on demand": [
                "/metrics/?tag=vip",
                "/metrics/?channel=organic&channel=paid_search",
                "/metrics/?channel=organic&country=US",
            ],
        }
        for paths in variants.values():
            for path in paths:
                status, _, _ = browser.request("GET", path)
                assert status == 200, f"{path} gave HTTP {status}"
        results: dict[str, list[float]] = {"healthz": [], **{k: [] for k in variants}}
        for i in range(args.requests):
            results["healthz"].append(browser.request("GET", "/healthz")[2])
            for name, paths in variants.items():
                if name == "on demand" and i % 3:
                    continue  # fewer samples of the slower path
                path = paths[i % len(paths)]
                status, _, t = browser.request("GET", path)
                assert status == 200, f"{path} gave HTTP {status}"
                results[name].append(t)
        return {name: percentiles(samples) for name, samples in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--skip-refresh", action="store_true", help="measure the pages only (snapshots built)"
    )
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "bench-metrics"))
    args = parser.parse_args()
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    load = os.getloadavg()[0]
    print(f"# metrics benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs")
    for kind in kinds:
        env = database_env(kind, data_dir, PG_DB)
        build(kind, env, args)
        if not args.skip_refresh:
            refresh(kind, env)
        stats = measure(kind, env, args)
        for name, s in stats.items():
            ratio = s["p95"] / stats["healthz"]["p95"] if name != "healthz" else 1.0
            print(
                f"[{kind}] {name:10s} n={s['n']:4.0f}  p50={s['p50']:6.1f} ms  "
                f"p95={s['p95']:6.1f} ms  p99={s['p99']:6.1f} ms  p95/healthz={ratio:5.1f}x"
            )
        ok = stats["summary"]["p95"] < 150
        print(f"[{kind}] target: dashboard p95 < 150 ms: {'met' if ok else 'MISSED'}")
    print(f"# load average at start {load:.1f}, at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
