"""Benchmark: how fast `tend demo-data` fills a fresh database.

Runs `tend demo-data` as a separate process (exactly as a user would) for each case below,
each into a fresh database: a new SQLite file, or a scratch PostgreSQL database
(`tend_bench_demo`, created and dropped here). Reports wall time, customers/s, events/s and the
process's peak RSS, and writes the table under `## Demo data generation` in docs/benchmarks.md.

Usage: python bench/demo_data.py [--db sqlite|postgres|both] [--sizes small,large]
       [--large-customers 100000] [--large-events-per-customer 50] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, drop_database, fresh_database

DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Demo data generation"
PG_DB = "tend_bench_demo"


def cases(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    small = ["--business", "saas", "--customers", "2000", "--months", "24", "--seed", "42"]
    large = [
        "--business", "saas", "--customers", str(args.large_customers), "--months", "24",
        "--seed", "7", "--events-per-customer", str(args.large_events_per_customer),
    ]  # fmt: skip
    wanted = set(args.sizes.split(","))
    out = []
    if "small" in wanted:
        out.append(("2,000 customers, 24 months (defaults)", small))
    if "large" in wanted:
        out.append((f"{args.large_customers:,} customers, 24 months, ~5M events", large))
    return out


def run_timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MB of that one process, and its output."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise SystemExit(f"{shlex.join(cmd)} failed:\n{text}")
    return elapsed, usage.ru_maxrss // 1024, text


def number(text: str, label: str) -> int:
    match = re.search(rf"{label}\s*│\s*([\d,]+)", text)
    return int(match.group(1).replace(",", "")) if match else 0


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (`nproc`), {cpu}"


START, END = "<!-- bench/demo_data.py: start -->", "<!-- bench/demo_data.py: end -->"


def write_section(body: str) -> None:
    """Replace the measured part of our section; prose around the markers is kept."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    measured = f"{START}\n{body.rstrip()}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + measured + rest.split(END, 1)[1]
    elif HEADING in text:
        text = text.replace(HEADING, f"{HEADING}\n\n{measured}", 1)
    else:
        text = text.rstrip() + f"\n\n{HEADING}\n\n{measured}\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--large-customers", type=int, default=100_000)
    parser.add_argument("--large-events-per-customer", type=int, default=50)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    rows = []
    with tempfile.TemporaryDirectory(prefix="tend-bench-demo-") as tmp:
        workdir = Path(tmp)
        for label, flags in cases(args):
            for kind in kinds:
                env = fresh_database(kind, workdir, PG_DB)
                cmd = [sys.executable, "-m", "tend.cli", "demo-data", *flags]
                try:
                    seconds, rss_mb, text = run_timed(cmd, env)
                finally:
                    drop_database(kind, PG_DB)
                customers = number(text, "Customers")
                events = number(text, "Events")
                row = (
                    f"| {label} | {kind} | {seconds:.1f} s | {customers / seconds:,.0f} | "
                    f"{events:,} | {events / seconds:,.0f} | {rss_mb:,} MB |"
                )
                print(row, flush=True)
                rows.append(row)
    flags_text = " ".join(shlex.quote(a) for a in sys.argv[1:])
    body = "\n".join(
        [
            f"Measured {when} on {machine()}, by",
            "",
            f"    python bench/demo_data.py {flags_text}".rstrip(),
            "",
            "which runs, each into a fresh database (new SQLite file; scratch PostgreSQL "
            f"database `{PG_DB}`), `tend demo-data --business saas --customers 2000 --months 24 "
            "--seed 42` and `tend demo-data --business saas "
            f"--customers {args.large_customers} --months 24 --seed 7 "
            f"--events-per-customer {args.large_events_per_customer}`. Time is the wall time of "
            "the whole process (start-up, simulation, writes, rollup rebuild); peak RSS is that "
            "process's.",
            "",
            "| Data set | Database | Time | Customers/s | Events | Events/s | Peak RSS |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(body)
    if not args.no_write:
        write_section(body)
        print(f"\nwritten to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
