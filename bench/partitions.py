"""Benchmark: the events table partitioned by month (PostgreSQL) against the plain table it
replaced, measured in the same run.

"before" is the code and schema of ``--before-rev`` (default: the commit before migration
0006 was added), extracted with ``git archive`` to a temporary folder and run from there with
this virtualenv; "after" is this checkout. Each gets a scratch PostgreSQL database
(``tend_bench_part_before`` / ``_after``, dropped at the end) and its own ``tend serve
--workers 2``. Then, alternating before/after (order swapped every round) so a change in the
machine's load hits both alike:

1. tracking API: ``--clients`` processes send batches of ``--batch`` track events (the
   ``bench/tracking.py`` client: sequential message ids, ~150-byte messages) for
   ``--seconds``; events/s and latency per batch;
2. events import: ``tend import events`` of a ``--events``-row CSV over six past months (the
   ``bench/imports.py`` generator; a new file per round so no row is a duplicate); rows/s of
   the whole process;
3. retention: ``--retention-rows`` events written into one month (2026-04) with SQL, then
   ``events_purge_before(2026-05-01)``: a batched DELETE before, DETACH + DROP of the month's
   partition after (plus freeing its message ids).

Every number comes with the 1-minute load average when it was taken (the machine is shared).
``--seconds 0`` skips the tracking part, ``--events 0`` the import, ``--retention-rows 0`` the
retention.
Usage: python bench/partitions.py [--rounds 2] [--seconds 15] [--clients 4] [--batch 100]
       [--customers 500] [--events 200000] [--retention-rows 1000000] [--before-rev REV]
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from common import ROOT, database_env, drop_database, recreate_database, wait_ready
from imports import write_customers, write_events
from tracking import MAKE_KEY, client, setup_customers

VARIANTS = ("before", "after")
PORTS = {"before": 18740, "after": 18741}


def before_tree(rev: str | None, into: Path) -> tuple[Path, str]:
    """The source of ``rev`` (default: the parent of the commit adding migration 0006)."""
    if rev is None:
        added = subprocess.run(
            ["git", "log", "--diff-filter=A", "--format=%H", "--",
             "tend/activity/migrations/0006_event_partitioned_by_month.py"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        rev = f"{added[-1]}^"
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = into / "before.tar"
    subprocess.run(["git", "archive", "-o", str(archive), sha], cwd=ROOT, check=True)
    tree = into / "before"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree, sha


def tend(root: Path, env: dict[str, str], *args: str) -> str:
    """``tend ARGS`` run from ``root`` (whose ``tend`` package comes first on the path)."""
    out = subprocess.run(
        [sys.executable, "-m", "tend.cli", *args], env=env, capture_output=True, text=True,
        cwd=root,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"`tend {' '.join(args)}` in {root} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def shell(root: Path, env: dict[str, str], code: str) -> str:
    return tend(root, env, "shell", "-c", code).strip().splitlines()[-1]


def load() -> float:
    return os.getloadavg()[0]


def track_round(port: int, auth: str, args: argparse.Namespace) -> dict[str, float]:
    deadline = time.time() + args.seconds
    started = time.perf_counter()
    jobs = [
        (port, auth, args.batch, args.customers, deadline, seed) for seed in range(args.clients)
    ]
    with multiprocessing.Pool(args.clients) as pool:
        results = pool.map(client, jobs)
    elapsed = time.perf_counter() - started
    latencies = sorted(x for r in results for x in r[1])
    q = statistics.quantiles(latencies, n=100)
    return {
        "events": sum(r[0] for r in results),
        "errors": sum(r[2] for r in results),
        "rate": sum(r[0] for r in results) / elapsed,
        "p50": q[49] * 1000,
        "p99": q[98] * 1000,
        "load": load(),
    }


PURGE = """
import time
from datetime import UTC, datetime
from tend.activity.retention import events_purge_before
started = time.perf_counter()
n = events_purge_before(datetime(2026, 5, 1, tzinfo=UTC))
print(n, time.perf_counter() - started)
"""

FILL = """
from django.db import connection, transaction
from datetime import date
try:
    from tend.activity.partitions import partitions_cover
except ImportError:
    partitions_cover = None
