"""How long the customer-lifetime fit takes at scale: sBG for all customers and each monthly
cohort, and Cox, over N planted subscription customers (docs/benchmarks.md).

    python bench/lifetime_fit.py --db sqlite --customers 100000
    python bench/lifetime_fit.py --db postgres --customers 100000

Customers and their lives are planted directly (tend/predict/tests/lifetime_data.py: sBG
lifetimes, the Annual plan at half the churn), 36 monthly cohorts; then ``lifetime_fit`` runs
``--rounds`` times and the best and worst are printed with the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, database_env, drop_database, recreate_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="tend-bench-lifetime-"))
    try:
        measure(args, data_dir)
    finally:  # drop what the run created: the scratch database and the SQLite folder
        from django.db import connections

        connections.close_all()
        drop_database(args.db, "tend_bench_lifetime")
        shutil.rmtree(data_dir, ignore_errors=True)


def measure(args: argparse.Namespace, data_dir: Path) -> None:
    recreate_database(args.db, data_dir, "tend_bench_lifetime")
    os.environ.update(database_env(args.db, data_dir, "tend_bench_lifetime"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tend.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from tend.predict.retention import lifetime_fit
    from tend.predict.tests.lifetime_data import plant_lives

    call_command("migrate", verbosity=0)
    now = timezone.now()
    clock = time.perf_counter()
    plant_lives(args.customers, now=now, months=args.months)
    print(f"planted {args.customers:,} customers in {time.perf_counter() - clock:.1f} s")
    runs = []
    for _ in range(args.rounds):
        clock = time.perf_counter()
        summary = lifetime_fit(label="bench", now=now)
        total = time.perf_counter() - clock
        runs.append((total, summary))
        print(
            f"fit {total:.2f} s: load {summary['seconds']['load']:.2f} s, "
            f"sBG {summary['seconds']['sbg']:.2f} s ({sum(summary['sbg'].values())} fits), "
            f"Cox {summary['seconds']['cox']:.2f} s ({summary['cox']})"
        )
    best = min(runs, key=lambda r: r[0])
    load = os.getloadavg()
    print(
        f"\n| {args.db} | {args.customers:,} | {best[0]:.2f} s | "
        f"{best[1]['seconds']['load']:.2f} s | {best[1]['seconds']['sbg']:.2f} s | "
        f"{best[1]['seconds']['cox']:.2f} s | {max(r[0] for r in runs):.2f} s | "
        f"{load[0]:.1f} |"
    )


if __name__ == "__main__":
    main()
