"""Where an events import's time goes on PostgreSQL: each step's wall time, this process's CPU
and the database server process's CPU, beside a bare ``COPY`` of the same rows.

CPU seconds are what a loaded, shared machine cannot distort much: wall time there depends on
who else runs. The server's CPU is read from ``/proc/<backend pid>/stat`` before and after each
step (the server must run on this machine); the parsing process's from ``os.times()`` once it
has ended. A scratch database ``<TEND_BENCH_PG_PREFIX>tend_bench_improf`` is created and dropped.

Usage: python bench/imports_profile.py EVENTS.csv CUSTOMERS.csv [--cprofile out.prof]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from common import ROOT, database_env, drop_database, recreate_database, run

PG_DB = "tend_bench_improf"
TICK = os.sysconf("SC_CLK_TCK")
COPY_COLUMNS = (
    "customer_id, user_id, anonymous_id, name, timestamp, properties, message_id, received_at, "
    "source"
)


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Steps:
    def __init__(self) -> None:
        self.rows: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
        self.backend = 0

    def server(self) -> float:
        return proc_cpu(self.backend) if self.backend else 0.0

    def wrap(self, owner: Any, name: str, label: str | None = None) -> None:
        fn = getattr(owner, name)
        label = label or name
        steps = self

        @functools.wraps(fn)
        def timed(*args: Any, **kw: Any) -> Any:
            w, c, s = time.perf_counter(), time.process_time(), steps.server()
            try:
                return fn(*args, **kw)
            finally:
                row = steps.rows[label]
                row[0] += 1
                row[1] += time.perf_counter() - w
                row[2] += time.process_time() - c
                row[3] += steps.server() - s

        if isinstance(owner.__dict__.get(name), staticmethod):
            setattr(owner, name, staticmethod(timed))
        else:
            setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("events")
    parser.add_argument("customers")
    parser.add_argument("--cprofile", default="")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    events, customers = Path(args.events).resolve(), Path(args.customers).resolve()
    with tempfile.TemporaryDirectory(prefix="tend-bench-improf-") as tmp:
        work = Path(tmp)
        recreate_database("postgres", work, PG_DB)
        env = database_env("postgres", work, PG_DB)
        run(env, "migrate", "-v", "0")
        run(env, "import", "customers", str(customers), "-v", "0")
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "tend.settings"
        sys.path.insert(0, str(ROOT))
        try:
            profile(events, args.cprofile, work)
        finally:
            if not args.keep:
                from django.db import connections

                connections.close_all()
                drop_database("postgres", PG_DB)


def profile(events: Path, cprofile: str, work: Path) -> None:
    import django

    django.setup()
    from django.db import connection

    from tend.ingest.imports import actions, event_rows, reading
    from tend.ingest.imports import events as ev

    steps = Steps()
    connection.ensure_connection()
    steps.backend = connection.connection.info.backend_pid
    for owner, name in [
        (ev.EventWriter, "_copy"),
        (ev.EventWriter, "_insert"),
        (ev.EventWriter, "write"),
        (ev, "rollups_increment"),
        (ev, "rollups_add_stored"),
        (ev, "changes_record_activity"),
        (ev, "_lock_customers"),
        (ev, "partitions_cover"),
        (ev, "customers_touch"),
        (ev, "analyze"),
        (ev, "_all_customer_ids"),
        (actions, "_commit_progress"),
        (actions, "_keep_rejects"),
        (actions, "_timeline"),
        (actions, "_end"),
        (actions, "file_digest"),
        (reading, "_encoding"),
        (event_rows, "_gc_paused"),
    ]:
        steps.wrap(owner, name)
    # Time spent waiting for the next parsed batch from the reading process.
    original = event_rows.parse_ahead

    def parse_ahead(*a: Any, **kw: Any) -> Any:
        gen = original(*a, **kw)
        while True:
            w, c, s = time.perf_counter(), time.process_time(), steps.server()
            try:
                item = next(gen)
            except StopIteration:
                return
            finally:
                row = steps.rows["next parsed batch (wait + unpickle)"]
                row[0] += 1
                row[1] += time.perf_counter() - w
                row[2] += time.process_time() - c
                row[3] += steps.server() - s
            yield item

    ev.parse_ahead = parse_ahead  # type: ignore[assignment]

    before_children = os.times()
    server0 = steps.server()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    prof = cProfile.Profile() if cprofile else None
    if prof:
        prof.enable()
    result = actions.import_file(kind="events", path=events)
    if prof:
        prof.disable()
        prof.dump_stats(cprofile)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    server = steps.server() - server0
    after_children = os.times()
    child = (after_children.children_user - before_children.children_user) + (
        after_children.children_system - before_children.children_system
    )
    n = result.created
    print(f"load {os.getloadavg()}")
    print(f"import_file: {n:,} events, wall {wall:.2f} s, this process CPU {cpu:.2f} s, "
          f"parsing process CPU {child:.2f} s, server CPU {server:.2f} s")  # fmt: skip
    print("| Step | Calls | Wall s | Client CPU s | Server CPU s |")
    print("|---|---|---|---|---|")
    for label, (calls, w, c, s) in sorted(steps.rows.items(), key=lambda kv: -kv[1][1]):
        print(f"| {label} | {calls} | {w:.2f} | {c:.2f} | {s:.2f} |")

    raw = connection.connection
    dump = work / "copy.txt"
    with (
        raw.cursor() as cur,
        dump.open("wb") as fh,
        cur.copy(f"COPY (SELECT {COPY_COLUMNS} FROM activity_event ORDER BY id) TO STDOUT") as copy,
    ):
        for chunk in copy:
            fh.write(chunk)
    raw.commit()
    for label, role in [("bare COPY", "origin"), ("bare COPY, FK triggers off", "replica")]:
        with raw.cursor() as cur:
            cur.execute("TRUNCATE activity_event")
            raw.commit()
            cur.execute("CHECKPOINT")
            raw.commit()
            s0, w0 = steps.server(), time.perf_counter()
            cur.execute(f"SET session_replication_role = {role}")
            with (
                dump.open("rb") as fh,
                cur.copy(f"COPY activity_event ({COPY_COLUMNS}) FROM STDIN") as copy,
            ):
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
            rows = cur.rowcount
            raw.commit()
            cur.execute("SET session_replication_role = origin")
            w, s = time.perf_counter() - w0, steps.server() - s0
        print(f"{label}: {rows:,} rows, wall {w:.2f} s, server CPU {s:.2f} s, load "
              f"{os.getloadavg()[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
