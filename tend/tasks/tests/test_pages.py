"""The task list page, the new-task form, the htmx row actions, the customer panel and the
Today section, through HTTP."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.customers.models import TimelineEntry, TimelineKind
from tend.factories import make_customer
from tend.tasks.actions import task_complete, task_create
from tend.tasks.models import Task, TaskStatus
from tend.today.actions import today_date

pytestmark = pytest.mark.django_db
TODAY = today_date()
HTMX = {"HTTP_HX_REQUEST": "true"}


def ids_in(html: str) -> list[int]:
    return [int(m) for m in re.findall(r'id="task-(\d+)"', html)]


@pytest.fixture
def spread(owner: Any, member: Any) -> dict[str, Task]:
    acme = make_customer("Acme")
    return {
        "overdue": task_create(
            title="Overdue call", customer=acme, assignee=member, due_on=TODAY - timedelta(days=3)
        ),
        "today_high": task_create(
            title="Urgent today", customer=acme, assignee=owner, due_on=TODAY, priority=3
        ),
        "today_low": task_create(title="Low today", assignee=member, due_on=TODAY, priority=1),
        "upcoming": task_create(
            title="Next month", assignee=member, due_on=TODAY + timedelta(days=30)
        ),
        "someday": task_create(title="Someday"),
        "done": task_complete(task=task_create(title="Finished", assignee=member), by=owner),
    }


def test_tabs_select_tasks_by_due_day_in_due_then_priority_order(
    member_client: Any, spread: dict[str, Task]
) -> None:
    def listed(query: str) -> list[int]:
        response = member_client.get(f"/tasks/{query}")
        assert response.status_code == 200
        return ids_in(response.content.decode())

    s = spread
    assert listed("") == [
        s[k].pk for k in ("overdue", "today_high", "today_low", "upcoming", "someday")
    ]
    assert listed("?tab=today") == [s["today_high"].pk, s["today_low"].pk]
    assert listed("?tab=overdue") == [s["overdue"].pk]
    assert listed("?tab=upcoming") == [s["upcoming"].pk, s["someday"].pk]
    assert listed("?tab=done") == [s["done"].pk]
    assert listed("?tab=open&who=mine") == [s[k].pk for k in ("overdue", "today_low", "upcoming")]
    assert listed("?tab=nonsense") == listed("")


def test_a_row_shows_customer_relative_due_priority_assignee_and_overdue_in_red(
    member_client: Any, spread: dict[str, Task]
) -> None:
    html = member_client.get("/tasks/").content.decode()
    row = html[html.index(f'id="task-{spread["overdue"].pk}"') :]
    row = row[: row.index("</li>")]
    assert "Overdue call" in row and "Acme" in row
    assert "3 days overdue" in row and "task-overdue" in row
    assert f"/customers/{spread['overdue'].customer_id}/" in row
    assert "Normal" in row and 'task-assignee">mike</span>' in row
    assert "Due today" in html and "Due in" not in row


def test_a_playbook_task_says_where_it_came_from(member_client: Any) -> None:
    task_create(title="From the engine", source="playbook", source_id="999999")
    html = member_client.get("/tasks/").content.decode()
    assert "from a playbook" in html


def test_complete_with_htmx_swaps_the_row_and_writes_the_timeline(
    member_client: Any, spread: dict[str, Task]
) -> None:
    task = spread["overdue"]
    response = member_client.post(f"/tasks/{task.pk}/complete/", {"next": "/tasks/"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith("<li") and f'id="task-{task.pk}"' in html
    assert "Reopen" in html and "Done: Overdue call" in html
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE
    assert TimelineEntry.objects.filter(
        customer=task.customer, kind=TimelineKind.TASK, data__msg="task_done"
    ).exists()
    response = member_client.post(f"/tasks/{task.pk}/reopen/", **HTMX)
    assert "Complete" in response.content.decode()
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_without_htmx_an_action_redirects_back_with_a_message(
    member_client: Any, spread: dict[str, Task]
) -> None:
    task = spread["today_low"]
    response = member_client.post(
        f"/tasks/{task.pk}/complete/", {"next": "/tasks/?tab=today"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/tasks/?tab=today"
    assert "Done: Low today" in response.content.decode()
    response = member_client.post(f"/tasks/{task.pk}/complete/", {"next": "https://evil.example/"})
    assert response["Location"] == "/tasks/"


def test_snooze_tomorrow_next_week_and_a_picked_date(
    member_client: Any, spread: dict[str, Task]
) -> None:
    task = spread["today_low"]
    member_client.post(f"/tasks/{task.pk}/snooze/", {"when": "tomorrow"}, **HTMX)
    assert Task.objects.get(pk=task.pk).due_on == TODAY + timedelta(days=1)
    member_client.post(f"/tasks/{task.pk}/snooze/", {"when": "next_week"}, **HTMX)
    monday = Task.objects.get(pk=task.pk).due_on
    assert monday.weekday() == 0 and 1 <= (monday - TODAY).days <= 7
    day = TODAY + timedelta(days=40)
    member_client.post(
        f"/tasks/{task.pk}/snooze/", {"when": "date", "until": day.isoformat()}, **HTMX
    )
    assert Task.objects.get(pk=task.pk).due_on == day


@pytest.mark.parametrize(
    "until", ["", "0000-00-00", "10000-01-01", "2026-02-30", "yesterday", "x" * 500, "\x00"]
)
def test_a_bad_snooze_date_is_a_422_naming_the_field_and_changes_nothing(
    member_client: Any, spread: dict[str, Task], until: str
) -> None:
    task = spread["today_low"]
    response = member_client.post(
        f"/tasks/{task.pk}/snooze/", {"when": "date", "until": until}, **HTMX
    )
    assert response.status_code == 422
    assert "Snooze until:" in response.content.decode()
    assert Task.objects.get(pk=task.pk).due_on == TODAY


def test_snoozing_to_the_past_is_refused(member_client: Any, spread: dict[str, Task]) -> None:
    task = spread["today_low"]
    past = (TODAY - timedelta(days=1)).isoformat()
    response = member_client.post(
        f"/tasks/{task.pk}/snooze/", {"when": "date", "until": past}, **HTMX
    )
    assert response.status_code == 422 and "after today" in response.content.decode()


def test_reassign_to_a_member_to_nobody_and_not_to_a_viewer(
    member_client: Any, spread: dict[str, Task], owner: Any, viewer: Any
) -> None:
    task = spread["today_low"]
    response = member_client.post(f"/tasks/{task.pk}/reassign/", {"assignee": owner.pk}, **HTMX)
    assert response.status_code == 200 and Task.objects.get(pk=task.pk).assignee == owner
    response = member_client.post(f"/tasks/{task.pk}/reassign/", {"assignee": viewer.pk}, **HTMX)
    assert response.status_code == 422 and "Assignee:" in response.content.decode()
    assert Task.objects.get(pk=task.pk).assignee == owner
    for bad in ("abc", "99999999", "1" * 40):
        response = member_client.post(f"/tasks/{task.pk}/reassign/", {"assignee": bad}, **HTMX)
        assert response.status_code == 422
    member_client.post(f"/tasks/{task.pk}/reassign/", {"assignee": ""}, **HTMX)
    assert Task.objects.get(pk=task.pk).assignee is None


def test_new_task_by_hand(member_client: Any, member: Any) -> None:
    acme = make_customer("Acme")
    page = member_client.get(f"/tasks/new/?customer={acme.pk}")
    assert page.status_code == 200 and "Acme" in page.content.decode()
    response = member_client.post(
        "/tasks/new/",
        {
            "title": "Send the contract",
            "customer": acme.pk,
            "due_on": (TODAY + timedelta(days=2)).isoformat(),
            "priority": "3",
            "assignee": member.pk,
            "notes": "PDF in the drive",
            "next": f"/customers/{acme.pk}/",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/customers/{acme.pk}/"
    task = Task.objects.get()
    assert (task.title, task.customer, task.priority, task.assignee, task.notes) == (
        "Send the contract",
        acme,
        3,
        member,
        "PDF in the drive",
    )
    assert task.created_by == member


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"due_on": "0000-00-00"}, "due_on"),
        ({"due_on": "10000-01-01"}, "due_on"),
        ({"due_on": "1999-12-31"}, "due_on"),
        ({"priority": "7"}, "priority"),
        ({"customer": "999999"}, "customer"),
        ({"customer": "abc"}, "customer"),
        ({"assignee": "999999"}, "assignee"),
    ],
)
def test_a_bad_new_task_is_a_422_with_the_error_by_the_field(
    member_client: Any, data: dict[str, str], field: str
) -> None:
    response = member_client.post("/tasks/new/", {"title": "Call", "priority": "2", **data})
    assert response.status_code == 422
    assert f'id="id_{field}-errors"' in response.content.decode() or field == "customer"
    assert Task.objects.count() == 0


def test_the_customer_search_finds_customers(member_client: Any) -> None:
    make_customer("Globex Corp")
    html = member_client.get("/tasks/customers/?q=glob").content.decode()
    assert "Globex Corp" in html and 'name="customer"' in html
    assert member_client.get("/tasks/customers/?q=%00").status_code < 500


def test_bulk_complete(member_client: Any, spread: dict[str, Task]) -> None:
    ids = [spread["overdue"].pk, spread["today_low"].pk, "x", "9" * 30]
    response = member_client.post("/tasks/complete/", {"ids": ids, "next": "/tasks/"}, follow=True)
    assert "2 tasks done." in response.content.decode()
    assert set(Task.objects.done().values_list("pk", flat=True)) == {
        spread["overdue"].pk,
        spread["today_low"].pk,
        spread["done"].pk,
    }


def test_the_list_page_reads_a_fixed_number_of_queries(member_client: Any, owner: Any) -> None:
    customers = [make_customer(f"C{i}") for i in range(3)]
    for i in range(5):
        task_create(
            title=f"T{i}",
            customer=customers[i % 3],
            assignee=owner,
            source="playbook",
            source_id=f"{i + 1}:s1",
        )
    member_client.get("/tasks/")
    with CaptureQueriesContext(connection) as few:
        member_client.get("/tasks/")
    for i in range(40):
        task_create(
            title=f"U{i}",
            customer=customers[i % 3],
            assignee=owner,
            source="playbook",
            source_id=str(i + 1),
        )
    with CaptureQueriesContext(connection) as many:
        response = member_client.get("/tasks/")
    assert len(ids_in(response.content.decode())) == 45
    assert len(many.captured_queries) <= len(few.captured_queries) + 1  # + the RunStep lookup


# --- customer panel ---------------------------------------------------------------------------


def test_the_customer_page_lists_its_open_tasks_with_actions(
    member_client: Any, viewer_client: Any, spread: dict[str, Task]
) -> None:
    acme = spread["overdue"].customer
    html = member_client.get(f"/customers/{acme.pk}/").content.decode()
    panel = html[html.index('id="tasks-panel"') :]
    panel = panel[: panel.index("</section>")]
    assert ids_in(panel) == [spread["overdue"].pk, spread["today_high"].pk]
    assert "Complete" in panel and "Add task" in panel and "Snooze" in panel
    html = viewer_client.get(f"/customers/{acme.pk}/").content.decode()
    panel = html[html.index('id="tasks-panel"') :]
    panel = panel[: panel.index("</section>")]
    assert "Overdue call" in panel and "Complete" not in panel and "Add task" not in panel


def test_add_task_from_the_customer_panel_returns_to_the_customer(member_client: Any) -> None:
    acme = make_customer("Acme")
    response = member_client.post(
        "/tasks/new/",
        {
            "title": "Check in",
            "customer": acme.pk,
            "due_on": (TODAY + timedelta(days=1)).isoformat(),
            "priority": "2",
            "assignee": "",
            "next": f"/customers/{acme.pk}/",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/customers/{acme.pk}/"
    assert "Check in" in response.content.decode()
    assert "Task created: Check in" in response.content.decode()


# --- Today ------------------------------------------------------------------------------------


def test_today_shows_my_and_unassigned_tasks_due_today_or_overdue(
    member_client: Any, spread: dict[str, Task], member: Any
) -> None:
    unassigned = task_create(title="Anyone", due_on=TODAY)
    html = member_client.get("/today/").content.decode()
    section = html[html.index('id="today-tasks"') :]
    section = section[: section.index("</section>")]
    assert "Your tasks" in section
    # Overdue first, then today's by priority (normal before low); owner's tasks left out.
    assert ids_in(section) == [spread["overdue"].pk, unassigned.pk, spread["today_low"].pk]
    assert "Complete" in section


def test_today_has_no_task_section_when_nothing_is_due(member_client: Any) -> None:
    task_create(title="Later", due_on=TODAY + timedelta(days=3))
    assert 'id="today-tasks"' not in member_client.get("/today/").content.decode()


def test_completing_from_today_keeps_the_compact_row(
    member_client: Any, spread: dict[str, Task]
) -> None:
    task = spread["today_low"]
    html = member_client.post(
        f"/tasks/{task.pk}/complete/", {"compact": "1", "next": "/today/"}, **HTMX
    ).content.decode()
    assert 'name="compact" value="1"' in html and "Reassign" not in html


def test_a_playbook_task_names_its_playbook_by_run_or_by_run_step(member_client: Any) -> None:
    from tend.playbooks.models import Playbook, PlaybookRun, RunStep

    acme = make_customer("Acme")
    playbook = Playbook.objects.create(name="Onboarding", trigger="manual")
    run = PlaybookRun.objects.create(playbook=playbook, customer=acme, occurrence="manual:1")
    step = RunStep.objects.create(run=run, step_id="s2", step_type="create_task", outcome="done")
    by_run = task_create(title="By run", customer=acme, source="playbook", source_id=f"{run.pk}:s1")
    by_step = task_create(title="By step", customer=acme, source="playbook", source_id=str(step.pk))
    html = member_client.get("/tasks/").content.decode()
    for task in (by_run, by_step):
        row = html[html.index(f'id="task-{task.pk}"') :]
        assert "from playbook “Onboarding”" in row[: row.index("</li>")]


def test_today_reads_a_fixed_number_of_queries_for_its_tasks(
    member_client: Any, member: Any
) -> None:
    acme = make_customer("Acme")
    task_create(title="First", customer=acme, assignee=member, due_on=TODAY)
    member_client.get("/today/")
    with CaptureQueriesContext(connection) as few:
        member_client.get("/today/")
    for i in range(15):
        task_create(title=f"T{i}", customer=make_customer(f"C{i}"), assignee=member, due_on=TODAY)
    with CaptureQueriesContext(connection) as many:
        html = member_client.get("/today/").content.decode()
    assert len(ids_in(html)) == 16
    assert len(many.captured_queries) == len(few.captured_queries)
