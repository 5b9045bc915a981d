"""Benchmark: fitting the churn models at 100,000 customers × 12 observation dates.

The fit stage does not read the database, so the frame is synthetic (say so when quoting):
1.2 million rows × 30 features shaped like the registry's (24 numeric counts/days with some
missing values, 6 categoricals of 3–40 levels), a churn rate near 4 % driven by a few of
them. Each stage runs in its own process and reports wall seconds and the process's peak
RSS above what the frame itself took:

- ``logistic``: one calibrated logistic fit on every row (two fits: the Platt slice, then all),
- ``boosting``: the same for the gradient-boosted trees,
- ``backtest``: ``backtest_time`` — both kinds on 9 dates, tested on 3, permutation
  importance, the chosen kind refitted on all 12 (what ``tend train`` does after reading the
  training set).

tracemalloc (which ``tend train`` uses for ``ChurnModel.peak_memory_mb``) slows the tree
fitting about threefold, so it is off here; RSS is the honest peak.

Usage: python bench/churn_fit.py [--customers 100000] [--dates 12]
                                [--stages logistic,boosting,backtest]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STAGE = r"""
import json, os, resource, sys, time
from datetime import date, timedelta
import numpy as np, pandas as pd
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
django.setup()
from tend.predict import churn

customers, dates, stage = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
n = customers * dates
kinds = {}
cols = {}
for i in range(24):
    values = rng.gamma(1.0 + i % 4, 3.0 + i, n).round()
    values[rng.random(n) < 0.03 * (i % 3)] = np.nan
    cols[f"num_{i}"] = values
    kinds[f"num_{i}"] = "numeric"
for i, levels in enumerate([3, 5, 8, 12, 20, 40]):
    cols[f"cat_{i}"] = rng.choice([f"l{j}" for j in range(levels)], n).astype(object)
    kinds[f"cat_{i}"] = "categorical"
cols["days_since_last_activity"] = cols.pop("num_0")
kinds["days_since_last_activity"] = kinds.pop("num_0")
X = pd.DataFrame(cols)
logit = (
    -4.2
    + 0.04 * np.nan_to_num(X["days_since_last_activity"], nan=30)
    - 0.08 * np.nan_to_num(X["num_1"], nan=5)
    + 0.5 * (X["cat_0"] == "l0")
    + 0.3 * np.sin(np.nan_to_num(X["num_2"]) / 4)
)
y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
start = date(2025, 1, 1)
stamps = np.array([start + timedelta(days=31 * k) for k in range(dates)], dtype="datetime64[D]")
day = np.repeat(stamps, customers)
ids = np.tile(np.arange(customers), dates)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
out = {"stage": stage, "rows": n, "features": X.shape[1], "positives": int(y.sum())}
if stage in ("logistic", "boosting"):
    churn.fit_calibrated(stage, X, y, kinds, day)
else:
    result = churn.backtest_time(X, y, day, kinds, customer_id=ids, measure_memory=False)
    aucs = {k: result.metrics[k]["auc"] for k in ("logistic", "boosting", "baseline")}
    out.update(chosen=result.chosen, auc=aucs)
out["seconds"] = round(time.perf_counter() - t, 1)
out["frame_rss_mb"] = round(base)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["peak_rss_above_frame_mb"] = round(peak - base)
print("RESULT " + json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--dates", type=int, default=12)
    parser.add_argument("--stages", default="logistic,boosting,backtest")
    args = parser.parse_args()
    env = dict(os.environ, TEND_DATA_DIR=os.environ.get("TEND_DATA_DIR", "/tmp/tend-bench-churn"))
    results = []
    for stage in args.stages.split(","):
        proc = subprocess.run(
            [sys.executable, "-c", STAGE, str(args.customers), str(args.dates), stage],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            sys.stderr.write(proc.stderr[-3000:])
            raise SystemExit(f"stage {stage} failed")
        results.append(json.loads(line.removeprefix("RESULT ")))
        print(json.dumps(results[-1]), flush=True)
    print(
        json.dumps(
            {
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
                f"Python {platform.python_version()}",
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "command": " ".join(["python bench/churn_fit.py", *sys.argv[1:]]),
            }
        )
    )


if __name__ == "__main__":
    main()
