"""Benchmark: customers list and customer page latency at 100,000 customers / ~5M events.

For each database (SQLite file, then PostgreSQL), this script
1. builds the data set once with `tend demo-data` (reused on later runs unless --rebuild),
2. starts `tend serve` (gunicorn, 2 processes) exactly as production would,
3. logs in over HTTP and requests many list variants and customer pages one after another,
4. prints p50/p95/p99 per page kind, next to /healthz measured in the same run as a
   baseline (the ratio tells how much of the time is ours when the machine is noisy).

Usage: python bench/pages.py [--db sqlite|postgres|both] [--customers 100000]
       [--events-per-customer 50] [--requests 300] [--rebuild]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import time
from pathlib import Path
from urllib.parse import urlencode

from common import ROOT, database_env, recreate_database, run, serving

PG_DB = "tend_bench_pages"
PASSWORD = "bench-password-123"


def build(kind: str, env: dict[str, str], args: argparse.Namespace) -> None:
    marker = (
        Path(env["TEND_DATA_DIR"]) / f"built-{kind}-{args.customers}-{args.events_per_customer}"
    )
    if marker.exists() and not args.rebuild:
        print(f"[{kind}] reusing data set ({marker.name}); applying new migrations")
        run(env, "migrate", "-v", "0")
        return
    recreate_database(kind, Path(env["TEND_DATA_DIR"]), PG_DB)
    started = time.perf_counter()
    run(env, "migrate", "-v", "0")
    run(
        env,
        "demo-data",
        "--business",
        "saas",
        "--customers",
        str(args.customers),
        "--months",
        "24",
        "--seed",
        "7",
        "--events-per-customer",
        str(args.events_per_customer),
    )
    run(env, "createuser", "bench", "--role", "viewer", "--password", PASSWORD)
    print(f"[{kind}] built in {time.perf_counter() - started:.0f} s")
    marker.touch()


class Browser:
    """A keep-alive HTTP connection with a session cookie, like one founder's browser."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
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
            {"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
        )
        status, _, _ = self.request("POST", "/login/", form)
        assert status == 302, f"login failed with HTTP {status}"


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cut[49] * 1000, "p95": cut[94] * 1000, "p99": cut[98] * 1000, "n": len(samples)}


def measure(
    kind: str, env: dict[str, str], args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    port = 8765
    with serving(env, port):
        browser = Browser(port)
        browser.login()
        rng = random.Random(1)
        ids_page = browser.request("GET", "/customers/?sort=-mrr")[1]
        ids = sorted({int(i) for i in re.findall(r'href="/customers/(\d+)/"', ids_page)})
        max_id = args.customers  # demo ids are dense from 1 in a fresh database
        list_variants = [
            "/customers/",
            "/customers/?sort=-mrr",
            "/customers/?sort=-last_seen",
            "/customers/?stage=at_risk",
            "/customers/?stage=churned&sort=name",
            "/customers/?q=acme",
            "/customers/?q=gmail.com",
            "/customers/?tag=vip",
            "/customers/?page=50",
            "/customers/?page=1000&sort=-signed_up",
            "/customers/?sort=stage",
            "/customers/?sort=-mrr&stage=established",
        ]
        results: dict[str, list[float]] = {"healthz": [], "list": [], "detail": []}
        per_variant: dict[str, list[float]] = {v: [] for v in list_variants}
        for _ in range(20):  # warm up caches and connections
            browser.request("GET", rng.choice(list_variants))
        for i in range(args.requests):
            status, _, t = browser.request("GET", "/healthz")
            results["healthz"].append(t)
            path = list_variants[i % len(list_variants)]
            status, _, t = browser.request("GET", path)
            assert status == 200, f"{path} gave HTTP {status}"
            results["list"].append(t)
            per_variant[path].append(t)
            cid = rng.choice(ids) if i % 10 == 0 and ids else rng.randint(1, max_id)
            status, _, t = browser.request("GET", f"/customers/{cid}/")
            assert status in (200, 404), f"/customers/{cid}/ gave HTTP {status}"
            if status == 200:
                results["detail"].append(t)
        for path, samples in per_variant.items():
            ordered = sorted(samples)
            print(
                f"[{kind}]   {path:45s} median={statistics.median(ordered) * 1000:6.1f} ms  "
                f"max={ordered[-1] * 1000:6.1f} ms"
            )
        return {name: percentiles(samples) for name, samples in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events-per-customer", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "bench"))
    args = parser.parse_args()
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"# pages benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs")
    for kind in kinds:
        env = database_env(kind, data_dir, PG_DB)
        build(kind, env, args)
        stats = measure(kind, env, args)
        for name, s in stats.items():
            ratio = s["p95"] / stats["healthz"]["p95"] if name != "healthz" else 1.0
            print(
                f"[{kind}] {name:8s} n={s['n']:4.0f}  p50={s['p50']:6.1f} ms  "
                f"p95={s['p95']:6.1f} ms  p99={s['p99']:6.1f} ms  p95/healthz={ratio:5.1f}x"
            )
        ok = all(stats[n]["p95"] < 150 for n in ("list", "detail"))
        print(f"[{kind}] target p95 < 150 ms: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
