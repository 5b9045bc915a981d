"""Benchmark: customers list and customer page latency at 100,000 customers / ~5M events.

For each database (PostgreSQL, then a SQLite file), this script
1. gets the data set: a file copy of ``--pg-template NAME`` (PostgreSQL only: a database built
   once by the same `tend demo-data` command, never modified), or builds it with
   `tend demo-data --business saas --customers 100000 --months 24 --seed 7
   --events-per-customer 50`; with ``--keep`` a built set is kept and reused by a next run only
   while its database still exists and holds exactly ``--customers`` customers,
2. makes sure the viewer ``bench`` exists, starts `tend serve` (gunicorn, 2 processes) exactly
   as production would,
3. runs ``--clients`` clients at once (separate processes, each with its own keep-alive
   connection and its own login, so both server processes work). Every round, each client
   requests every list variant once in its own shuffled order, each time followed by a random
   customer page, and ``/healthz`` before each (the same-run baseline: the same server and
   network path without page work). Searches cover terms that match few, thousands and most
   customers; the match count of each variant is read from the page and printed,
4. prints p50/p95/p99 for every variant separately (never one p95 over a mix), the customer
   page and /healthz, and whether each holds the target p95 < 150 ms,
5. drops the database (and the SQLite file) it made, unless ``--keep``.

Usage: python bench/pages.py [--db sqlite|postgres|both] [--pg-template NAME]
       [--customers 100000] [--events-per-customer 50] [--clients 2] [--rounds 25]
       [--keep] [--rebuild] [--port 8765]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import re
import statistics
import time
from pathlib import Path
from urllib.parse import urlencode

from common import (
    ROOT,
    database_env,
    forget_data_set,
    recreate_database,
    run,
    saas_data_dir,
    saas_data_set,
    serving,
    stored_customers,
)

PG_DB = "tend_bench_pages"
USER = "bench"
PASSWORD = "bench-password-123"
TARGET_MS = 150.0

# Every list variant is reported on its own. Search terms (match counts in the saas demo data
# set of 100,000 customers, seed 7; the script prints the counts it finds): "osprey studios"
# (a dozen names), "demo_0004737" (one exact external id), ".nl" (about 2,000, e-mail
# addresses only: the e-mail branch of the search alone), "media" (about 4,700, names and
# addresses), "billing" (about 20,000, addresses only), "co" (about 74,000: most customers).
LIST_VARIANTS = [
    "/customers/",
    "/customers/?sort=-mrr",
    "/customers/?sort=-last_seen",
    "/customers/?sort=stage",
    "/customers/?stage=at_risk",
    "/customers/?stage=churned&sort=name",
    "/customers/?sort=-mrr&stage=established",
    "/customers/?tag=vip",
    "/customers/?page=50",
    "/customers/?page=1000&sort=-signed_up",
    "/customers/?q=osprey+studios",
    "/customers/?q=demo_0004737",
    "/customers/?q=.nl",
    "/customers/?q=media",
    "/customers/?q=media&sort=-mrr",
    "/customers/?q=billing",
    "/customers/?q=co",
    "/customers/?q=co&sort=-last_seen",
    "/customers/?q=co&page=100",
]
DETAIL = "/customers/<id>/"
HEALTHZ = "/healthz"


def ensure_user(env: dict[str, str]) -> None:
    """The viewer the clients log in as (a template or kept data set may have it already)."""
    out = run(
        env,
        "shell",
        "-c",
        "from tend.accounts.models import User; "
        f"print('FOUND', User.objects.filter(username={USER!r}).exists())",
    )
    if "FOUND True" not in out:
        run(env, "createuser", USER, "--role", "viewer", "--password", PASSWORD)


def data_set(kind: str, env: dict[str, str], args: argparse.Namespace) -> None:
    """A migrated data set of ``--customers`` customers with the ``bench`` viewer."""
    if kind == "postgres" and args.pg_template:
        started = time.perf_counter()
        recreate_database(kind, Path(env["TEND_DATA_DIR"]), PG_DB, template=args.pg_template)
        run(env, "migrate", "-v", "0")
        found = stored_customers(env)
        if found != args.customers:
            raise SystemExit(
                f"template {args.pg_template} holds {found:,} customers, not {args.customers:,}"
            )
        print(
            f"[{kind}] copied {args.pg_template} ({found:,} customers) and migrated it in "
            f"{time.perf_counter() - started:.0f} s"
        )
    else:
        saas_data_set(kind, env, args, PG_DB)
    ensure_user(env)


class Browser:
    """A keep-alive HTTP connection with a session cookie, like one founder's browser."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str, float]:
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Accept-Language": "en",
        }
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.conn.port}/login/"
        started = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        elapsed = time.perf_counter() - started
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text, elapsed

    def login(self) -> None:
        status, page, _ = self.request("GET", "/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert status == 200 and token, "login page did not render"
        form = urlencode(
            {"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
        )
        status, _, _ = self.request("POST", "/login/", form)
        assert status == 302, f"login failed with HTTP {status}"


def match_count(page: str) -> str:
    """The list's result count as the page states it ("4,977" or "about 73,000")."""
    start = page.find('id="result-count">')
    text = re.sub(r"<[^>]*>", " ", page[start:]) if start >= 0 else ""  # the words, no markup
    found = re.search(r'^id="result-count">\s*(.*?)\s+customers?\b', text, re.S)
    return re.sub(r"\s+", " ", found.group(1)) if found else "?"


def client(port: int, seed: int, rounds: int, max_id: int) -> dict[str, list[float]]:
    """One client's samples (seconds) per variant, the customer page and /healthz."""
    browser = Browser(port)
    browser.login()
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {v: [] for v in [*LIST_VARIANTS, DETAIL, HEALTHZ]}
    for path in LIST_VARIANTS:  # warm-up: every variant once, not measured
        browser.request("GET", path)
    for _ in range(rounds):
        order = LIST_VARIANTS[:]
        rng.shuffle(order)
        for path in order:
            status, _, t = browser.request("GET", HEALTHZ)
            samples[HEALTHZ].append(t)
            status, _, t = browser.request("GET", path)
            assert status == 200, f"{path} gave HTTP {status}"
            samples[path].append(t)
            cid = rng.randint(1, max_id)
            status, _, t = browser.request("GET", f"/customers/{cid}/")
            assert status in (200, 404), f"/customers/{cid}/ gave HTTP {status}"
            if status == 200:
                samples[DETAIL].append(t)
    return samples


def _client(job: tuple[int, int, int, int]) -> dict[str, list[float]]:
    return client(*job)


def percentiles(samples: list[float]) -> dict[str, float]:
    cut = statistics.quantiles(sorted(samples), n=100, method="inclusive")
    return {"p50": cut[49] * 1000, "p95": cut[94] * 1000, "p99": cut[98] * 1000, "n": len(samples)}


def max_customer_id(env: dict[str, str]) -> int:
    out = run(
        env,
        "shell",
        "-c",
        "from django.db.models import Max; from tend.customers.models import Customer; "
        "print('MAX', Customer.objects.aggregate(m=Max('pk'))['m'])",
    )
    return int(out.split("MAX", 1)[1].split()[0])


def measure(kind: str, env: dict[str, str], args: argparse.Namespace) -> bool:
    max_id = max_customer_id(env)
    with serving(env, args.port):
        probe = Browser(args.port)
        probe.login()
        counts = {}
        for path in LIST_VARIANTS:
            status, page, _ = probe.request("GET", path)
            assert status == 200, f"{path} gave HTTP {status}"
            counts[path] = match_count(page)
        load_before = Path("/proc/loadavg").read_text().split()[:3]
        started = time.perf_counter()
        jobs = [(args.port, seed, args.rounds, max_id) for seed in range(1, args.clients + 1)]
        with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
            per_client = pool.map(_client, jobs)
        wall = time.perf_counter() - started
        load_after = Path("/proc/loadavg").read_text().split()[:3]
    merged: dict[str, list[float]] = {}
    for samples in per_client:
        for name, values in samples.items():
            merged.setdefault(name, []).extend(values)
    stats = {name: percentiles(values) for name, values in merged.items()}
    base = stats[HEALTHZ]["p95"]
    print(
        f"[{kind}] {args.clients} concurrent clients × {args.rounds} rounds in {wall:.0f} s; "
        f"load average before {' '.join(load_before)}, after {' '.join(load_after)}"
    )
    print(
        f"[{kind}]   {'variant':42s} {'matches':>14s} {'n':>4s} {'p50':>7s} {'p95':>7s} "
        f"{'p99':>7s}  p95/healthz  target"
    )
    ok = True
    for name, s in stats.items():
        met = s["p95"] < TARGET_MS
        if name != HEALTHZ:
            ok = ok and met
        print(
            f"[{kind}]   {name:42s} {counts.get(name, ''):>14s} {s['n']:4.0f} "
            f"{s['p50']:7.1f} {s['p95']:7.1f} {s['p99']:7.1f}  "
            f"{s['p95'] / base:9.1f}x  {'' if name == HEALTHZ else ('met' if met else 'MISSED')}"
        )
    print(f"[{kind}] every page p95 < {TARGET_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events-per-customer", type=int, default=50)
    parser.add_argument("--clients", type=int, default=2, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=25, help="rounds over all variants")
    parser.add_argument(
        "--pg-template",
        help="PostgreSQL: copy this database (built by the same demo-data command) "
        "instead of building the data set",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data set for a next run")
    parser.add_argument("--rebuild", action="store_true", help="never reuse a kept data set")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "bench"))
    args = parser.parse_args()
    kinds = ["postgres", "sqlite"] if args.db == "both" else [args.db]
    print(
        f"# pages benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
        f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
    )
    for kind in kinds:
        data_dir = saas_data_dir(args, kind, "pages")
        env = database_env(kind, data_dir, PG_DB)
        try:
            data_set(kind, env, args)
            measure(kind, env, args)
        finally:
            if not args.keep:
                forget_data_set(kind, data_dir, PG_DB)


if __name__ == "__main__":
    main()
