"""What every benchmark script needs: a database to run against, `tend` to call, a server to
wait for. Scripts run as ``python bench/<name>.py``, so this imports as ``common``."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEND = [sys.executable, "-m", "tend.cli"]
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


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
        env["TEND_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{pg_db}"
    else:
        env["TEND_DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    return env


def recreate_database(kind: str, data_dir: Path, pg_db: str) -> None:
    """Start from nothing: a new PostgreSQL database, or no SQLite file (nor its WAL)."""
    if kind == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {pg_db}")
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
            conn.execute(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")


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
