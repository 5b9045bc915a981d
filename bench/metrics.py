"""Benchmark: metric snapshots and the revenue dashboard at 100,000 customers.

For each database (SQLite file, then PostgreSQL), this script
1. builds a SaaS demo data set with `tend demo-data` (36 months; few events, which the
   dashboard never reads), or with ``--pg-template NAME`` copies a PostgreSQL database built
   once by such a command (its months are the template's). A set kept by an earlier ``--keep``
   run is reused only when its database is still there with the same customers,
2. times a full snapshot rebuild and an incremental one after 200 subscriptions changed,
3. starts `tend serve` (gunicorn, 2 processes, as in production) and, for ``--rounds``
   rounds, does what production does every 10 minutes — a few subscriptions change and the
   scheduled `metrics_refresh` task runs (in its own process, like the worker) — then two
   concurrent clients (each a logged-in keep-alive connection, so both server processes work)
   a. open each on-demand view once: the first visit after the refresh, timed per variant
      (round 1's visits are reported apart: nobody had asked for those views before),
   b. open a filter combination no one asked for before (a new tag × country each round),
   c. open every view ``--repeats`` more times: repeats, which either process may answer,
   next to /healthz as a same-run baseline; p50/p95/max per variant and kind,
4. drops the database (and the SQLite file) it built, unless ``--keep``.

The on-demand views are the ones the pre-added summaries cannot answer: a tag, several
channels, a channel and a country, a tag by quarter (added up from customer-month rows).

Usage: python bench/metrics.py [--db sqlite|postgres|both] [--customers 100000]
       [--rounds 5] [--repeats 5] [--changes 20] [--pg-template NAME] [--keep] [--rebuild]
       [--skip-refresh]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import threading
import time
from pathlib import Path

from common import (
    ROOT,
    database_env,
    database_present,
    forget_data_set,
    recreate_database,
    run,
    serving,
    stored_customers,
)
from pages import Browser

PG_DB = "tend_bench_metrics"
PASSWORD = "bench-password-123"

SUMMARY = [
    "/metrics/",
    "/metrics/?period=quarter",
    "/metrics/?channel=organic",
    "/metrics/?country=US",
]
ON_DEMAND = [
    "/metrics/?tag=vip",
    "/metrics/?tag=newsletter",
    "/metrics/?channel=organic&channel=paid_search",
    "/metrics/?channel=organic&country=US",
    "/metrics/?tag=webinar&period=quarter",
]
# One new combination per round (never asked before in the run): a tag and a country.
NEW_TAGS = ["api-user", "agency", "beta-tester", "webinar", "newsletter", "vip"]
NEW_COUNTRIES = ["US", "DE", "GB", "FR", "CN", "IN", "BR", "CA", "AU", "JP", "NL", "SE"]

REFRESH = """
import json, time
from tend.metrics.snapshots import snapshots_refresh
import lifelines  # imported before the clock starts: a worker has it loaded already
t = time.perf_counter(); full = snapshots_refresh(full=True); full_s = time.perf_counter() - t
from decimal import Decimal
from django.db import transaction
from tend.billing.actions import subscription_update
from tend.billing.models import Subscription
subs = list(Subscription.objects.filter(status="active").order_by("pk")[:200])
with transaction.atomic():
    for sub in subs:
        subscription_update(subscription=sub, by=None, mrr=sub.mrr + Decimal("10"))
t = time.perf_counter(); inc = snapshots_refresh(); inc_s = time.perf_counter() - t
from tend.metrics.models import CustomerMonth
print("RESULT " + json.dumps({"full_s": full_s, "full_customers": full.customers,
    "rows": CustomerMonth.objects.count(), "inc_s": inc_s, "inc_customers": inc.customers}))
"""

# What the worker's 10-minute schedule does, after a few subscriptions changed (round N).
SCHEDULED_REFRESH = """
import json, time
from decimal import Decimal
from django.db import transaction
from tend.billing.actions import subscription_update
from tend.billing.models import Subscription
from tend.metrics.tasks import metrics_refresh
n, changes = {round}, {changes}
active = Subscription.objects.filter(status="active").order_by("pk")
subs = list(active[n * changes:(n + 1) * changes])
with transaction.atomic():
    for sub in subs:
        subscription_update(subscription=sub, by=None, mrr=sub.mrr + Decimal("1"))
t = time.perf_counter(); metrics_refresh.call(); s = time.perf_counter() - t
print("RESULT " + json.dumps({{"s": s, "changed": len(subs)}}))
"""

# Figures kept from an earlier run of a kept data set would make "never asked before" a lie.
FORGET = """
try:
    from tend.metrics.models import OnDemandFigure
except ImportError:  # a version without shared figures
    pass
else:
    print("FORGOT", OnDemandFigure.objects.all().delete()[0])
