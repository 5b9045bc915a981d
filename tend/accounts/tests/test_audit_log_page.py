"""The owner-only ``/audit/`` page: filters (user, customer, action, half-open day range in
the business time zone), keyset paging, CSV download, refusals and hostile parameters."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tend.accounts.actions import apikey_create
from tend.accounts.models import AuditEntry, User
from tend.factories import make_customer

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def entry(action="customer.update", *, at=T0, actor=None, label="", customer_id=None, **kw):
    return AuditEntry.objects.create(
        at=at,
        actor=actor,
        actor_label=label or (actor.username if actor else "system"),
        action=action,
        object_type=kw.pop("object_type", "customers.customer"),
        object_id=str(kw.pop("object_id", customer_id or 1)),
        customer_id=customer_id,
        changes=kw.pop("changes", {}),
        ip=kw.pop("ip", "192.0.2.1"),
        via=kw.pop("via", "web"),
    )


def ids(response) -> list[int]:
    return [row.pk for row in response.context["page"].entries]


def test_the_page_lists_entries_newest_first_with_words_links_and_changes(owner_client, owner):
    AuditEntry.objects.all().delete()
    acme = make_customer(name="Acme")
    AuditEntry.objects.all().delete()
    old = entry(at=T0 - timedelta(hours=1), actor=owner, customer_id=acme.pk)
    new = entry(
        "customer.stage",
        actor=owner,
        customer_id=acme.pk,
        changes={"stage": ["trial", "active"]},
    )
    response = owner_client.get("/audit/")
    assert response.status_code == 200
    assert ids(response) == [new.pk, old.pk]
    html = response.content.decode()
    assert "changed a customer&#x27;s stage" in html or "changed a customer's stage" in html
    assert "trial → active" in html
    assert f'href="/customers/{acme.pk}/"' in html
    assert "192.0.2.1" in html


def test_the_user_filter_takes_a_username_or_an_api_key_label(owner_client, owner, member):
    AuditEntry.objects.all().delete()
    mine = entry(actor=owner)
    members = entry(actor=member)
    members_key = entry(actor=member, label="api:crm")
    system = entry(label="system")
    assert ids(owner_client.get("/audit/?user=mike")) == [members_key.pk, members.pk]
    assert ids(owner_client.get("/audit/?user=api:crm")) == [members_key.pk]
    assert ids(owner_client.get("/audit/?user=system")) == [system.pk]
    assert ids(owner_client.get("/audit/?user=olivia")) == [mine.pk]
    assert ids(owner_client.get("/audit/?user=nobody")) == []


def test_the_customer_and_action_filters(owner_client):
    AuditEntry.objects.all().delete()
    a = entry(customer_id=7)
    b = entry("task.create", customer_id=7, object_type="tasks.task", object_id=3)
    entry(customer_id=8)
    assert ids(owner_client.get("/audit/?customer=7")) == [b.pk, a.pk]
    assert ids(owner_client.get("/audit/?customer=7&action=task.create")) == [b.pk]
    assert ids(owner_client.get("/audit/?action=task.create")) == [b.pk]
    options = owner_client.get("/audit/").context["actions"]
    assert [value for value, _words in options] == ["customer.update", "task.create"]


def test_the_day_range_is_half_open_in_the_business_time_zone(owner_client, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    shanghai = ZoneInfo("Asia/Shanghai")
    AuditEntry.objects.all().delete()
    before = entry(at=datetime(2026, 2, 28, 23, 59, 59, tzinfo=shanghai))
    first = entry(at=datetime(2026, 3, 1, 0, 0, tzinfo=shanghai))
    last = entry(at=datetime(2026, 3, 1, 23, 59, 59, tzinfo=shanghai))
    after = entry(at=datetime(2026, 3, 2, 0, 0, tzinfo=shanghai))
    assert ids(owner_client.get("/audit/?since=2026-03-01&until=2026-03-02")) == [last.pk, first.pk]
    assert ids(owner_client.get("/audit/?since=2026-03-02")) == [after.pk]
    assert ids(owner_client.get("/audit/?until=2026-03-01")) == [before.pk]


def test_keyset_pages_walk_every_entry_once_older_and_back_newer(owner_client):
    AuditEntry.objects.all().delete()
    made = [entry(at=T0 + timedelta(seconds=i // 3)) for i in range(120)]  # ties on `at`
    expected = [e.pk for e in sorted(made, key=lambda e: (e.at, e.pk), reverse=True)]
    seen: list[int] = []
    url = "/audit/"
    pages = []
    while url:
        response = owner_client.get(url)
        pages.append(response)
        seen += ids(response)
        older = response.context["older_url"]
        url = "/audit/" + older if older else ""
    assert seen == expected
    assert len(pages) == 3
    newer = pages[-1].context["newer_url"]
    assert ids(owner_client.get("/audit/" + newer)) == ids(pages[1])


def test_csv_download_holds_every_filtered_row(owner_client, owner):
    AuditEntry.objects.all().delete()
    entry(actor=owner, customer_id=5, changes={"name": ["Old", "=cmd()"]})
    entry(customer_id=6)
    response = owner_client.get("/audit/export.csv?customer=5")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["time", "who", "user", "action"]
    assert len(rows) == 2
    assert rows[1][1:5] == ["olivia", "olivia", "customer.update", "customers.customer"]
    assert rows[1][6:9] == ["5", "192.0.2.1", "web"]
    assert '"=cmd()"' in rows[1][9]


@pytest.mark.parametrize("persona", ["member", "viewer"])
def test_members_and_viewers_get_403_on_the_page_and_the_csv(persona, login_as, member, viewer):
    client = login_as(member if persona == "member" else viewer)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


def test_an_outsider_is_sent_to_log_in(outsider_client):
    response = outsider_client.get("/audit/export.csv")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=2026-13-01", "From"),
        ("since=yesterday", "From"),
        ("until=2026-02-30", "Until"),
        ("since=2026-03-02&until=2026-03-01", "Until"),
        ("customer=abc", "Customer"),
        ("customer=-1", "Customer"),
        ("customer=99999999999999999999999", "Customer"),
        ("action=" + "x" * 5000, "Action"),
        ("before=garbage", "Page"),
    ],
    ids=[
        "bad-month",
        "word-date",
        "feb-30",
        "until-before-since",
        "customer-text",
        "customer-negative",
        "customer-huge",
        "action-huge",
        "cursor-garbage",
    ],
)
def test_hostile_parameters_get_a_400_naming_the_field(owner_client, query, field):
    response = owner_client.get("/audit/?" + query)
    assert response.status_code == 400
    assert f"<strong>{field}:</strong>" in response.content.decode()
    if not query.startswith(("before", "after")):
        csv_response = owner_client.get("/audit/export.csv?" + query)
        assert csv_response.status_code == 400
        assert csv_response.content.decode().startswith(f"{field}:")


def test_the_user_picker_offers_users_keys_and_system_actors(owner_client, owner):
    apikey_create(name="crm", kind="read", by=owner)
    values = [v for v, _label in owner_client.get("/audit/").context["actors"]]
    assert {"olivia", "api:crm", "system", "stripe"} <= set(values)
    assert User.objects.filter(username="olivia").exists()


@pytest.mark.parametrize("query", ["user=%00", "after=%00", "customer=%00"])
def test_a_nul_is_refused_before_the_page_runs(owner_client, query):
    # The site-wide guard answers 400 for a NUL in the address.
    assert owner_client.get("/audit/?" + query).status_code == 400
    assert owner_client.get("/audit/export.csv?" + query).status_code == 400


@pytest.mark.parametrize("query", ["user=%ED%A0%80", "action=%FF"])
def test_undecodable_bytes_match_nothing_rather_than_fail(owner_client, query):
    # Django reads undecodable bytes as U+FFFD: a filter that matches nothing.
    entry()
    response = owner_client.get("/audit/?" + query)
    assert response.status_code == 200
    assert ids(response) == []
