"""Benchmark: fitting probabilistic CLV in the app on 100,000 customers' shop-like orders.

For each database (SQLite file, then PostgreSQL), this script
1. builds 100,000 customers and their paid orders over two years (each buys at a
   gamma-distributed weekly rate until a beta-distributed dropout, the BG/NBD story; a few
   orders refunded or pending), with bulk inserts,
2. times ``clv_fit_run`` (orders → purchase summaries → BG/NBD and Gamma-Gamma → holdout
   check → 100,000 CustomerClv rows) and its parts, counts its SQL queries (none per
   customer), and measures memory: the peak of Python allocations (tracemalloc, numpy
   included) and the process's peak resident size,
and prints one line per database.

Usage: python bench/clv_app.py [--db sqlite|postgres|both] [--customers 100000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from common import drop_database, fresh_database, run

PG_DB = "tend_bench_clv_app"

SCRIPT = """
import json, time
from datetime import timedelta
import numpy as np
from django.db import connection
from django.utils import timezone
from tend.billing.models import Order
from tend.customers.models import Customer
from tend.lib.db import db_datetime, insert_rows

N = {customers}
WEEKS = 104
rng = np.random.default_rng(7)
now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
t = time.perf_counter()
for lo in range(0, N, 5000):
    Customer.objects.bulk_create(
        [Customer(name=f"Shopper {{i}}", external_id=f"shop-{{i}}")
         for i in range(lo, min(N, lo + 5000))]
    )
ids = np.array(sorted(Customer.objects.values_list("pk", flat=True)))
first = rng.uniform(0, WEEKS, N)
rate = rng.gamma(0.8, 1 / 3.0, N)  # purchases a week
drop = rng.beta(1.2, 3.5, N)  # chance of leaving after each repeat purchase
repeats = np.minimum(rng.geometric(drop) - 1, rng.poisson(rate * (WEEKS - first)))
spend = rng.gamma(6.0, 9.0, N)
counts = repeats + 1
cust = np.repeat(np.arange(N), counts)
offsets = np.concatenate([[0], rng.uniform(0, 1, counts.sum() - N)])
# the first order at ``first``; repeats spread over the time until dropout or the end
is_first = np.zeros(len(cust), dtype=bool); is_first[np.cumsum(counts) - counts] = True
span = np.minimum(WEEKS - first, repeats / np.maximum(rate, 1e-3))[cust]
week = first[cust] + np.where(is_first, 0.0, rng.uniform(0, 1, len(cust)) * span)
amount = np.maximum(3.0, rng.normal(spend[cust], spend[cust] / 4))
status = np.where(rng.random(len(cust)) < 0.02, "refunded",
                  np.where(rng.random(len(cust)) < 0.01, "pending", "paid"))
start = now - timedelta(weeks=WEEKS)
rows = (
    (int(ids[c]), db_datetime(start + timedelta(weeks=float(w))), f"{{a:.2f}}", "USD", s, "",
     "0", "[]")
    for c, w, a, s in zip(cust, week, amount, status)
)
orders = insert_rows(Order, ["customer_id", "ordered_at", "amount", "currency", "status",
                             "description", "refunded_amount", "items"], rows)
built = time.perf_counter() - t
print("RESULT " + json.dumps({{"built_s": built, "orders": orders}}))
"""

FIT = """
import json, resource, time, tracemalloc
from django.db import connection
from tend.predict import clv_fit
from tend.predict.clv_actions import clv_fit_run
from tend.predict.models import ClvFit

queries = []
def count(execute, sql, params, many, context):
    queries.append(sql[:60])
    return execute(sql, params, many, context)

timings = {{}}
for name in ("purchase_days", "summarise", "fit_purchases", "fit_spend", "holdout_check",
             "discounted_clv"):
    original = getattr(clv_fit, name)
    def timed(*a, _f=original, _n=name, **k):
        t0 = time.perf_counter(); out = _f(*a, **k)
        timings[_n] = timings.get(_n, 0) + time.perf_counter() - t0
        return out
    setattr(clv_fit, name, timed)

ClvFit.objects.exists()  # connect
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
with connection.execute_wrapper(count):
    fit = clv_fit_run(by=None, label="bench")
total = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
first = dict(timings)  # the first run's parts
# Again under tracemalloc (slower; only its peak is kept): Python and numpy allocations.
tracemalloc.start()
clv_fit_run(by=None, label="bench")
_current, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print("RESULT " + json.dumps({{
    "total_s": total, "status": fit.status,
    "message": fit.message, "customers": fit.customers, "repeaters": fit.repeaters,
    "timings": first, "queries": len(queries),
    "peak_mb": peak / 2**20, "rss_mb": rss / 1024, "rss_before_mb": rss_before / 1024,
    "ll": fit.log_likelihood, "params": fit.params,
    "holdout": {{k: fit.diagnostics.get("holdout", {{}}).get(k)
                for k in ("expected", "actual", "error", "periods")}},
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
            out = run(env, "shell", "-c", FIT.format())
            r.update(json.loads(out.split("RESULT ", 1)[1].splitlines()[0]))
            parts = ", ".join(f"{k} {v:.2f} s" for k, v in r["timings"].items())
            print(
                f"[{kind}] {args.customers:,} customers, {r['orders']:,} orders (built in "
                f"{r['built_s']:.0f} s): clv_fit_run {r['total_s']:.1f} s ({parts}; the rest "
                f"is storing {r['customers']:,} rows), {r['queries']} queries, "
                f"{r['repeaters']:,} repeat buyers, status {r['status']}; peak Python memory "
                f"{r['peak_mb']:.0f} MB (tracemalloc), peak RSS {r['rss_mb']:.0f} MB "
                f"(the process before the fit {r['rss_before_mb']:.0f} MB); holdout {r['holdout']}"
            )
            drop_database(kind, PG_DB)


if __name__ == "__main__":
    main()
