"""Benchmark: the daily recompute (the pipeline of ``tend.jobs.pipeline``) at 100,000 customers.

For each database (scratch PostgreSQL database ``tend_bench_daily``, then a SQLite file):
1. builds the data set with `tend demo-data` (saas, 24 months, ``--customers`` customers,
   ``--events-per-customer`` events each: 100,000 × 100 = 10M events by default), ending today;
   a data set kept by an earlier ``--keep`` run is reused only when its database is still there
   and holds exactly the customers it was built with (otherwise it is built again),
2. adds five saved segments (conditions over built-in fields) so the segments step has work,
3. runs the pipeline one step at a time — ``pipeline_run(as_of=…, only=[step])`` in one fresh
   `tend shell` process, in the pipeline's order — and prints each step's seconds, what it
   did, and the process's peak RSS after it (``resource.getrusage``): memory is flat when the
   peak stays near the baseline whatever the number of customers,
4. drops the database (and the SQLite file) it built, unless ``--keep``.

Steps whose code is not there yet (another branch) are reported as missing and skipped.
Target (issue 16): health + segments + lifecycle (+ today) ≤ 60 s on PostgreSQL.

Usage: python bench/daily.py [--db sqlite|postgres|both] [--customers 100000]
       [--events-per-customer 100] [--steps rollups,health,segments,lifecycle,today]
       [--repeat 1] [--keep] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import time

from common import (
    ROOT,
    database_env,
    forget_data_set,
    run,
    saas_data_dir,
    saas_data_set,
)

PG_DB = "tend_bench_daily"
TARGET_SECONDS = 60.0
TIMED = ("health", "segments", "lifecycle", "today")  # what the 60 s target covers

# Saved segments as a founder would keep them (conditions in the shared condition language).
SEGMENTS = [
    ("bench: big accounts", {"field": "mrr", "op": "gte", "value": 200}),
    ("bench: quiet payers", {"all": [
        {"field": "mrr", "op": "gt", "value": 0},
        {"field": "last_seen", "op": "more_than_days_ago", "value": 14},
    ]}),
    ("bench: new this quarter", {"field": "signed_up", "op": "within_last", "value": 90}),
    ("bench: at risk or renewing", {"any": [
        {"field": "stage", "op": "eq", "value": "at_risk"},
        {"field": "stage", "op": "eq", "value": "renewal_due"},
    ]}),
    ("bench: tagged vip", {"field": "tags", "op": "has", "value": "vip"}),
]  # fmt: skip

SETUP = """
from tend.segments.models import Segment
for name, condition in {segments!r}:
    Segment.objects.update_or_create(name=name, defaults={{"condition": condition}})
print("segments", Segment.objects.filter(name__startswith="bench: ").count())
"""

# Runs inside `tend shell -c`: one process for all steps, so its peak RSS is what one daily
# run needs. Each step goes through pipeline_run, which times and records it as production does.
MEASURE = """
import json, resource
from datetime import date
from django.utils.module_loading import import_string
from tend.jobs import pipeline
from tend.customers.models import Customer

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

as_of = date.fromisoformat({as_of!r})
rows = [{{"step": "baseline", "peak_rss_mb": peak_mb(), "customers": Customer.objects.count()}}]
for step in pipeline.PIPELINE:
    if step.name not in {steps!r}:
        continue
    try:
        import_string(step.function)
    except ImportError as exc:
        rows.append({{"step": step.name, "missing": str(exc)}})
        continue
    [result] = pipeline.pipeline_run(as_of=as_of, only=[step.name])
    rows.append({{"step": step.name, "seconds": result.seconds, "counts": result.counts,
                 "peak_rss_mb": peak_mb()}})
print("RESULT " + json.dumps(rows))
"""


def measure(kind: str, env: dict[str, str], as_of: str, steps: list[str]) -> list[dict]:
    run(env, "shell", "-c", SETUP.format(segments=SEGMENTS))
    out = run(env, "shell", "-c", MEASURE.format(as_of=as_of, steps=steps))
    return json.loads(out.split("RESULT ", 1)[1].splitlines()[0])


def report(kind: str, rows: list[dict]) -> None:
    baseline = rows[0]
    print(
        f"[{kind}] {baseline['customers']:,} customers; baseline peak RSS "
        f"{baseline['peak_rss_mb']:.0f} MB"
    )
    timed = 0.0
    for row in rows[1:]:
        if "missing" in row:
            print(f"[{kind}]   {row['step']:10s} missing ({row['missing']})")
            continue
        if row["step"] in TIMED:
            timed += row["seconds"]
        counts = ", ".join(f"{k} {v:,}" for k, v in row["counts"].items()) or "—"
        print(
            f"[{kind}]   {row['step']:10s} {row['seconds']:7.2f} s   peak RSS "
            f"{row['peak_rss_mb']:6.0f} MB   {counts}"
        )
    peak = max(r.get("peak_rss_mb", 0.0) for r in rows)
    ran = [r["step"] for r in rows[1:] if "missing" not in r and r["step"] in TIMED]
    verdict = ("met" if timed <= TARGET_SECONDS else "MISSED") if ran else "not measured"
    print(
        f"[{kind}] daily recompute ({' + '.join(ran) or 'no timed step'}): {timed:.1f} s "
        f"(target ≤ {TARGET_SECONDS:.0f} s: {verdict}); peak RSS {peak:.0f} MB "
        f"(+{peak - baseline['peak_rss_mb']:.0f} MB over the baseline)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events-per-customer", type=int, default=100)
    parser.add_argument("--steps", default="rollups,health,segments,lifecycle,today")
    parser.add_argument("--repeat", type=int, default=1, help="run the steps this many times")
    parser.add_argument("--keep", action="store_true", help="keep the data set for a next run")
    parser.add_argument("--rebuild", action="store_true", help="never reuse a kept data set")
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "bench"))
    args = parser.parse_args()
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    kinds = ["postgres", "sqlite"] if args.db == "both" else [args.db]
    print(f"# daily pipeline benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs")
    for kind in kinds:
        data_dir = saas_data_dir(args, kind, "daily")
        env = database_env(kind, data_dir, PG_DB)
        try:
            as_of = saas_data_set(kind, env, args, PG_DB)
            for n in range(args.repeat):
                if args.repeat > 1:
                    print(f"[{kind}] run {n + 1} of {args.repeat}")
                report(kind, measure(kind, env, as_of, steps))
        finally:
            if not args.keep:
                forget_data_set(kind, data_dir, PG_DB)


if __name__ == "__main__":
    main()
