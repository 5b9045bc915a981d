"""Benchmark: playbooks at scale — the date-trigger scan, the executor, the outbox.

For each database (SQLite file, then PostgreSQL), this script
1. builds 100,000 customers with an active subscription renewing in 30 days (bulk inserts)
   and an active "30 days before renewal" playbook whose steps create a task and add a tag;
   times the scan that enrolls them all (seconds, runs/s), the second scan the same day (the
   trigger's day cursor makes it free), and a re-scan of the same day with the cursor wound
   back, where the enrollment guard finds every customer already enrolled (what a worker that
   died before saving the cursor costs);
2. times the executor advancing 10,000 of those runs through both steps (steps/s);
3. puts 5,000 emails in the outbox and times sending them to a local aiosmtpd (a separate
   process that discards what it receives) with the outbox's sender, then times a bare
   smtplib loop sending the same 5,000 messages over one connection from the same process:
   messages/s of each and their ratio (the outbox's price for a claim, a connection, an attempt
   row and a status per message).
It prints one line per database and drops what it created.

Usage: python bench/playbooks.py [--db sqlite|postgres|both] [--customers 100000]
       [--runs 10000] [--emails 5000]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import drop_database, fresh_database, run

PG_DB = "tend_bench_playbooks"

SCRIPT = """
import json, smtplib, time
from datetime import timedelta
from decimal import Decimal
from django.conf import settings
from django.db import connection
from django.utils import timezone
from tend.billing.models import Subscription
from tend.customers.models import Customer, Tag
from tend.playbooks.actions import (
    playbook_create, playbook_set_status, playbooks_scan, runs_advance)
from tend.playbooks.models import PlaybookRun, RunStep, TriggerCursor
from tend.messaging.models import Message, MessageStatus
from tend.messaging.outbox import email_enqueue
from tend.messaging.sending import email_build, messages_send_due

N, RUNS, EMAILS = {customers}, {runs}, {emails}
now = timezone.now()
renews = now + timedelta(days=30)
t = time.perf_counter()
batch = []
for i in range(N):
    batch.append(Customer(name=f"Customer {{i}}", email=f"c{{i}}@example.com",
                          mrr=Decimal(49), signed_up_at=now - timedelta(days=300)))
    if len(batch) == 5000:
        Customer.objects.bulk_create(batch); batch = []
Customer.objects.bulk_create(batch)
ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
subs = []
for pk in ids:
    subs.append(Subscription(customer_id=pk, status="active", mrr=Decimal(49), currency="USD",
                             interval="month", started_at=now - timedelta(days=300),
                             current_period_end=renews))
    if len(subs) == 5000:
        Subscription.objects.bulk_create(subs); subs = []
Subscription.objects.bulk_create(subs)
built = time.perf_counter() - t
Tag.objects.create(name="renewal-reminded")
playbook = playbook_create(
    by=None, name="Renewal reminder, 30 days", trigger="renewal",
    trigger_config={{"days_before": 30}},
    steps=[
        {{"id": "s1", "type": "task",
          "config": {{"title": "Call about the renewal", "due_days": 3}}}},
        {{"id": "s2", "type": "tag_add", "config": {{"tag": "renewal-reminded"}}}},
    ],
)
playbook_set_status(playbook=playbook, status="active", by=None)

t = time.perf_counter(); enrolled = playbooks_scan(); scan_s = time.perf_counter() - t
t = time.perf_counter(); again = playbooks_scan(); again_s = time.perf_counter() - t
cursor = TriggerCursor.objects.get(name=f"playbook:{{playbook.pk}}:day")
day = cursor.position
TriggerCursor.objects.filter(pk=cursor.pk).update(position="")
t = time.perf_counter(); rescan = playbooks_scan(); rescan_s = time.perf_counter() - t
cursor.refresh_from_db()
assert cursor.position == day, (cursor.position, day)

# The executor: advance RUNS runs (claims, both steps, the step log, the timeline).
steps_before = RunStep.objects.count()
t = time.perf_counter(); executed = runs_advance(limit=RUNS); advance_s = time.perf_counter() - t
steps = RunStep.objects.count() - steps_before