"""

VIEWER = """
from tend.accounts.models import User
print("HAS", User.objects.filter(username="bench").exists())
"""


def build(kind: str, env: dict[str, str], args: argparse.Namespace) -> None:
    """The data set: kept from an earlier --keep run when its database is still whole, else
    built (or copied from --pg-template) and given the viewer login the clients use."""
    data_dir = Path(env["TEND_DATA_DIR"])
    marker = data_dir / f"built-{kind}-{args.customers}.json"
    if marker.exists() and not args.rebuild:
        built = json.loads(marker.read_text())
        if database_present(kind, data_dir, PG_DB):
            run(env, "migrate", "-v", "0")
            if stored_customers(env) == built["customers"]:
                print(f"[{kind}] reusing the data set built {built['built']} ({built['source']})")
                return
        print(f"[{kind}] the kept data set's database is gone or changed: building it again")
        marker.unlink()
    template = args.pg_template if kind == "postgres" else None
    recreate_database(kind, data_dir, PG_DB, template=template)
    started = time.perf_counter()
    run(env, "migrate", "-v", "0")
    if template:
        source = f"copy of {template}"
    else:
        source = f"demo-data saas {args.customers} customers, 36 months, seed 11"
        run(
            env,
            *("demo-data", "-v", "0", "--business", "saas", "--customers", str(args.customers)),
            *("--months", "36", "--seed", "11", "--events-per-customer", "2"),
        )
    if "HAS True" not in run(env, "shell", "-c", VIEWER):
        run(env, "createuser", "bench", "--role", "viewer", "--password", PASSWORD)
    customers = stored_customers(env)
    print(f"[{kind}] {source}: {customers:,} customers in {time.perf_counter() - started:.0f} s")
    if args.keep:
        marker.write_text(
            json.dumps(
                {"built": time.strftime("%Y-%m-%d"), "source": source, "customers": customers}
            )
        )


def result_of(out: str) -> dict[str, float]:
    return json.loads(out.split("RESULT ", 1)[1].splitlines()[0])  # type: ignore[no-any-return]


def refresh(kind: str, env: dict[str, str]) -> None:
    result = result_of(run(env, "shell", "-c", REFRESH))
    print(
        f"[{kind}] snapshots: full rebuild {result['full_s']:.1f} s for "
        f"{result['full_customers']:,} paying customers ({result['rows']:,} customer-months); "
        f"incremental after 200 changed subscriptions {result['inc_s']:.2f} s "
        f"({result['inc_customers']} customers rebuilt)"
    )


class Client:
    """One founder's browser: logged in, one keep-alive connection, samples per path."""

    def __init__(self, port: int) -> None:
        self.browser = Browser(port)
        self.browser.login()

    def get(self, path: str, into: dict[str, list[float]]) -> None:
        try:
            status, _, elapsed = self.browser.request("GET", path)
        except (http.client.RemoteDisconnected, ConnectionError):
            # The server closed the idle keep-alive connection (gunicorn's keep-alive is a few
            # seconds): open a new one and ask again, as a browser does; that try is timed.
            self.browser.conn.close()
            status, _, elapsed = self.browser.request("GET", path)
        assert status == 200, f"{path} gave HTTP {status}"
        into.setdefault(path, []).append(elapsed)


