"""Benchmark: the churn model's training set (issue 19) at 100,000 customers × 12 dates.

For each database (scratch PostgreSQL database ``tend_bench_churn``, then a SQLite file):
1. builds the data set with `tend demo-data` (saas, 24 months, ``--customers`` customers,
   ``--events-per-customer`` events each), ending today; ``--keep`` keeps it for a next run,
   which reuses it only when it still holds exactly that many customers,
2. in one fresh `tend shell` process, times ``training_set(dates=observation_dates(end=…,
   count=12, horizon_days=90), horizon_days=90)`` and reports its rows, the positives, the
   process's peak RSS (``resource.getrusage``) and, in a second run under ``tracemalloc``, the
   peak of Python allocations (tracemalloc slows the run, so its time is not the one reported),
3. drops the database (and the SQLite file) it built, unless ``--keep``.

Target (issue 19): 100,000 customers × 12 dates well under a minute.

Usage: python bench/churn_training.py [--db sqlite|postgres|both] [--customers 100000]
       [--events-per-customer 50] [--dates 12] [--keep] [--rebuild] [--no-tracemalloc]
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

PG_DB = "tend_bench_churn"
TARGET_SECONDS = 60.0

MEASURE = """
import json, resource, time, tracemalloc
from datetime import date
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tend.customers.models import Customer
from tend.predict.training import observation_dates, training_set

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def server_cpu():
    # CPU seconds of this connection's PostgreSQL backend (same machine), None on SQLite.
    import os
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

end = date.fromisoformat({end!r})
dates = observation_dates(end=end, count={dates}, horizon_days=90)
row = {{"customers": Customer.objects.count(), "baseline_rss_mb": peak_mb(),
        "dates": [d.isoformat() for d in dates]}}
server = server_cpu()
started, cpu = time.perf_counter(), time.process_time()
with CaptureQueriesContext(connection) as queries:
    result = training_set(dates=dates, horizon_days=90)
row["seconds"] = time.perf_counter() - started
row["cpu_seconds"] = time.process_time() - cpu
after = server_cpu()
row["server_cpu_seconds"] = None if server is None or after is None else after - server
row["queries"] = len(queries)
row["peak_rss_mb"] = peak_mb()
row["rows"] = len(result)
row["positives"] = int(result.y.sum())
row["columns"] = int(result.X.shape[1])
row["frame_mb"] = float(result.X.memory_usage(deep=True).sum()) / 2**20
del result
if {trace!r}:
    tracemalloc.start()
    started = time.perf_counter()
    training_set(dates=dates, horizon_days=90)
    row["traced_seconds"] = time.perf_counter() - started
    row["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
print("RESULT " + json.dumps(row))
"""


def measure(env: dict[str, str], end: str, args: argparse.Namespace) -> dict:
    script = MEASURE.format(end=end, dates=args.dates, trace=not args.no_tracemalloc)
    out = run(env, "shell", "-c", script)
    return json.loads(out.split("RESULT ", 1)[1].splitlines()[0])


def report(kind: str, row: dict) -> None:
    server = (
        f" + {row['server_cpu_seconds']:.1f} s in the database server"
        if row.get("server_cpu_seconds") is not None
        else ""
    )
    verdict = "met" if row["seconds"] <= TARGET_SECONDS else "MISSED"
    print(
        f"[{kind}] {row['customers']:,} customers, {len(row['dates'])} dates "
        f"({row['dates'][0]} … {row['dates'][-1]}): {row['rows']:,} rows × {row['columns']} "
        f"columns, {row['positives']:,} positives"
    )
    print(
        f"[{kind}] training set built in {row['seconds']:.1f} s wall, {row['cpu_seconds']:.1f} s "
        f"CPU in the process{server} ({row['queries']} queries; "
        f"target ≤ {TARGET_SECONDS:.0f} s: {verdict}); peak RSS {row['peak_rss_mb']:.0f} MB "
        f"(baseline {row['baseline_rss_mb']:.0f} MB); the frame holds {row['frame_mb']:.0f} MB"
    )
    if "traced_peak_mb" in row:
        print(
            f"[{kind}] tracemalloc: peak {row['traced_peak_mb']:.0f} MB of Python allocations "
            f"(that run took {row['traced_seconds']:.1f} s under tracing)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="postgres")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events-per-customer", type=int, default=50)
    parser.add_argument("--dates", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the data set for a next run")
    parser.add_argument("--rebuild", action="store_true", help="never reuse a kept data set")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the traced run")
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "bench"))
    args = parser.parse_args()
    kinds = ["postgres", "sqlite"] if args.db == "both" else [args.db]
    load = os.getloadavg()
    print(
        f"# churn training-set benchmark, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    for kind in kinds:
        load = os.getloadavg()
        print(f"[{kind}] load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        data_dir = saas_data_dir(args, kind, "churn")
        env = database_env(kind, data_dir, PG_DB)
        try:
            end = saas_data_set(kind, env, args, PG_DB)
            report(kind, measure(env, end, args))
        finally:
            if not args.keep:
                forget_data_set(kind, data_dir, PG_DB)


if __name__ == "__main__":
    main()
