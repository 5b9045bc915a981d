"""Benchmark: `tend import subscriptions` of a realistic subscriptions CSV (50,000 rows by default).

For each database (a new SQLite file; a scratch PostgreSQL database `tend_bench_subimp`, created
and dropped here) it runs, as separate processes exactly as a user would:

1. untimed set-up: `tend migrate`, exchange rates for EUR and GBP (`tend rates set`, two rates
   each over the two years) and `tend import customers` of the customers the file refers to;
2. timed: `tend import subscriptions FILE --create-missing-plans` into that database (every
   customer is new to the ledger, so each one's MRR history is replayed from its
   subscriptions' start and cancel dates);
3. timed: the same file again (every row unchanged: the re-import a user does "to be sure");
4. timed: the file of a month later (the update path): the same subscriptions, ~11 % of them
   changed — cancellations, seat changes, trials converted, plan changes — plus new ones.

The file is what a billing system's export looks like: one customer in four has two or three
subscriptions (an upgrade leaves a canceled one behind, add-ons); plans Starter / Growth / Pro /
Enterprise with per-seat prices, monthly, quarterly, yearly and a few weekly intervals;
USD, EUR and GBP; statuses active, past due, trialing, canceled, unpaid and paused; start dates
spread over the last two years, rows ordered by start date as exports are. The files depend only
on ``--rows``, ``--seed`` and the day the script runs.

Reports each timed import's wall time (whole process: start-up, the import, its timeline
entries and summary), rows/s, peak RSS of the import process and the machine's 1-minute load
average before and after it, and a fingerprint of the resulting MRR ledger (every customer's
MRR, first-paid date and plan; every movement older than the import) so two versions of the
code can be compared for identical results. Drops the PostgreSQL database and the temporary
folder (SQLite file and CSVs) it created.

Usage: python bench/subscription_import.py [--db sqlite|postgres|both] [--rows 50000]
       [--seed 7] [--data-dir var] [--profile DIR] [--no-write]

``--profile DIR`` runs the first (timed) import under cProfile and writes DIR/<db>-import.prof,
and counts and times every SQL statement it sends (by shape: the statement's first words with
its lists of parameters folded), written to DIR/<db>-sql.txt; the timings then include the
profiler's overhead, so the results are not written to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from common import ROOT, drop_database, fresh_database, machine, run

DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Subscription imports"
PG_DB = "tend_bench_subimp"
TEND = str(Path(sys.executable).with_name("tend"))

# Plan name → monthly list price per seat in USD; EUR and GBP prices are set per currency.
PLANS = {"Starter": 29, "Growth": 79, "Pro": 199, "Enterprise": 899}
PLAN_WEIGHTS = [45, 30, 18, 7]
PRICES = {
    "USD": {"Starter": "29", "Growth": "79", "Pro": "199", "Enterprise": "899"},
    "EUR": {"Starter": "27", "Growth": "74", "Pro": "185", "Enterprise": "829"},
    "GBP": {"Starter": "23", "Growth": "63", "Pro": "159", "Enterprise": "719"},
}
CURRENCIES, CURRENCY_WEIGHTS = ["USD", "EUR", "GBP"], [78, 14, 8]
# interval → (months per period, price factor against monthly, weight)
INTERVALS = {
    "month": (1, 1, 74),
    "year": (12, 10, 20),
    "quarter": (3, 2.85, 5),
    "week": (0, 0.25, 1),
}
STATUSES = ["active", "past_due", "unpaid", "paused"]
STATUS_WEIGHTS = [93, 4, 1.5, 1.5]
RATES = {"EUR": ("1.07", "1.11"), "GBP": ("1.25", "1.29")}  # in USD: two years ago, a year ago
HEADER = ["Subscription ID", "Customer ID", "Plan", "Status", "Quantity", "Price", "Interval",
          "Currency", "Start date", "Current period end", "Canceled at"]  # fmt: skip


@dataclass
class Sub:
    ext: str
    customer: str
    plan: str
    status: str
    quantity: int
    interval: str
    currency: str
    started: datetime
    renews: datetime | None
    canceled: datetime | None

    def row(self) -> list[str]:
        _months, factor, _w = INTERVALS[self.interval]
        price = Decimal(PRICES[self.currency][self.plan]) * Decimal(str(factor))
        fmt = "%Y-%m-%d %H:%M:%S"
        return [
            self.ext, self.customer, self.plan, self.status, str(self.quantity),
            f"{price.quantize(Decimal('0.01'))}", self.interval, self.currency,
            self.started.strftime(fmt), self.renews.strftime(fmt) if self.renews else "",
            self.canceled.strftime(fmt) if self.canceled else "",
        ]  # fmt: skip


def _renews(started: datetime, interval: str, now: datetime) -> datetime:
    months, _f, _w = INTERVALS[interval]
    step = timedelta(days=7) if months == 0 else timedelta(days=round(30.44 * months))
    periods = max(1, -(-(now - started) // step))
    return started + step * periods


def subscriptions(rows: int, seed: int, now: datetime) -> tuple[list[str], list[Sub]]:
    """(customer ids, subscriptions) of the export taken on ``now``: ``rows`` subscriptions."""
    rng = random.Random(seed)
    span = 730 * 86400
    customers: list[str] = []
    subs: list[Sub] = []
    while len(subs) < rows:
        cust = f"cus_{len(customers):06d}"
        customers.append(cust)
        started = now - timedelta(seconds=rng.randrange(span))
        plan = rng.choices(list(PLANS), PLAN_WEIGHTS)[0]
        interval = rng.choices(list(INTERVALS), [w for *_x, w in INTERVALS.values()])[0]
        currency = rng.choices(CURRENCIES, CURRENCY_WEIGHTS)[0]
        seats = 1 if plan == "Starter" else rng.choice([1, 2, 3, 5, 8, 12, 20])
        ext = f"sub_{len(subs):07d}"
        if (now - started).days < 14 and rng.random() < 0.6:
            subs.append(
                Sub(ext, cust, plan, "trialing", seats, interval, currency, started,
                    started + timedelta(days=14), None)
            )  # fmt: skip
            continue
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        main = Sub(ext, cust, plan, status, seats, interval, currency, started,
                   _renews(started, interval, now), None)  # fmt: skip
        mine = [main]
        for kind in rng.sample(
            ["upgrade", "addon", "addon"], rng.choices([0, 1, 2], [75, 20, 5])[0]
        ):
            ext = f"sub_{len(subs) + len(mine):07d}"
            if kind == "upgrade" and main.status == "active":
                # The smaller plan is canceled the moment the bigger one starts.
                moved = main.started + (now - main.started) * rng.uniform(0.2, 0.8)
                main.status, main.canceled, main.renews = "canceled", moved, None
                bigger = list(PLANS)[min(3, list(PLANS).index(main.plan) + 1)]
                mine.append(
                    Sub(ext, cust, bigger, "active", main.quantity, main.interval, currency,
                        moved, _renews(moved, main.interval, now), None)
                )  # fmt: skip
            else:
                begun = started + (now - started) * rng.uniform(0.1, 0.9)
                mine.append(
                    Sub(ext, cust, "Starter", "active", rng.randint(1, 10), "month", currency,
                        begun, _renews(begun, "month", now), None)
                )  # fmt: skip
        # One customer in five has left: every live subscription canceled on one day.
        if rng.random() < 0.2:
            gone = started + (now - started) * rng.uniform(0.3, 0.98)
            for s in mine:
                if s.canceled is None and s.started < gone:
                    s.status, s.canceled, s.renews = "canceled", gone, None
        subs.extend(mine[: rows - len(subs)])
    subs.sort(key=lambda s: (s.started, s.ext))
    return customers, subs


def month_later(subs: list[Sub], seed: int, then: datetime, now: datetime) -> list[Sub]:
    """The export of ``now``, a month after ``then``'s: ~11 % of the subscriptions changed
    (trials ended, cancellations, seats, plans, failed payments), 3 % new ones."""
    rng = random.Random(seed + 1)
    month = int((now - then).total_seconds())
    later: list[Sub] = []
    for s in subs:
        s = Sub(**vars(s))
        if s.status == "trialing":
            s.status = "active" if rng.random() < 0.55 else "canceled"
            if s.status == "canceled":
                s.canceled, s.renews = s.renews, None
        elif s.status in ("active", "past_due") and rng.random() < 0.15:
            change = rng.choice(["cancel", "seats", "seats", "plan", "past_due"])
            if change == "cancel":
                s.status, s.renews = "canceled", None
                s.canceled = then + timedelta(seconds=rng.randrange(month))
            elif change == "seats":
                s.quantity = max(1, s.quantity + rng.choice([-2, -1, 1, 2, 3]))
            elif change == "plan":
                s.plan = list(PLANS)[min(3, list(PLANS).index(s.plan) + 1)]
            else:
                s.status = "past_due"
        later.append(s)
    customers = sorted({s.customer for s in subs})
    for i in range(len(subs) * 3 // 100):
        started = then + timedelta(seconds=rng.randrange(month))
        plan = rng.choices(list(PLANS), PLAN_WEIGHTS)[0]
        later.append(
            Sub(f"sub_n{i:06d}", rng.choice(customers), plan, "active", 1, "month", "USD",
                started, started + timedelta(days=30), None)
        )  # fmt: skip
    return later


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MB, load average before) of one process.

    CPU is the import process's own (user + system), not the database server's: on a
    loaded machine it moves far less than the wall time does."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 3):  # 3: some rows were refused (checked below)
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {code}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, load


# Runs ``tend ARGS`` with every SQL statement of the main thread counted and timed by shape.
SQL_COUNTER = """
import atexit, collections, os, re, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
django.setup()
from django.db import connection
stats = collections.defaultdict(lambda: [0, 0.0])
def counted(execute, sql, params, many, context):
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        shape = re.sub(r"(%s|\\?)(, (%s|\\?))+", "…", re.sub(r"\\s+", " ", sql))
        shape = re.sub(r"(\\(…\\))(, \\(…\\))+", r"\\1…", shape)
        shape = re.sub(r"(WHEN .{0,60}? THEN .{0,40}? )+", "WHEN … ", shape)
        stat = stats[shape[:160]]
        stat[0] += 1
        stat[1] += time.perf_counter() - started