def both(clients: list[Client], work: list[list[str]], into: list[dict[str, list[float]]]) -> None:
    """Each client requests its own list of paths, the two at the same time."""
    threads = [
        threading.Thread(target=lambda c=c, paths=paths, out=out: [c.get(p, out) for p in paths])
        for c, paths, out in zip(clients, work, into, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def flat_parts(parts: list[dict[str, list[float]]]) -> list[float]:
    return [s for part in parts for samples in part.values() for s in samples]


def merge(parts: list[dict[str, list[float]]], into: dict[str, list[float]]) -> None:
    for part in parts:
        for path, samples in part.items():
            into.setdefault(path, []).extend(samples)


def measure(
    kind: str, env: dict[str, str], args: argparse.Namespace
) -> dict[str, dict[str, list[float]]]:
    port = 8766
    first: dict[str, list[float]] = {}
    fresh: dict[str, list[float]] = {}
    repeat: dict[str, list[float]] = {}
    run(env, "shell", "-c", FORGET)
    with serving(env, port):
        clients = [Client(port), Client(port)]
        for c in clients:  # a page of each kind once, so no sample pays a process's start-up
            c.get("/metrics/", {})
            c.get("/healthz", {})
        for n in range(args.rounds):
            scheduled = result_of(
                run(env, "shell", "-c", SCHEDULED_REFRESH.format(round=n, changes=args.changes))
            )
            print(
                f"[{kind}] round {n + 1}: {scheduled['changed']:.0f} subscriptions changed, "
                f"scheduled refresh {scheduled['s']:.2f} s; load {os.getloadavg()[0]:.2f}"
            )
            # a. first visits: each view once, the two clients splitting the views and
            # swapping halves every round.
            halves = [ON_DEMAND[(n % 2) :: 2], ON_DEMAND[1 - n % 2 :: 2]]
            parts: list[dict[str, list[float]]] = [{}, {}]
            both(clients, halves, parts)
            if n == 0:  # nobody asked for these views before in this run
                fresh.setdefault("round 1 views (never asked before)", []).extend(flat_parts(parts))
            else:
                merge(parts, first)
            # b. a combination nobody asked for before
            news = [
                f"/metrics/?tag={NEW_TAGS[(2 * n + i) % len(NEW_TAGS)]}"
                f"&country={NEW_COUNTRIES[(2 * n + i) % len(NEW_COUNTRIES)]}"
                for i in range(2)
            ]
            parts = [{}, {}]
            both(clients, [[news[0]], [news[1]]], parts)
            fresh.setdefault("new tag × country", []).extend(flat_parts(parts))
            # c. repeats of every view, with /healthz as the baseline
            work = [["/healthz", *ON_DEMAND, *SUMMARY] * args.repeats for _ in clients]
            parts = [{}, {}]
            both(clients, [work[0], list(reversed(work[1]))], parts)
            merge(parts, repeat)
    return {"first": first, "new": fresh, "repeat": repeat}


def line(kind: str, label: str, samples: list[float], baseline: float | None = None) -> str:
    if not samples:
        return f"[{kind}] {label:52s} n=  0"
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms) + 0.5) - 1))]
    ratio = f"  p95/healthz={p95 / baseline:6.1f}x" if baseline else ""
    return (
        f"[{kind}] {label:52s} n={len(ms):3d}  p50={statistics.median(ms):7.1f}  "
        f"p95={p95:7.1f}  max={ms[-1]:7.1f} ms{ratio}"
    )


def p95(samples: list[float]) -> float:
    if not samples:
        return float("nan")
    ms = sorted(s * 1000 for s in samples)
    return ms[min(len(ms) - 1, max(0, round(0.95 * len(ms) + 0.5) - 1))]


def flat(samples: dict[str, list[float]]) -> list[float]:
    return [s for values in samples.values() for s in values]


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def report(kind: str, found: dict[str, dict[str, list[float]]]) -> None:
    base = p95(found["repeat"].pop("/healthz"))
    print(f"[{kind}] /healthz p95 {base:.1f} ms (same run, both clients)")
    print(f"[{kind}] -- first visit after the scheduled refresh (rounds 2…: views asked before)")
    for path, samples in found["first"].items():
        print(line(kind, path, samples, base))
    print(line(kind, "all on-demand first visits", flat(found["first"]), base))
    for label, samples in found["new"].items():
        print(line(kind, label, samples, base))
    print(f"[{kind}] -- repeats (either process)")
    for path, samples in found["repeat"].items():
        print(line(kind, path, samples, base))
    firsts = flat(found["first"])
    cold = flat(found["new"])
    repeats = [s for p in ON_DEMAND for s in found["repeat"][p]]
    summaries = [s for p in SUMMARY for s in found["repeat"][p]]
    print(line(kind, "all on-demand repeats", repeats, base))
    print(line(kind, "all pre-added (summary) views", summaries, base))
    verdict = {True: "met", False: "MISSED"}
    print(
        f"[{kind}] targets: on-demand first visit p95 < 500 ms: after a refresh "
        f"{verdict[p95(firsts) < 500]} ({p95(firsts):.0f}), never asked before "
        f"{verdict[p95(cold) < 500]} ({p95(cold):.0f}); "
        f"repeat p95 < 150 ms: {verdict[p95(repeats) < 150]} "
        f"({p95(repeats):.0f}); summary p95 < 150 ms: {verdict[p95(summaries) < 150]} "
        f"({p95(summaries):.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5, help="scheduled refreshes to measure")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of each view per round")
    parser.add_argument("--changes", type=int, default=20, help="subscriptions changed per round")
    parser.add_argument("--pg-template", help="copy this PostgreSQL database instead of building")
    parser.add_argument("--keep", action="store_true", help="keep the data set for a next run")
    parser.add_argument("--rebuild", action="store_true", help="never reuse a kept data set")
    parser.add_argument(
        "--skip-refresh", action="store_true", help="no full/incremental snapshot timing"
    )
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "bench-metrics"))
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"# metrics benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs")
    print(f"# load average at start: {loadavg()}")
    for kind in kinds:
        data_dir = Path(args.data_dir) / kind
        data_dir.mkdir(parents=True, exist_ok=True)
        env = database_env(kind, data_dir, PG_DB)
        try:
            build(kind, env, args)
            if not args.skip_refresh:
                refresh(kind, env)
            report(kind, measure(kind, env, args))
        finally:
            if not args.keep:
                forget_data_set(kind, data_dir, PG_DB)
        print(f"# load average after {kind}: {loadavg()}")


if __name__ == "__main__":
    main()
