"""What the request-metrics middleware costs: requests/s of small pages through Django's WSGI
handler with and without ``RequestMetricsMiddleware``, in one process, alternating rounds.

    python bench/observability_middleware.py              # in-process registry (runserver)
    python bench/observability_middleware.py --multiproc  # mmap files, as under `tend serve`

In-process, so the numbers are the middleware's own cost without network or gunicorn noise;
recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 8
PER_ROUND = 1000
PAGES = ["/healthz", "/login/"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--multiproc", action="store_true")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="tend-bench-obs-"))
    os.environ["TEND_DATA_DIR"] = str(data)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
    if args.multiproc:
        (data / "prom").mkdir()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(data / "prom")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    ours = "tend.observability.middleware.RequestMetricsMiddleware"
    with_mw = WSGIHandler()
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != ours]):
        without_mw = WSGIHandler()

    def environ(path: str) -> dict[str, object]:
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
        }

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        assert status.startswith("200"), status

    def rate(handler: WSGIHandler, path: str) -> float:
        # CPU time of this process: other programs on a shared machine do not count.
        start = time.process_time()
        for _ in range(PER_ROUND):
            b"".join(handler(environ(path), start_response))
        return PER_ROUND / (time.process_time() - start)

    mode = "multiprocess (mmap)" if args.multiproc else "in-process registry"
    print(f"{mode}: {ROUNDS} alternating rounds of {PER_ROUND} requests, median, CPU time")
    for path in PAGES:
        for handler in (with_mw, without_mw):
            rate(handler, path)  # warm up
        on, off = [], []
        for i in range(ROUNDS):  # alternate which goes first, so neither always runs warm
            if i % 2:
                on.append(rate(with_mw, path))
                off.append(rate(without_mw, path))
            else:
                off.append(rate(without_mw, path))
                on.append(rate(with_mw, path))
        r_on, r_off = statistics.median(on), statistics.median(off)
        cost_us = (1 / r_on - 1 / r_off) * 1e6
        print(
            f"{path:10} without {r_off:7.0f} req/s  with {r_on:7.0f} req/s  "
            f"({100 * (r_on / r_off - 1):+.1f} %, {cost_us:+.0f} µs a request)"
        )
    # Its parts, one at a time (µs each), to tell its cost from the machine's noise.
    import timeit
    import uuid

    from tend.observability import prom

    m = prom.request_metrics()
    n = 20_000
    parts = {
        "request id (uuid4)": lambda: uuid.uuid4().hex,
        "counter labels+inc": lambda: m.requests.labels("GET", "healthz", "2xx").inc(),
        "histogram labels+observe": lambda: m.latency.labels("healthz").observe(0.01),
        "in-flight inc+dec": lambda: (m.in_flight.inc(), m.in_flight.dec()),
    }
    print(
        "parts: "
        + ", ".join(
            f"{name} {timeit.timeit(fn, number=n) / n * 1e6:.1f} µs" for name, fn in parts.items()
        )
    )


if __name__ == "__main__":
    main()