with transaction.atomic():
    if partitions_cover is not None:
        partitions_cover({{date(2026, 4, 1)}}, ahead=3)
    with connection.cursor() as c:
        c.execute("SELECT min(id), max(id) FROM customers_customer")
        low, high = c.fetchone()
        c.execute(
            "INSERT INTO activity_event (customer_id, user_id, anonymous_id, name, timestamp, "
            "properties, message_id, received_at, source) SELECT %s + g %% (%s - %s + 1), '', '', "
            "'report.viewed', '2026-04-01'::timestamptz + g * interval '2 seconds', '{{}}', "
            "'ret' || g, now(), 'import' FROM generate_series(1, {rows}) g",
            [low, high, low],
        )
        c.execute("ANALYZE activity_event")
print("ok")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--retention-rows", type=int, default=1_000_000)
    parser.add_argument("--before-rev")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tend-bench-part-") as tmp:
        work = Path(tmp)
        old, sha = before_tree(args.before_rev, work)
        roots = {"before": old, "after": ROOT}
        envs, servers, auths = {}, {}, {}
        print(f"before = {sha}, load {load():.1f}", flush=True)
        try:
            for v in VARIANTS:
                db = f"tend_bench_part_{v}"
                (work / f"data-{v}").mkdir()
                recreate_database("postgres", work / f"data-{v}", db)
                envs[v] = database_env("postgres", work / f"data-{v}", db)
                tend(roots[v], envs[v], "migrate", "-v", "0")
                key = shell(roots[v], envs[v], MAKE_KEY)
                auths[v] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
                servers[v] = subprocess.Popen(
                    [sys.executable, "-m", "tend.cli", "serve", "--bind",
                     f"127.0.0.1:{PORTS[v]}", "--workers", "2"],
                    env=envs[v], cwd=roots[v], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True,
                )  # fmt: skip
                wait_ready(PORTS[v], servers[v])
                setup_customers(PORTS[v], auths[v], args.customers)
            partitioned = shell(
                ROOT, envs["after"],
                "from tend.activity.partitions import is_partitioned; print(is_partitioned())",
            )  # fmt: skip
            assert partitioned == "True", partitioned
            plain = shell(
                old, envs["before"],
                "from django.db import connection; c = connection.cursor(); "
                "c.execute('SELECT count(*) FROM pg_partitioned_table'); print(c.fetchone()[0])",
            )  # fmt: skip
            assert plain == "0", plain
            print("\n| Round | Table | Events/s | p50 | p99 | Failed | Load |", flush=True)
            print("|---|---|---|---|---|---|---|")
            for r in range(args.rounds if args.seconds > 0 else 0):
                for v in VARIANTS if r % 2 == 0 else reversed(VARIANTS):
                    t = track_round(PORTS[v], auths[v], args)
                    print(
                        f"| {r + 1} | {v} | {t['rate']:,.0f} | {t['p50']:.1f} ms | "
                        f"{t['p99']:.1f} ms | {t['errors']} | {t['load']:.1f} |",
                        flush=True,
                    )
        finally:
            for server in servers.values():
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)
        customers = work / "customers.csv"
        write_customers(customers, args.customers)
        for v in VARIANTS:
            tend(roots[v], envs[v], "import", "customers", str(customers), "-v", "0")
        print("\n| Round | Table | Rows | Seconds | Rows/s | Load |", flush=True)
        print("|---|---|---|---|---|---|")
        for r in range(args.rounds if args.events > 0 else 0):
            path = work / f"events-{r}.csv"
            write_events(path, args.events, args.customers)
            text = path.read_text().replace(",m", f",r{r}m")  # new message ids every round
            path.write_text(text)
            for v in VARIANTS if r % 2 == 0 else reversed(VARIANTS):
                started = time.perf_counter()
                tend(roots[v], envs[v], "import", "events", str(path), "-v", "0")
                secs = time.perf_counter() - started
                print(
                    f"| {r + 1} | {v} | {args.events:,} | {secs:.1f} | "
                    f"{args.events / secs:,.0f} | {load():.1f} |",
                    flush=True,
                )
        if args.retention_rows:
            print("\n| Table | Events purged | Seconds | Load |", flush=True)
            print("|---|---|---|---|")
            for v in VARIANTS:
                shell(roots[v], envs[v], FILL.format(rows=args.retention_rows))
                n, secs = shell(roots[v], envs[v], PURGE).split()
                print(f"| {v} | {int(n):,} | {float(secs):.2f} | {load():.1f} |", flush=True)
        for v in VARIANTS:
            stored = shell(
                roots[v], envs[v],
                "from tend.activity.models import Event; print(Event.objects.count())",
            )  # fmt: skip
            print(f"{v}: {int(stored):,} events stored at the end")
        for v in VARIANTS:
            drop_database("postgres", f"tend_bench_part_{v}")


if __name__ == "__main__":
    main()
