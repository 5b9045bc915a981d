"""``tend demo``: what ``make demo`` runs. Migrate, fill an empty database with demo data
(then a year of health history and today's daily pipeline: segments, lifecycle rules,
Today), make sure an owner login exists, print it, and serve the app with a worker.

Running it again reuses the data and the login (kept in the data folder, mode 0600).
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import import_string

from tend.accounts.actions import user_create
from tend.accounts.models import Role, User
from tend.customers.models import Customer
from tend.jobs.pipeline import PIPELINE, pipeline_run

DEMO_USERNAME = "owner"
DEMO_SEGMENTS = [
    (
        "Big accounts needing care",
        "Paying at least 200 a month and at risk, renewing, or quiet for two weeks.",
        {"all": [
            {"field": "mrr", "op": "gte", "value": 200},
            {"any": [
                {"field": "stage", "op": "in", "value": ["at_risk", "renewal_due"]},
                {"field": "last_seen", "op": "more_than_days_ago", "value": 14},
            ]},
        ]},
    ),
    (
        "Health red",
        "Customers whose health score is red today.",
        {"field": "health_colour", "op": "eq", "value": "red"},
    ),
    (
        "New this quarter",
        "Signed up in the last 90 days.",
        {"field": "signed_up", "op": "within_last", "value": 90},
    ),
]  # fmt: skip
HEALTH_DAYS = 365
# Built-in playbooks the demo switches on (the others are installed as drafts).
DEMO_PLAYBOOKS_ON = ["onboarding", "renewal-reminders", "at-risk-rescue", "win-back"]


def pipeline_steps_installed() -> list[str]:
    """The daily pipeline's steps whose code is installed (each app brings its own)."""
    names = []
    for step in PIPELINE:
        try:
            import_string(step.function)
        except ImportError:
            continue
        names.append(step.name)
    return names


