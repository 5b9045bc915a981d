"""Benchmark: the Segment-compatible tracking API under sustained load.

For each database (scratch PostgreSQL database ``tend_bench_trk``, then a fresh SQLite file):
1. migrate, create a write key, start ``tend serve --workers 2`` (gunicorn, as in production),
2. send group + identify calls for ``--customers`` companies and their users (not timed),
3. from ``--clients`` client processes, each on its own keep-alive connection, send batches of
   ``--batch`` track events (spread over the users, so events land on customers, rollups and
   last-seen move) for ``--seconds`` seconds,
4. print events/s and p50/p95/p99 latency per batch, and check that the database holds
   exactly the events that were answered with 200 (nothing accepted is lost).

``--mix realistic`` sends what an app's SDK sends instead of track events only: per batch
85 % track, 10 % page, 3 % identify (changed traits), 2 % group (changed traits), about 1 KB per
message with a full analytics.js ``context``, random UUID message ids, random users. The
identify and group messages update customer and contact rows while other batches count
events on the same customers, the load under which batches once deadlocked.

Usage: python bench/tracking.py [--db postgres|sqlite|both] [--seconds 25] [--clients 6]
       [--batch 100] [--customers 1000] [--mix track|realistic]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from common import ROOT, TEND, database_env, recreate_database, run, wait_ready

from tend.ingest.tracking import samples

PG_DB = "tend_bench_trk"

MAKE_KEY = """
from tend.accounts.actions import apikey_create, user_create
from tend.accounts.models import Role
user = user_create(username="bench", password="bench-password-123", role=Role.OWNER)
print(apikey_create(name="bench", kind="write", by=user)[1])
"""


def post(conn: http.client.HTTPConnection, auth: str, body: bytes) -> tuple[int, bytes]:
    # "Connection: close": gunicorn keeps a keep-alive connection on the worker process that
    # accepted it, so a handful of long-lived client connections can pile onto one of the two
    # processes. Real traffic comes from many SDK instances; a fresh connection per batch
    # (about 0.1 ms on loopback) lets each batch go to whichever process is free.
    conn.request(
        "POST",
        "/v1/batch",
        body=body,
        headers={
            "Authorization": auth,
            "Content-Type": "application/json",
            "Connection": "close",
        },
    )
    response = conn.getresponse()
    answer = response.read()
    conn.close()
    return response.status, answer


def setup_customers(port: int, auth: str, customers: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    messages = []
    for n in range(customers):
        messages.append(
            {
                "type": "group",
                "userId": f"user-{n}",
                "groupId": f"co-{n}",
                "traits": {"name": f"Co {n}", "employees": 10},
            }
        )
        messages.append(
            {
                "type": "identify",
                "userId": f"user-{n}",
                "traits": {"name": f"User {n}", "email": f"u{n}@co{n}.test"},
            }
        )
    for start in range(0, len(messages), 200):
        status, body = post(
            conn, auth, json.dumps({"batch": messages[start : start + 200]}).encode()
        )
        if status != 200 or b"rejected" in body:
            raise SystemExit(f"set-up batch failed: {status} {body[:300]!r}")


EVENTS = ["Report Created", "Dashboard Viewed", "Invite Sent", "Export Downloaded", "Signed In"]


def realistic_batch(rng: random.Random, size: int, customers: int) -> tuple[bytes, int]:
    """A batch in the realistic mix (tend.ingest.tracking.samples) and how many of its messages
    are events."""
    now = datetime.now(UTC)
    batch = samples.realistic_batch(rng, size=size, users=customers, companies=customers, now=now)
    events = sum(1 for message in batch if message["type"] in samples.EVENT_KINDS)
    return json.dumps({"batch": batch, "sentAt": now.isoformat()}).encode(), events


def realistic_client(
    args: tuple[int, str, int, int, float, int],
) -> tuple[int, list[float], int, int, int]:
    """One client process sending realistic mixed batches until the deadline."""
    port, auth, batch_size, customers, deadline, seed = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    rng = random.Random(seed)
    latencies: list[float] = []
    events = errors = server_errors = messages = 0
    while time.time() < deadline:
        body, batch_events = realistic_batch(rng, batch_size, customers)
        started = time.perf_counter()
        status, answer = post(conn, auth, body)
        latencies.append(time.perf_counter() - started)
        if status == 200 and b"rejected" not in answer:
            events += batch_events
            messages += batch_size
        else:
            errors += 1
            server_errors += status >= 500
    return events, latencies, errors, server_errors, messages


def client(args: tuple[int, str, int, int, float, int]) -> tuple[int, list[float], int, int, int]:
    """One client process: batches on one keep-alive connection until the deadline."""
    port, auth, batch_size, customers, deadline, seed = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies: list[float] = []
    sent = errors = server_errors = 0
    prefix = uuid.uuid4().hex[:12]
    # The body is rendered once and only the batch number and clock are replaced per batch,
    # so the client processes (on the same two cores) take as little CPU from the server as
    # they can.
    templates = []
    for variant in range(10):  # ten bodies with different users, taken in turn
        batch = []
        for n in range(batch_size):
            user = (n * 7919 + seed * 104729 + variant * 101) % customers
            batch.append(
                {
                    "type": "track",
                    "userId": f"user-{user}",
                    "event": EVENTS[n % len(EVENTS)],
                    "properties": {"n": n, "plan": "pro"},
                    "context": {"library": {"name": "bench", "version": "1"}},
                    "timestamp": "@NOW@",
                    "messageId": f"{prefix}-@SEQ@-{n}",
                }
            )
        templates.append(json.dumps({"batch": batch, "sentAt": "@NOW@"}))
    seq = 0
    while time.time() < deadline:
        seq += 1
        now = datetime.now(UTC).isoformat()
        body = templates[seq % 10].replace("@NOW@", now).replace("@SEQ@", str(seq)).encode()
        started = time.perf_counter()
        status, answer = post(conn, auth, body)
        latencies.append(time.perf_counter() - started)
        if status == 200 and b"rejected" not in answer:
            sent += batch_size
        else:
            errors += 1
            server_errors += status >= 500
    return sent, latencies, errors, server_errors, sent


def bench(kind: str, args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="tend-bench-trk-") as tmp:
        recreate_database(kind, Path(tmp), PG_DB)
        env = database_env(kind, Path(tmp), PG_DB)
        run(env, "migrate", "-v", "0")
        key = run(env, "shell", "-c", MAKE_KEY).strip().splitlines()[-1]
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        port = 18700 + (1 if kind == "sqlite" else 0)
        server = subprocess.Popen(
            [*TEND, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_ready(port, server)
            setup_customers(port, auth, args.customers)
            deadline = time.time() + args.seconds
            started = time.perf_counter()
            jobs = [
                (port, auth, args.batch, args.customers, deadline, seed)
                for seed in range(args.clients)
            ]
            with multiprocessing.Pool(args.clients) as pool:
                results = pool.map(realistic_client if args.mix == "realistic" else client, jobs)
            elapsed = time.perf_counter() - started
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        stored = int(
            run(
                env,
                "shell",
                "-c",
                "from tend.activity.models import Event; print(Event.objects.count())",
            )
            .strip()
            .splitlines()[-1]
        )
    sent = sum(r[0] for r in results)
    latencies = sorted(x for r in results for x in r[1])
    errors = sum(r[2] for r in results)
    server_errors = sum(r[3] for r in results)
    messages = sum(r[4] for r in results)
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "db": kind,
        "events": sent,
        "stored": stored,
        "errors": errors,
        "server_errors": server_errors,
        "msg_rate": messages / elapsed,
        "batches": len(latencies),
        "seconds": elapsed,
        "rate": sent / elapsed,
        "p50": quantiles[49] * 1000,
        "p95": quantiles[94] * 1000,
        "p99": quantiles[98] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=25)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--mix", choices=["track", "realistic"], default="track")
    args = parser.parse_args()
    kinds = ["postgres", "sqlite"] if args.db == "both" else [args.db]
    print(
        "| Database | Mix | Events accepted | Stored | Failed batches (5xx) | Events/s | "
        "Messages/s | p50 | p95 | p99 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in kinds:
        r = bench(kind, args)
        print(
            f"| {r['db']} | {args.mix} | {r['events']:,} in {r['seconds']:.1f} s | "
            f"{r['stored']:,} | {r['errors']} ({r['server_errors']}) | {r['rate']:,.0f} | "
            f"{r['msg_rate']:,.0f} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | "
            f"{r['p99']:.1f} ms |",
            flush=True,
        )


if __name__ == "__main__":
    main()
