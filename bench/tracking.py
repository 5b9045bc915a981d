"""Benchmark: the Segment-compatible tracking API under a founder's real load.

For each database (``--db``; scratch PostgreSQL database ``tend_bench_trk``, SQLite file):

1. the data set: on PostgreSQL with ``--pg-template NAME`` the scratch database is a file copy
   of NAME (e.g. ``tend_tpl_saas100k``, built once by the command below); otherwise, unless
   ``--data-customers 0``, it is built here by ``tend demo-data --business saas --customers
   100000 --months 24 --seed 7 --events-per-customer 50`` (~5M events, several minutes), so
   events land in a table that already holds millions;
2. migrate, create a write key, start ``tend serve --workers 2`` (gunicorn, as in production);
3. send group + identify calls for ``--customers`` companies and their users (not timed);
4. build every request body before the clock starts (``--templates`` per client, each about
   100 KB); per batch the client only fills in fresh random UUID message ids, the clock, and
   the identify/group trait values that change on every send, so the client processes (on the
   same cores as the server) cost little: their CPU share is measured and printed;
5. the timed phase: ``--clients`` client processes, each on one HTTP/1.1 keep-alive connection
   as the SDKs keep one (``--connection close`` opens one per batch instead), send batches of
   ``--batch`` messages for ``--seconds`` seconds (70 by default: the one-minute last-seen window
   turns over) and wait for each answer;
6. per-type phases (``--phase-seconds`` each, 0 to skip): one client sends batches of one
   message type only (track, page, identify, group), one at a time, so the p50 batch time over
   the batch size is what one message of that type costs the server;
7. checks that the database holds exactly the tracking events answered with 200 (nothing
   accepted is lost, nothing doubled), then drops the scratch database and files.

``--mix realistic`` (the default) is what an app's SDKs send (``tend.ingest.tracking.samples``):
per batch 85 % track, 10 % page, 3 % identify, 2 % group, about 1 KB per message with a full
analytics.js ``context``, random UUID message ids, random users of ``--customers`` companies;
every identify and group carries a changed trait, so it writes its contact or customer row.
``--mix track`` sends track events only (~150 bytes each, random UUID ids): the easy case.

Latency is the client's wall time of a whole batch request; events/s counts track and page
messages answered with 200; messages/s counts every message.

Usage: python bench/tracking.py [--db postgres|sqlite|both] [--pg-template NAME]
       [--data-customers 100000] [--seconds 70] [--phase-seconds 8] [--clients 6]
       [--batch 100] [--customers 1000] [--mix realistic|track] [--connection keep-alive|close]
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
from typing import Any

from common import ROOT, TEND, database_env, drop_database, recreate_database, run, wait_ready

from tend.ingest.tracking import samples

PG_DB = "tend_bench_trk"

MAKE_KEY = """
from tend.accounts.actions import apikey_create, user_create
from tend.accounts.models import Role
user = user_create(username="bench-trk", password="bench-password-123", role=Role.OWNER)
print(apikey_create(name="bench-trk", kind="write", by=user)[1])
"""

COUNT_EVENTS = (
    "from tend.activity.models import Event; "
    "print('COUNT', Event.objects.filter(source='tracking').count())"
)

# Placeholders in a pre-rendered body, filled in per batch.
ID, NOW, SEQ, SMALL = "@ID@", "@NOW@", "@SEQ@", "@SMALL@"


class Client:
    """One HTTP connection to the server, kept alive between batches unless ``close``."""

    def __init__(self, port: int, auth: str, close: bool) -> None:
        self.port, self.auth, self.close = port, auth, close
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, body: bytes) -> tuple[int, bytes]:
        headers = {"Authorization": self.auth, "Content-Type": "application/json"}
        if self.close:
            headers["Connection"] = "close"
        try:
            self.conn.request("POST", "/v1/batch", body=body, headers=headers)
            response = self.conn.getresponse()
            answer = response.read()
        except (http.client.HTTPException, ConnectionError):
            # The server closed a kept-alive connection: an SDK opens a new one and retries.
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request("POST", "/v1/batch", body=body, headers=headers)
            response = self.conn.getresponse()
            answer = response.read()
        if self.close or response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return response.status, answer


def setup_customers(port: int, auth: str, customers: int) -> None:
    client = Client(port, auth, close=False)
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
                "traits": {"name": f"User {n}", "email": f"user{n}@co{n}.test"},
            }
        )
    for start in range(0, len(messages), 200):
        status, body = client.post(json.dumps({"batch": messages[start : start + 200]}).encode())
        if status != 200 or b"rejected" in body:
            raise SystemExit(f"set-up batch failed: {status} {body[:300]!r}")


def template(rng: random.Random, mix: str, size: int, customers: int) -> tuple[str, int]:
    """One batch body with placeholders, and how many of its messages are events (track,
    page). ``mix``: realistic, track (~150-byte track events), or one message type (1 KB
    messages of the realistic mix, all of that type)."""
    now = datetime.now(UTC)
    if mix == "realistic" or mix in samples.MIX:
        batch = samples.realistic_batch(
            rng, size=size, users=customers, companies=customers, now=now
        )
        if mix != "realistic":  # a single-type phase: the same messages, all of one type
            batch = [_retype(rng, m, mix, customers) for m in batch]
    else:
        batch = []
        for _ in range(size):
            user = rng.randrange(customers)
            batch.append(
                {
                    "type": "track",
                    "messageId": "",
                    "userId": f"user-{user}",
                    "event": rng.choice(samples.EVENTS),
                    "properties": {"report": rng.randrange(10**6), "plan": "pro"},
                    "context": {"library": {"name": "bench", "version": "1"}},
                    "timestamp": "",
                }
            )
    for message in batch:
        message["messageId"] = ID
        message["timestamp"] = NOW
        traits = message.get("traits")
        if message["type"] == "identify":
            traits["logins"] = SEQ  # changes on every send: the contact row is written
        elif message["type"] == "group":
            traits["employees"] = SMALL  # the same for the customer row
    events = sum(1 for m in batch if m["type"] in samples.EVENT_KINDS)
    return json.dumps({"batch": batch, "sentAt": NOW}), events


def _retype(
    rng: random.Random, message: dict[str, Any], kind: str, customers: int
) -> dict[str, Any]:
    """A realistic message turned into one of type ``kind`` (same user, same context)."""
    user = int(message["userId"].split("-")[1])
    for name in ("event", "properties", "name", "traits", "groupId"):
        message.pop(name, None)
    message["type"] = kind
    if kind == "track":
        message["event"] = rng.choice(samples.EVENTS)
        message["properties"] = {"report": rng.randrange(10**6), "plan": "pro", "seats": 5}
    elif kind == "page":
        message["name"] = "Weekly report"
        message["properties"] = {"path": "/reports/weekly", "title": "Weekly report"}
    elif kind == "identify":
        message["traits"] = {
            "name": f"User {user}",
            "email": f"user{user}@co{user % customers}.test",
        }
    else:
        message["groupId"] = f"co-{user % customers}"
        message["traits"] = {"name": f"Co {user % customers}"}
    return message


def fill(body: str, seq: int) -> bytes:
    """A pre-rendered body with fresh random UUID message ids, the clock and this send's trait
    values filled in."""
    now = '"' + datetime.now(UTC).isoformat() + '"'
    body = body.replace('"' + NOW + '"', now)
    body = body.replace('"' + SEQ + '"', str(seq)).replace('"' + SMALL + '"', str(seq % 500))
    parts = body.split(ID)
    out = [parts[0]]
    for part in parts[1:]:
        out.append(str(uuid.uuid4()))
        out.append(part)
    return "".join(out).encode()


def client(args: tuple[Any, ...]) -> dict[str, Any]:
    """One client process: pre-rendered bodies, then batches until the deadline."""
    port, auth, close, mix, size, customers, templates, start_at, seconds, seed = args
    rng = random.Random(seed)
    bodies = [template(rng, mix, size, customers) for _ in range(templates)]
    conn = Client(port, auth, close)
    latencies: list[float] = []
    events = messages = errors = server_errors = 0
    seq = seed * 10_000_000
    while time.time() < start_at:  # every client starts the clock together
        time.sleep(0.005)
    cpu = time.process_time()
    deadline = start_at + seconds
    while time.time() < deadline:
        seq += 1
        body, batch_events = bodies[seq % len(bodies)]
        data = fill(body, seq)
        started = time.perf_counter()
        status, answer = conn.post(data)
        latencies.append(time.perf_counter() - started)
        if status == 200 and b"rejected" not in answer:
            events += batch_events
            messages += size
        else:
            errors += 1
            server_errors += status >= 500
            if errors < 3:
                print(f"  batch refused: {status} {answer[:300]!r}", flush=True)
    return {
        "events": events,
        "messages": messages,
        "latencies": latencies,
        "errors": errors,
        "server_errors": server_errors,
        "cpu": time.process_time() - cpu,
    }


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def group_cpu(pgid: int) -> float:
    """CPU seconds used so far by the processes of the process group ``pgid`` (the server)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def phase(
    port: int,
    auth: str,
    args: argparse.Namespace,
    mix: str,
    clients: int,
    seconds: float,
    pgid: int,
) -> dict[str, Any]:
    """``clients`` processes sending ``mix`` batches for ``seconds``; the numbers."""
    templates = args.templates if clients > 1 else max(4, args.templates // 2)
    start_at = time.time() + 2 + templates * clients * 0.02  # bodies are built before this
    jobs = [
        (port, auth, args.connection == "close", mix, args.batch, args.customers, templates,
         start_at, seconds, seed + 1)
        for seed in range(clients)
    ]  # fmt: skip
    with multiprocessing.Pool(clients) as pool:
        pending = pool.map_async(client, jobs)
        while time.time() < start_at:
            time.sleep(0.005)
        busy0, total0 = cpu_ticks()
        server0 = group_cpu(pgid)
        load = Path("/proc/loadavg").read_text().split()[0]
        results = pending.get()
    busy1, total1 = cpu_ticks()
    server1 = group_cpu(pgid)
    elapsed = max(time.time() - start_at, seconds)
    latencies = sorted(x for r in results for x in r["latencies"])
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    ncpu = os.cpu_count() or 1
    return {
        "mix": mix,
        "clients": clients,
        "events": sum(r["events"] for r in results),
        "messages": sum(r["messages"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "server_errors": sum(r["server_errors"] for r in results),
        "batches": len(latencies),
        "seconds": elapsed,
        "p50": q[49] * 1000,
        "p95": q[94] * 1000,
        "p99": q[98] * 1000,
        "load": load,
        "machine": (busy1 - busy0) / max(1, total1 - total0),
        "client_cpu": sum(r["cpu"] for r in results) / (elapsed * ncpu),
        "server_cpu": (server1 - server0) / (elapsed * ncpu),
    }


def stored_events(env: dict[str, str]) -> int:
    out = run(env, "shell", "-c", COUNT_EVENTS)
    return int(out.split("COUNT", 1)[1].split()[0])


def bench(kind: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="tend-bench-trk-", dir=args.tmp) as tmp:
        template_db = args.pg_template if kind == "postgres" else None
        try:
            recreate_database(kind, Path(tmp), PG_DB, template=template_db)
            env = database_env(kind, Path(tmp), PG_DB)
            run(env, "migrate", "-v", "0")
            if template_db is None and args.data_customers:
                started = time.perf_counter()
                run(
                    env, "demo-data", "-v", "0", "--business", "saas",
                    "--customers", str(args.data_customers), "--months", "24", "--seed", "7",
                    "--events-per-customer", "50",
                )  # fmt: skip
                print(f"[{kind}] data set built in {time.perf_counter() - started:.0f} s")
            key = run(env, "shell", "-c", MAKE_KEY).strip().splitlines()[-1]
            auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
            port = args.port + (1 if kind == "sqlite" else 0)
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
                before = stored_events(env)
                results = [
                    phase(port, auth, args, args.mix, args.clients, args.seconds, server.pid)
                ]
                if args.phase_seconds:
                    for single in ("track", "page", "identify", "group"):
                        results.append(
                            phase(port, auth, args, single, 1, args.phase_seconds, server.pid)
                        )
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)
            stored = stored_events(env) - before
        finally:
            drop_database(kind, PG_DB)
    accepted = sum(r["events"] for r in results)
    for r in results:
        r["db"] = kind
    results[0]["stored"] = f"{stored:,} of {accepted:,} accepted" + (
        "" if stored == accepted else " — MISMATCH"
    )
    if stored != accepted:
        print(f"[{kind}] DURABILITY CHECK FAILED: {stored} stored, {accepted} accepted")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--pg-template", help="copy this PostgreSQL database as the data set")
    parser.add_argument("--data-customers", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=70)
    parser.add_argument("--phase-seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--templates", type=int, default=24, help="bodies built per client")
    parser.add_argument("--mix", choices=["realistic", "track"], default="realistic")
    parser.add_argument("--connection", choices=["keep-alive", "close"], default="keep-alive")
    parser.add_argument("--port", type=int, default=18700)
    parser.add_argument("--tmp", help="where the SQLite file and data directory go")
    args = parser.parse_args()
    kinds = ["postgres", "sqlite"] if args.db == "both" else [args.db]
    print(
        "| Database | Phase | Clients | Events/s | Messages/s | p50 | p95 | p99 | ms/message "
        "(p50 ÷ batch) | Failed (5xx) | Client CPU | Server CPU | Machine busy | Load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for kind in kinds:
        for r in bench(kind, args):
            print(
                f"| {r['db']} | {r['mix']} | {r['clients']} | {r['events'] / r['seconds']:,.0f} | "
                f"{r['messages'] / r['seconds']:,.0f} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | "
                f"{r['p99']:.1f} ms | {r['p50'] / args.batch:.2f} | {r['errors']} "
                f"({r['server_errors']}) | {r['client_cpu']:.0%} | {r['server_cpu']:.0%} | "
                f"{r['machine']:.0%} | {r['load']} |",
                flush=True,
            )
            if "stored" in r:
                print(f"[{kind}] stored tracking events: {r['stored']}", flush=True)


if __name__ == "__main__":
    main()