def dump():
    total = sum(t for _n, t in stats.values())
    with open(os.environ["TEND_BENCH_SQL_OUT"], "w") as out:
        out.write(f"{sum(n for n, _t in stats.values())} statements, {total:.1f} s\\n")
        for shape, (n, t) in sorted(stats.items(), key=lambda kv: -kv[1][1])[:40]:
            out.write(f"{t:8.2f} s {n:7d}  {shape}\\n")
atexit.register(dump)
connection.execute_wrappers.append(counted)
from tend.cli import main
main(["tend", *sys.argv[1:]])
"""

FINGERPRINT = """
import hashlib
from tend.billing.models import MrrMovement, Subscription
from tend.customers.models import Customer
from tend.ingest.imports.models import Import
last = Import.objects.order_by('-pk').first()
# Movements dated by an import's clock ("now") differ from run to run: hashed without it.
cut = Import.objects.filter(kind='subscriptions').order_by('pk').first().started_at
h = hashlib.sha256()
for row in Customer.objects.order_by('external_id').values_list(
        'external_id', 'mrr', 'first_paid_at', 'plan__code', 'stage'):
    h.update(repr(row).encode())
moves = MrrMovement.objects.order_by('customer__external_id', 'at', 'pk')
for row in moves.filter(at__lt=cut).values_list(
        'customer__external_id', 'subscription__external_id', 'at', 'kind', 'amount',
        'mrr_before', 'mrr_after', 'currency'):
    h.update(repr(row).encode())
