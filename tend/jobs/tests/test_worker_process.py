"""A real `tend worker` process runs queued tasks from the database queue."""

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from tend.activity.models import DailyRollup, Event
from tend.activity.tasks import rollups_refresh
from tend.factories import make_customer
from tend.jobs.models import ScheduledRun
from tend.jobs.schedule import enqueue_due

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    return (
        f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


def _run_worker() -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env.update({"TEND_DATABASE_URL": _database_url(), "TEND_TASKS_IMMEDIATE": "0"})
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tend.cli",
            "worker",
            "--batch",
            "--no-schedule",
            "--interval",
            "0.1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_queued_rollup_job_is_run_by_a_separate_worker_process(settings):
    settings.TASKS = DB_BACKEND
    customer = make_customer()
    now = datetime.now(tz=UTC)
    Event.objects.bulk_create(
        [
            Event(customer=customer, name="Logged In", timestamp=now, message_id=f"m{i}")
            for i in range(3)
        ]
    )
    result = rollups_refresh.enqueue()
    assert DBTaskResult.objects.get(id=result.id).status == "READY"

    worker = _run_worker()

    assert worker.returncode == 0, worker.stderr
    assert DBTaskResult.objects.get(id=result.id).status == "SUCCESSFUL"
    rollup = DailyRollup.objects.get(customer=customer)
    assert (rollup.name, rollup.count, rollup.day) == ("Logged In", 3, now.date())


@pytest.mark.django_db
def test_a_schedule_is_enqueued_once_per_due_time_however_often_workers_look(settings):
    settings.TASKS = DB_BACKEND
    settings.TEND_SCHEDULES = {
        "rollups": {"cron": "15 * * * *", "task": "tend.activity.tasks.rollups_refresh"}
    }
    first = datetime(2026, 3, 1, 10, 20, tzinfo=UTC)
    assert enqueue_due(first) == ["rollups"]
    assert enqueue_due(first.replace(minute=50)) == []
    assert enqueue_due(first.replace(hour=11, minute=16)) == ["rollups"]
    due_times = list(ScheduledRun.objects.order_by("due_at").values_list("due_at", flat=True))
    assert due_times == [first.replace(minute=15), first.replace(hour=11, minute=15)]
    assert DBTaskResult.objects.count() == 2
