"""What every benchmark script needs: a database to run against, `tend` to call, a server to
wait for. Scripts run as ``python bench/<name>.py``, so this imports as ``common``."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEND = [sys.executable, "-m", "tend.cli"]
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def pg_name(pg_db: str) -> str:
    """The scratch PostgreSQL database's real name: ``TEND_BENCH_PG_PREFIX`` + ``pg_db``, so two
    benchmark runs on one server (two checkouts, or CI beside a session) never share one."""
    return os.environ.get("TEND_BENCH_PG_PREFIX", "") + pg_db


def run(env: dict[str, str], *args: str) -> str:
    """Run ``tend ARGS`` with ``env``; stop the benchmark with its output if it fails."""
    out = subprocess.run([*TEND, *args], env=env, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"`tend {' '.join(args)}` failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def database_env(kind: str, data_dir: Path, pg_db: str) -> dict[str, str]:
    """The environment for `tend` on a SQLite file in ``data_dir`` or PostgreSQL ``pg_db``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEND_")}
    env["TEND_DATA_DIR"] = str(data_dir)
    if kind == "postgres":
        env["TEND_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{pg_name(pg_db)}"
    else:
        env["TEND_DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    return env


def recreate_database(kind: str, data_dir: Path, pg_db: str, template: str | None = None) -> None:
    """Start from nothing: a new PostgreSQL database, or no SQLite file (nor its WAL).

    ``template`` (PostgreSQL only) makes the new database a file copy of an existing one, e.g. a
    data set built once by the same `tend demo-data` command (``--pg-template`` on the scripts
    that build one); the copy is the benchmark's own and is dropped like any other."""
    if kind == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg_name(pg_db)} WITH (FORCE)")
            copy = f" TEMPLATE {template}" if template else ""
            conn.execute(f"CREATE DATABASE {pg_name(pg_db)}{copy}")
    else:
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"bench.sqlite3{suffix}").unlink(missing_ok=True)


def fresh_database(kind: str, data_dir: Path, pg_db: str) -> dict[str, str]:
    """A new, migrated database and the environment to reach it."""
    recreate_database(kind, data_dir, pg_db)
    env = database_env(kind, data_dir, pg_db)
    run(env, "migrate", "-v", "0")
    return env


def drop_database(kind: str, pg_db: str) -> None:
    if kind == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg_name(pg_db)} WITH (FORCE)")


def wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    """Poll /healthz until the server answers (60 s at most); fail if it exits first."""
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit("server exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


@contextmanager
def serving(env: dict[str, str], port: int) -> Iterator[None]:
    """`tend serve` (gunicorn, 2 processes, as in production) on ``port`` while the block runs."""
    server = subprocess.Popen(
        [*TEND, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(port, server)
        yield
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def saas_data_dir(args: argparse.Namespace, kind: str, prefix: str) -> Path:
    """``<--data-dir>/<prefix>-<kind>``: where a benchmark keeps its data set between runs."""
    path = Path(args.data_dir) / f"{prefix}-{kind}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_present(kind: str, data_dir: Path, pg_db: str) -> bool:
    if kind == "sqlite":
        return (data_dir / "bench.sqlite3").exists()
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [pg_name(pg_db)]
        ).fetchone()
    return found is not None


def stored_customers(env: dict[str, str]) -> int:
    out = run(
        env,
        "shell",
        "-c",
        "from tend.customers.models import Customer; print('COUNT', Customer.objects.count())",
    )
    return int(out.split("COUNT", 1)[1].split()[0])


def saas_data_set(kind: str, env: dict[str, str], args: argparse.Namespace, pg_db: str) -> str:
    """Build (or, with ``--keep``, reuse) a saas demo data set of ``--customers`` customers and
    ``--events-per-customer`` events over 24 months ending today; returns its last day
    (yesterday, ISO). A kept set whose database is gone or changed is built again."""
    data_dir = Path(env["TEND_DATA_DIR"])
    marker = data_dir / f"built-{args.customers}-{args.events_per_customer}.json"
    if marker.exists() and not args.rebuild:
        built = json.loads(marker.read_text())
        if database_present(kind, data_dir, pg_db):
            run(env, "migrate", "-v", "0")
            if stored_customers(env) == args.customers and "last_day" in built:
                print(f"[{kind}] reusing the data set built {built['built']}")
                return str(built["last_day"])
        print(f"[{kind}] the kept data set's database is gone or changed: building it again")
        marker.unlink()
    recreate_database(kind, data_dir, pg_db)
    end = datetime.now(UTC).date()
    started = time.perf_counter()
    run(env, "migrate", "-v", "0")
    run(
        env,
        "demo-data",
        "-v", "0",
        "--business", "saas",
        "--customers", str(args.customers),
        "--months", "24",
        "--seed", "7",
        "--events-per-customer", str(args.events_per_customer),
        "--end", end.isoformat(),
    )  # fmt: skip
    print(f"[{kind}] built {args.customers:,} customers in {time.perf_counter() - started:.0f} s")
    last_day = (end - timedelta(days=1)).isoformat()
    if args.keep:
        marker.write_text(json.dumps({"built": end.isoformat(), "last_day": last_day}))
    return last_day


def forget_data_set(kind: str, data_dir: Path, pg_db: str) -> None:
    """Drop what a benchmark built: its scratch database, its SQLite file, its kept markers."""
    drop_database(kind, pg_db)
    recreate_database("sqlite", data_dir, pg_db)  # removes the SQLite file
    for marker in data_dir.glob("built-*.json"):
        marker.unlink()


def machine() -> str:
    """The machine in words for docs/benchmarks.md: CPU count and model."""
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    names = sorted(
        {
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        }
    )
    return f'{nproc} CPUs (`nproc`), "{", ".join(names)}" (/proc/cpuinfo model name)'
