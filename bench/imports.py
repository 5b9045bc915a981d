"""Benchmark: `tend import` of a large events CSV (and a customers CSV) into fresh databases.

Generates the files in a temporary folder, then for each database (a new SQLite file; a scratch
PostgreSQL database `tend_bench_imp`, created and dropped here) runs `tend migrate`,
`tend import customers` and `tend import events` as separate processes, exactly as a user
would. Reports rows/s (whole process wall time, start-up included), each import's peak RSS (the
larger of the import process and the process it forks to parse a large events file) and the
machine's 1-minute load average when it ended, since a shared machine slows the run down; a
second, larger events file shows whether memory stays flat as files grow.

On PostgreSQL each events import is measured against the hardware's limit in the same run: the
rows it stored are read back with ``COPY … TO`` into a file, the events table is emptied
(``TRUNCATE``, which frees the message ids too; partitions and indexes stay), and the same rows
are loaded again with one bare ``COPY … FROM STDIN`` through psycopg, as a user of PostgreSQL
would: same table, same partitions, same indexes and triggers, nothing else. "Ratio" is the
import's rows/s (whole process) over that COPY's (connect to commit).

Usage: python bench/imports.py [--db sqlite|postgres|both] [--events 1000000]
       [--large-events 3000000] [--customers 10000] [--no-write]
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, drop_database, fresh_database, machine, pg_name

DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## File imports"
PG_DB = "tend_bench_imp"
COPY_COLUMNS = (
    "customer_id, user_id, anonymous_id, name, timestamp, properties, message_id, received_at, "
    "source"
)
TEND = str(Path(sys.executable).with_name("tend"))
EVENTS = ["report.viewed", "dashboard.opened", "export.csv", "user.invited", "login",
          "invoice.sent", "search", "settings.changed"]  # fmt: skip


def write_customers(path: Path, n: int) -> None:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["External ID", "Name", "Email", "Signup date"])
        for i in range(n):
            out.writerow([f"c{i}", f"Customer {i}", f"c{i}@example.com", "2025-01-15"])


def write_events(path: Path, n: int, customers: int) -> None:
    """Usage comes in sessions: runs of events from one customer on one day, a few names each."""
    rng = random.Random(42)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["Customer ID", "Event", "Timestamp", "Properties", "Message ID"])
        i = 0
        while i < n:
            customer = f"c{rng.randrange(customers)}"
            ts = start + timedelta(seconds=rng.randrange(180 * 86400))
            for _ in range(min(rng.randint(5, 45), n - i)):
                ts += timedelta(seconds=rng.randint(1, 90))
                props = f'{{"n": {i % 7}}}' if i % 3 == 0 else ""
                out.writerow(
                    [customer, EVENTS[rng.randrange(8)], ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     props, f"m{i}"]
                )  # fmt: skip
                i += 1


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed")
    return elapsed, usage.ru_maxrss / 1024


def bare_copy(pg_db: str, work: Path) -> tuple[int, float, float]:
    """(rows, seconds, load) of one bare ``COPY FROM STDIN`` of the rows the import stored."""
    import psycopg

    url = f"postgres://postgres@127.0.0.1:5432/{pg_name(pg_db)}"
    dump = work / "events-copy.txt"
    with psycopg.connect(url, autocommit=True) as conn, dump.open("wb") as fh:
        with conn.cursor().copy(
            f"COPY (SELECT {COPY_COLUMNS} FROM activity_event ORDER BY id) TO STDOUT"
        ) as copy:
            for chunk in copy:
                fh.write(chunk)
        conn.execute("TRUNCATE activity_event")
        conn.execute("CHECKPOINT")  # the import, too, started without dirty pages to write
    started = time.perf_counter()
    with psycopg.connect(url) as conn, dump.open("rb") as fh:
        cur = conn.cursor()
        with cur.copy(f"COPY activity_event ({COPY_COLUMNS}) FROM STDIN") as copy:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        rows = cur.rowcount
        conn.commit()
    elapsed = time.perf_counter() - started
    dump.unlink()
    return rows, elapsed, os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="both", choices=["sqlite", "postgres", "both"])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--large-events", type=int, default=3_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results: list[tuple[str, str, int, float, float, float]] = []
    copies: list[tuple[int, float, float, float, float]] = []  # rows, import s, COPY s, loads
    with tempfile.TemporaryDirectory(prefix="tend-bench-imp-") as tmp:
        work = Path(tmp)
        customers = work / "customers.csv"
        write_customers(customers, args.customers)
        files = [(args.events, work / "events.csv")]
        if args.large_events:
            files.append((args.large_events, work / "events-large.csv"))
        for n, path in files:
            write_events(path, n, args.customers)
        for db in dbs:
            for n, path in files:
                env = fresh_database(db, work, PG_DB)
                secs, rss = timed([TEND, "import", "customers", str(customers), "-v", "0"], env)
                results.append((db, "customers", args.customers, secs, rss, os.getloadavg()[0]))
                secs, rss = timed([TEND, "import", "events", str(path), "-v", "0"], env)
                results.append((db, "events", n, secs, rss, os.getloadavg()[0]))
                print(results[-2], results[-1], flush=True)
                if db == "postgres":
                    stored, copy_secs, copy_load = bare_copy(PG_DB, work)
                    copies.append((stored, secs, copy_secs, results[-1][5], copy_load))
                    print(
                        f"bare COPY of the {stored:,} rows stored: {copy_secs:.1f} s, "
                        f"{stored / copy_secs:,.0f} rows/s; import {n / secs:,.0f} rows/s; "
                        f"ratio {copy_secs / secs:.2f}",
                        flush=True,
                    )
        if "postgres" in dbs:
            drop_database("postgres", PG_DB)
    lines = [
        "| Database | File | Rows | Wall time | Rows/s | Peak RSS | Load |",
        "|---|---|---|---|---|---|---|",
    ]
    for db, kind, n, secs, rss, load in results:
        name = "SQLite" if db == "sqlite" else "PostgreSQL"
        lines.append(
            f"| {name} | {kind} | {n:,} | {secs:.1f} s | {n / secs:,.0f} | {rss:.0f} MB "
            f"| {load:.1f} |"
        )
    if copies:
        lines += [
            "",
            "| Events file (PostgreSQL) | Import (whole process) | Bare COPY of the rows stored "
            "| Ratio | Load (import / COPY) |",
            "|---|---|---|---|---|",
        ]
        for stored, secs, copy_secs, load, copy_load in copies:
            lines.append(
                f"| {stored:,} rows | {secs:.1f} s, {stored / secs:,.0f} rows/s "
                f"| {copy_secs:.1f} s, {stored / copy_secs:,.0f} rows/s "
                f"| {copy_secs / secs:.2f} | {load:.1f} / {copy_load:.1f} |"
            )
    table = "\n".join(lines)
    print(table)
    if args.no_write:
        return
    command = "python bench/imports.py " + " ".join(sys.argv[1:])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"\n{HEADING}\n\n`{command.strip()}`: {args.customers:,} customers, then an events CSV "
        "(customer external id, event, ISO timestamp, JSON properties on a third of the rows, "
        "message id; events in sessions of 5–45 from one customer) through `tend import`, "
        "each into a fresh database. Rows/s is the whole "
        "process's wall time, start-up, daily rollups and ANALYZE included; Load is the "
        "machine's 1-minute load average as the import ended.\n\n"
        f"Measured {stamp}, {machine()}.\n\n{table}\n"
    )
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if re.search(rf"^{re.escape(HEADING)}$", text, flags=re.M) is None:
        DOC.write_text(text.rstrip("\n") + "\n" + section)
    else:
        DOC.write_text(text.rstrip("\n") + "\n" + section.replace(HEADING, HEADING + " (rerun)"))


if __name__ == "__main__":
    main()