recent = sorted(moves.filter(at__gte=cut).values_list(
    'customer__external_id', 'kind', 'amount', 'mrr_before', 'mrr_after'))
h.update(repr(recent).encode())
total = sum(Customer.objects.values_list('mrr', flat=True))
print('FP', Subscription.objects.count(), MrrMovement.objects.count(), total,
      last.created, last.updated, last.unchanged, last.rejected, h.hexdigest()[:16],
      last.reasons)
"""


@dataclass
class Outcome:
    subscriptions: int
    movements: int
    total_mrr: str
    created: int
    updated: int
    unchanged: int
    refused: int
    digest: str
    reasons: str


def fingerprint(env: dict[str, str]) -> Outcome:
    """The ledger after an import, and what the import said it did."""
    out = run(env, "shell", "-c", FINGERPRINT).split("FP", 1)[1].split(maxsplit=8)
    return Outcome(*map(int, out[:2]), out[2], *map(int, out[3:7]), out[7], out[8].strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="both", choices=["sqlite", "postgres", "both"])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", default=str(ROOT / "var"))
    parser.add_argument("--profile", default="", metavar="DIR")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    then = now - timedelta(days=30)
    customers, subs = subscriptions(args.rows, args.seed, then)
    later = month_later(subs, args.seed, then, now)
    results: list[tuple[str, str, int, float, float, float, float, float, Outcome]] = []
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tend-bench-subimp-", dir=args.data_dir) as tmp:
        work = Path(tmp)
        cust_csv, first_csv, later_csv = (
            work / "customers.csv",
            work / "subscriptions.csv",
            work / "subscriptions-later.csv",
        )
        signup = {s.customer: s.started for s in reversed(subs)}
        write_csv(
            cust_csv,
            ["External ID", "Name", "Email", "Signup date"],
            [
                [c, f"Customer {c[4:]}", f"billing@{c}.example.com", signup[c].date().isoformat()]
                for c in customers
            ],
        )
        write_csv(first_csv, HEADER, [s.row() for s in subs])
        write_csv(later_csv, HEADER, [s.row() for s in later])
        print(
            f"{len(subs):,} subscriptions of {len(customers):,} customers; the later file has "
            f"{len(later):,} rows",
            flush=True,
        )
        try:
            for db in dbs:
                env = fresh_database(db, work, PG_DB)
                start = (then - timedelta(days=740)).date()
                for cur, (old, new) in RATES.items():
                    run(env, "rates", "set", cur, old, "--from", start.isoformat())
                    run(env, "rates", "set", cur, new, "--from", (start.replace(
                        year=start.year + 1)).isoformat())  # fmt: skip
                run(env, "import", "customers", str(cust_csv), "-v", "0")
                steps = [
                    ("first import", first_csv, len(subs)),
                    ("same file again", first_csv, len(subs)),
                    ("a month later", later_csv, len(later)),
                ]
                for i, (label, path, n) in enumerate(steps):
                    cmd = [TEND, "import", "subscriptions", str(path), "-v", "0"]
                    cmd.append("--create-missing-plans")
                    if i == 0 and args.profile:
                        Path(args.profile).mkdir(parents=True, exist_ok=True)
                        out = Path(args.profile) / f"{db}-import.prof"
                        counter = work / "sql_counter.py"
                        counter.write_text(SQL_COUNTER)
                        cmd = [sys.executable, "-m", "cProfile", "-o", str(out), str(counter),
                               *cmd[1:]]  # fmt: skip
                        env = {**env, "TEND_BENCH_SQL_OUT": str(out.with_suffix(".sql.txt"))}
                    secs, cpu, rss, load_before = timed(cmd, env)
                    load_after = os.getloadavg()[0]
                    fp = fingerprint(env)
                    results.append((db, label, n, secs, cpu, rss, load_before, load_after, fp))
                    print(results[-1], flush=True)
        finally:
            if "postgres" in dbs:
                drop_database("postgres", PG_DB)
    lines = [
        "| Database | Import | Rows | Wall time | Rows/s | CPU | Peak RSS | Load before → after "
        "| Created / updated / unchanged / refused | Ledger: subscriptions, movements, "
        "total MRR, hash |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for db, label, n, secs, cpu, rss, before, after, fp in results:
        name = "SQLite" if db == "sqlite" else "PostgreSQL"
        lines.append(
            f"| {name} | {label} | {n:,} | {secs:.1f} s | {n / secs:,.0f} | {cpu:.1f} s "
            f"| {rss:.0f} MB "
            f"| {before:.1f} → {after:.1f} | {fp.created:,} / {fp.updated:,} / "
            f"{fp.unchanged:,} / {fp.refused:,} | {fp.subscriptions:,}, {fp.movements:,}, "
            f"{fp.total_mrr}, `{fp.digest}` |"
        )
    table = "\n".join(lines)
    print(table)
    if args.no_write or args.profile:
        return
    command = "python bench/subscription_import.py " + " ".join(sys.argv[1:])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"\n{HEADING}\n\n`{command.strip()}`: {len(subs):,} subscriptions of "
        f"{len(customers):,} customers (imported first, untimed) through "
        "`tend import subscriptions --create-missing-plans`, into a fresh database; then the "
        "same file again, then the export of a month later (~11 % of the rows changed, 3 % "
        "new). Wall time is the whole process; CPU is the import process's user + system time "
        "(the database server's not included); Load is the machine's 1-minute load average "
        "before and after the import; the hash fingerprints the MRR ledger for comparing two "
        f"versions of the code.\n\nMeasured {stamp}, {machine()}.\n\n{table}\n"
    )
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if re.search(rf"^{re.escape(HEADING)}$", text, flags=re.M) is None:
        DOC.write_text(text.rstrip("\n") + "\n" + section)
    else:
        DOC.write_text(text.rstrip("\n") + "\n" + section.replace(HEADING, HEADING + " (rerun)"))


if __name__ == "__main__":
    main()