# The outbox: EMAILS emails put in (one transaction each, as steps do), then sent.
text = ("Hello,\\n\\nyour subscription renews on " + renews.date().isoformat() + ".\\n\\n"
        + "A line of a renewal reminder, as long as a real one is.\\n" * 12)
html = "<p>" + text.replace("\\n\\n", "</p><p>") + "</p>"
t = time.perf_counter()
for i in range(EMAILS):
    email_enqueue(key=f"bench:{{i}}", to=f"c{{i}}@example.com", subject="Your renewal",
                  text=text, html=html, source="bench", outreach=True)
enqueue_s = time.perf_counter() - t
built_messages = [email_build(m) for m in Message.objects.filter(source="bench").order_by("pk")]
t = time.perf_counter()
sent = 0
while True:
    n = messages_send_due(limit=500)
    sent += n
    if n == 0:
        break
send_s = time.perf_counter() - t
failed = Message.objects.filter(source="bench").exclude(status=MessageStatus.SENT).count()
# The same messages, built the same way, over one SMTP connection with nothing recorded.
t = time.perf_counter()
with smtplib.SMTP(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=30) as smtp:
    for m in built_messages:
        smtp.sendmail(m.from_email, m.recipients(), m.message().as_bytes(linesep="\\r\\n"))
bare_s = time.perf_counter() - t
print("RESULT " + json.dumps({{
    "built_s": built, "enrolled": enrolled, "scan_s": scan_s, "again": again,
    "again_s": again_s, "rescan": rescan, "rescan_s": rescan_s,
    "runs_total": PlaybookRun.objects.count(), "executed": executed, "steps": steps,
    "advance_s": advance_s, "enqueue_s": enqueue_s, "sent": sent, "failed": failed,
    "send_s": send_s, "bare_s": bare_s, "emails": len(built_messages),
}}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sink(port: int) -> subprocess.Popen[bytes]:
    """aiosmtpd in its own process, discarding every message (so it does not compete with
    the sender for the GIL)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c",
         "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("aiosmtpd did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--emails", type=int, default=5_000)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        port = _free_port()
        server = _sink(port)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                env = fresh_database(kind, Path(tmp), PG_DB)
                env.update(
                    TEND_EMAIL_URL=f"smtp://127.0.0.1:{port}",
                    TEND_EMAIL_DAILY_CAP="0",  # no cap: all 5,000 go out now
                    TEND_PLAYBOOK_HOUR="0",  # the date trigger fires whatever the hour
                )
                script = SCRIPT.format(customers=args.customers, runs=args.runs, emails=args.emails)
                out = run(env, "shell", "-c", script)
                r = json.loads(out.split("RESULT ", 1)[1].splitlines()[0])
                outbox_rate = r["sent"] / r["send_s"]
                bare_rate = r["emails"] / r["bare_s"]
                print(
                    f"[{kind}] {args.customers:,} customers renewing in 30 days (built in "
                    f"{r['built_s']:.0f} s): scan {r['scan_s']:.1f} s enrolling "
                    f"{r['enrolled']:,} ({r['enrolled'] / r['scan_s']:,.0f} runs/s); second scan "
                    f"{r['again_s'] * 1000:.1f} ms ({r['again']} new); same day re-scanned "
                    f"without its cursor {r['rescan_s']:.1f} s ({r['rescan']} new)\n"
                    f"[{kind}] executor: {r['executed']:,} steps for {args.runs:,} runs in "
                    f"{r['advance_s']:.1f} s = {r['executed'] / r['advance_s']:,.0f} steps/s "
                    f"({r['steps']:,} step rows)\n"
                    f"[{kind}] outbox: enqueue {r['emails'] / r['enqueue_s']:,.0f}/s; sent "
                    f"{r['sent']:,} ({r['failed']} not sent) in {r['send_s']:.1f} s = "
                    f"{outbox_rate:,.0f} msg/s; bare smtplib, one connection: "
                    f"{r['bare_s']:.1f} s = {bare_rate:,.0f} msg/s; outbox ÷ bare = "
                    f"{outbox_rate / bare_rate:.2f}"
                )
                drop_database(kind, PG_DB)
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
