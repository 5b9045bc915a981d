"""`tend demo` on a fresh database also computes what the daily pipeline would have: a year of
health history and today's pipeline, with the steps that are installed."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tend.health.engine import today_utc
from tend.health.models import CustomerHealth, HealthScore
from tend.jobs.models import PipelineStepRun
from tend.web.management.commands.demo import pipeline_steps_installed

pytestmark = pytest.mark.django_db


def test_a_first_demo_run_backfills_health_and_runs_todays_pipeline(
    settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    out = StringIO()
    call_command("demo", no_serve=True, customers=40, months=3, stdout=out)
    text = out.getvalue()
    today = today_utc()
    assert "Scoring health for the last 365 days" in text
    days = set(HealthScore.objects.values_list("day", flat=True))
    assert today in days and today - timedelta(days=1) in days
    assert min(days) >= today - timedelta(days=365)
    assert CustomerHealth.objects.filter(day=today).exists()
    ran = list(PipelineStepRun.objects.order_by("started_at").values_list("step", "as_of"))
    assert ran == [(step, today) for step in pipeline_steps_installed()]
    assert {"rollups", "health"} <= {step for step, _day in ran}

    again = StringIO()
    call_command("demo", no_serve=True, customers=40, months=3, stdout=again)
    assert "Reusing 40 customers" in again.getvalue()
    assert "Scoring health" not in again.getvalue()