class Command(BaseCommand):
    help = "Set up a demo install (migrate, demo data, owner login) and serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--business", default="saas", choices=["saas", "course", "shop"])
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--bind", default=os.environ.get("TEND_BIND", "127.0.0.1:8000"))
        parser.add_argument("--no-serve", action="store_true", help="set up, print, and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database ready: " + _describe_db())
        password = self._owner_login()
        if not Customer.objects.exists():
            self.stdout.write("Creating demo data (first run only)…")
            call_command(
                "demo_data",
                business=options["business"],
                customers=options["customers"],
                months=options["months"],
                seed=options["seed"],
            )
            self._derive()
        else:
            self.stdout.write(f"Reusing {Customer.objects.count():,} customers already here.")
        host, _, port = options["bind"].rpartition(":")
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Tend is at  http://{host}:{port}/\n"
                f"  Log in as   {DEMO_USERNAME}\n"
                f"  Password    {password}\n"
                f"  (kept in {self._login_file()}; Ctrl-C stops the app and the worker)\n"
            )
        )
        if not options["no_serve"]:
            call_command("serve", bind=options["bind"], with_worker=True)

    def _derive(self) -> None:
        """What the daily pipeline would have computed had Tend run all along: a year of
        health history (so the customer page shows trends at once), then today's pipeline
        (segments, lifecycle rules, Today), with whichever of its steps are installed."""
        from tend.health.engine import health_backfill, today_utc

        started = time.perf_counter()
        today = today_utc()
        self.stdout.write(f"Scoring health for the last {HEALTH_DAYS} days…")
        counts = health_backfill(HEALTH_DAYS, end=today - timedelta(days=1))
        self.stdout.write(
            f"  {counts.get('scored', 0):,} scores in {time.perf_counter() - started:.0f} s"
        )
        self._segments()
        self._churn_model()
        steps = pipeline_steps_installed()
        self.stdout.write(f"Running today's pipeline ({', '.join(steps)})…")
        for result in pipeline_run(as_of=today, only=steps):
            done = ", ".join(f"{k} {v:,}" for k, v in result.counts.items()) or "—"
            self.stdout.write(f"  {result.name}: {result.seconds:.1f} s ({done})")
        self._playbooks()
        self._lifetime()

    def _lifetime(self) -> None:
        """The retention projection (sBG per cohort, Cox) for /predict/lifetime/."""
        from tend.predict.retention import lifetime_fit

        summary = lifetime_fit(label="demo")
        self.stdout.write(
            f"Fitting customer lifetime: sBG {summary['sbg']['trained']} fits, "
            f"Cox {summary['cox']} ({sum(summary['seconds'].values()):.1f} s)"
        )

    def _churn_model(self) -> None:
        """Train the churn model on the demo's history (so today's pipeline scores everyone
        with it), as ``tend train`` would; too little history is said, not fatal."""
        try:
            from tend.predict.actions import churn_train
            from tend.predict.errors import NotEnoughData
        except ImportError:
            return
        started = time.perf_counter()
        self.stdout.write("Training the churn model…")
        try:
            model = churn_train(label="demo", measure_memory=False)
        except NotEnoughData as exc:
            self.stdout.write(f"  {exc}")
            return
        metrics = model.metrics
        self.stdout.write(
            f"  chose {model.kind}: backtest AUC {metrics[model.kind]['auc']:.3f} vs baseline "
            f"{metrics['baseline']['auc']:.3f} in {time.perf_counter() - started:.0f} s"
        )
        # The week before today scored too (each day from what was known then), so the
        # customer page shows a trend and Today can tell whose risk rose this week.
        from tend.health.engine import today_utc
        from tend.predict.scoring import churn_score_day

        today = today_utc()
        for back in range(7, 0, -1):
            churn_score_day(today - timedelta(days=back))

    def _playbooks(self) -> None:
        """Every built-in playbook installed; four switched on as a founder would on day one,
        the at-risk rescue started by hand for today's red customers (a fifth held out as a
        control group), and their first steps run: emails queued in the outbox (the worker
        sends them) and tasks on the owner's list. The owner gets the daily digest."""
        from tend.playbooks.actions import (
            playbook_gallery,
            playbook_install,
            playbook_set_status,
            playbook_start,
            playbook_update,
        )
        from tend.playbooks.engine import playbooks_scan, runs_advance
        from tend.segments.models import Segment

        owner = User.objects.get(username=DEMO_USERNAME)
        User.objects.filter(pk=owner.pk).update(digest="daily")
        installed = {
            entry.key: playbook_install(key=entry.key, by=owner) for entry in playbook_gallery()
        }
        for key in DEMO_PLAYBOOKS_ON:
            playbook = installed[key]
            if key == "at-risk-rescue":
                playbook = playbook_update(playbook=playbook, by=owner, holdout_percent=20)
            playbook_set_status(playbook=playbook, status="active", by=owner)
        red = Segment.objects.filter(name="Health red").first()
        started = 0
        if red is not None:
            started = playbook_start(
                playbook=installed["at-risk-rescue"],
                customers=Customer.objects.filter(segment_memberships__segment=red),
                by=owner,
            )
        scanned = playbooks_scan()  # renewals due in 60, 30 or 7 days, birthdays…
        steps = 0
        while done := runs_advance(limit=500):
            steps += done
        self.stdout.write(
            f"Playbooks: {len(installed)} installed, {len(DEMO_PLAYBOOKS_ON)} on; at-risk rescue "
            f"started for {started} red customers; {scanned} dated runs; {steps} steps run"
        )

    def _segments(self) -> None:
        """A few saved segments a founder would keep, so the segments page, the board's and the
        dashboard's segment filters have something to show (members come from the pipeline)."""
        from tend.segments.actions import segment_create
        from tend.segments.models import Segment

        for name, description, condition in DEMO_SEGMENTS:
            if not Segment.objects.filter(name=name).exists():
                segment_create(
                    by=None, name=name, description=description, condition=condition,
                    label="demo", refresh=False,
                )  # fmt: skip

    def _login_file(self) -> Path:
        return Path(settings.DATA_DIR) / "demo-login.txt"

    def _owner_login(self) -> str:
        path = self._login_file()
        user = User.objects.filter(username=DEMO_USERNAME).first()
        if user is not None and path.exists():
            kept = _read_login(path.read_text())
            if kept:
                return kept
        password = secrets.token_urlsafe(12)
        if user is None:
            user_create(
                username=DEMO_USERNAME,
                password=password,
                role=Role.OWNER,
                email="owner@example.com",
            )
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"username: {DEMO_USERNAME}\npassword: {password}\n")
        return password


def _read_login(text: str) -> str:
    """The password kept in demo-login.txt (``username: …`` / ``password: …`` lines; a file
    written by an older version holds the bare password)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "password":
            return value.strip()
    return lines[0] if len(lines) == 1 and ":" not in lines[0] else ""


def _describe_db() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite file {db['NAME']}"
    return f"PostgreSQL {db.get('HOST') or 'localhost'}/{db['NAME']}"
