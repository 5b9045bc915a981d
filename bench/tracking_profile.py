"""Where a tracking batch's time goes, in one process: cProfile of the view plus every SQL
statement's wall time (Django's ``execute_wrapper``), for realistic batches sent through the
Django test client to ``/v1/batch`` (the same view, parser and writes ``tend serve`` runs).

Runs against the database of ``TEND_DATABASE_URL`` (give it a scratch copy of a data set, e.g.
``createdb -T tend_tpl_saas100k h_x_prof``; it writes a key, 1,000 companies and the events).
The bodies are built before profiling starts; batches alternate over ``--mix``.

Usage: TEND_DATABASE_URL=postgres://…/SCRATCH python bench/tracking_profile.py [--batches 60]
       [--mix realistic|track|page|identify|group] [--top 25] [--out FILE.prof]
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import os
import pstats
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from tracking import fill, template  # noqa: E402

from tend.accounts.actions import apikey_create, user_create  # noqa: E402
from tend.accounts.models import Role, User  # noqa: E402

SQL: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])


def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        shape = re.sub(r"(%s|\$\d+)(, (%s|\$\d+))+", "%s…", sql)
        shape = re.sub(r"\s+", " ", re.sub(r'SAVEPOINT "[^"]+"', "SAVEPOINT …", shape))[:150]
        entry = SQL[shape]
        entry[0] += 1
        entry[1] += time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--mix", default="realistic")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out")
    args = parser.parse_args()
    user = User.objects.filter(username="bench-prof").first() or user_create(
        username="bench-prof", password="bench-password-123", role=Role.OWNER
    )
    key = apikey_create(name=f"prof-{time.time()}", kind="write", by=user)[1]
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    client = Client(HTTP_HOST="localhost")
    setup: list[dict[str, Any]] = []
    for n in range(args.customers):
        setup.append({"type": "group", "userId": f"user-{n}", "groupId": f"co-{n}",
                      "traits": {"name": f"Co {n}", "employees": 10}})  # fmt: skip
        setup.append({"type": "identify", "userId": f"user-{n}",
                      "traits": {"name": f"User {n}", "email": f"user{n}@co{n}.test"}})  # fmt: skip
    import json

    for start in range(0, len(setup), 200):
        client.post("/v1/batch", json.dumps({"batch": setup[start : start + 200]}),
                    content_type="application/json", **auth)  # fmt: skip
    rng = random.Random(1)
    stamp = int(time.time())  # trait values no earlier run sent: every identify writes
    kinds = args.mix.split(",")
    bodies = [
        fill(template(rng, kinds[n % len(kinds)], args.batch, args.customers)[0], stamp + n)
        for n in range(args.batches)
    ]
    for body in bodies[:3]:  # warm: first-request imports, connection
        client.post("/v1/batch", body.replace(b"-4", b"-5"), content_type="application/json",
                    **auth)  # fmt: skip
    profile = cProfile.Profile()
    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        profile.enable()
        for body in bodies:
            response = client.post("/v1/batch", body, content_type="application/json", **auth)
            assert response.status_code == 200, response.content[:300]
        profile.disable()
    wall = time.perf_counter() - started
    print(f"{args.batches} batches of {args.batch} ({args.mix}): {wall:.2f} s, "
          f"{wall / args.batches * 1000:.1f} ms per batch")  # fmt: skip
    total_sql = sum(v[1] for v in SQL.values())
    statements = sum(v[0] for v in SQL.values()) / args.batches
    print(
        f"SQL: {statements:.1f} statements per batch, {total_sql / args.batches * 1000:.1f} ms "
        f"per batch ({total_sql / wall:.0%} of wall)"
    )
    print("| Statement | Per batch | ms per batch |")
    print("|---|---|---|")
    for shape, (n, seconds) in sorted(SQL.items(), key=lambda kv: -kv[1][1])[: args.top]:
        print(f"| `{shape}` | {n / args.batches:.1f} | {seconds / args.batches * 1000:.2f} |")
    if args.out:
        profile.dump_stats(args.out)
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
