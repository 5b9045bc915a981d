"""Hostile and broken input on the operations surfaces: stored text that is HTML or huge, odd
schedule rows, query strings and paths the endpoints do not take — never a 5xx, and a clear
error naming the parameter."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tend.accounts.actions import apikey_create
from tend.jobs.models import ScheduledRun
from tend.jobs.tests.ops_helpers import make_trouble
from tend.messaging.models import Message

pytestmark = pytest.mark.django_db


def test_stored_html_is_escaped_and_huge_errors_are_cut(owner_client):
    trouble = make_trouble()
    Message.objects.filter(pk=trouble.failed_email.pk).update(
        last_error="<script>alert(1)</script>" + "x" * 1_000_000,
        subject="<img src=x onerror=alert(2)>",
        to='"><b>bold</b>@example.com',
    )
    response = owner_client.get("/operations/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page and "<b>bold</b>" not in page
    assert len(page) < 200_000  # the 1 MB error is cut, not shown


def test_odd_schedule_rows_and_a_broken_cron_do_not_break_the_page(owner_client, settings):
    settings.TEND_SCHEDULES = {
        **settings.TEND_SCHEDULES,
        "broken": {"cron": "61 25 * * *", "task": "tend.jobs.tasks.changes_react"},
    }
    now = timezone.now()
    ScheduledRun.objects.create(name="broken", due_at=now, task_id="not-a-uuid")
    ScheduledRun.objects.create(name="daily-pipeline", due_at=now, task_id="")
    ScheduledRun.objects.create(name="gone-from-settings", due_at=now - timedelta(days=1))
    page = owner_client.get("/operations/").content.decode()
    row = page.split('id="schedule-broken"')[1].split("</tr>")[0]
    assert "61 25 * * *" in row
    assert "gone-from-settings" not in page
    api = owner_client.get("/api/v1/operations")
    assert api.status_code == 200
    broken = next(s for s in api.json()["schedules"] if s["name"] == "broken")
    assert broken["next_due_at"] is None and broken["last_status"] == ""


@pytest.mark.parametrize(
    "path",
    [
        "/operations/runs/abc/retry/",
        "/operations/runs/-1/retry/",
        "/operations/messages/1e3/retry/",
        "/operations/messages/%00/retry/",
        "/operations/runs/%ED%A0%80/retry/",
    ],
)
def test_a_retry_path_that_is_not_an_id_is_refused(owner_client, path):
    # 404: no such URL; 400: the site-wide guard against NUL bytes in a request.
    assert owner_client.post(path).status_code in {400, 404}


def test_the_page_ignores_query_strings_and_refuses_nul_bytes(owner_client):
    assert owner_client.get("/operations/?y=%ED%A0%80&z=" + "9" * 5000).status_code == 200
    assert owner_client.get("/operations/?x=%00").status_code == 400


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.text(min_size=1, max_size=40), value=st.text(max_size=200))
def test_any_query_parameter_is_refused_by_name_never_a_5xx(owner, name, value):
    raw = apikey_create(name="h", kind="read", by=owner)[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    query = f"{quote(name, errors='surrogatepass')}={quote(value, errors='surrogatepass')}"
    response = client.get(f"/api/v1/operations?{query}")
    assert response.status_code in {200, 400, 422}, (name, value, response.status_code)
    if response.status_code == 422:
        assert response.json()["errors"], response.content
