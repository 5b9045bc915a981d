"""The customer page: every section renders from real data in a fixed number of queries."""

import json
import re
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tend.activity.models import DailyRollup
from tend.billing.actions import subscription_cancel, subscription_update
from tend.customers.actions import customer_add_note, customer_change_stage, customer_set_tags
from tend.customers.models import Stage, TimelineEntry
from tend.factories import make_contact, make_customer, make_plan, make_subscription
from tend.web.panels import panels

pytestmark = pytest.mark.django_db


def detail(customer) -> str:
    return reverse("customers:detail", args=[customer.pk])


def figure(html: str, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert match, f"no {element_id} in page"
    return json.loads(match.group(1))


@pytest.fixture
def acme(owner):
    now = timezone.now()
    referrer = make_customer("Friendly Co")
    customer = make_customer(
        "Acme Corp",
        email="ops@acme.test",
        phone="+1 555 0100",
        industry="Software",
        size=42,
        country="DE",
        channel="referral",
        acquisition_cost=Decimal("120.50"),
        referred_by=referrer,
        owner=owner,
        stage=Stage.ONBOARDING,
        traits={"seats": 12, "crm": {"vendor": "hubspot"}, "beta": True},
        signed_up_at=now - timedelta(days=200),
    )
    customer_set_tags(customer=customer, tags=["vip", "eu"], by=owner)
    make_contact(customer, "Ada Admin", title="CTO")
    make_contact(customer, "Bob Buyer")
    sub = make_subscription(customer, make_plan("pro", price="49"), at=now - timedelta(days=150))
    subscription_update(
        subscription=sub, by=None, mrr=Decimal("98.00"), quantity=2, at=now - timedelta(days=60)
    )
    today = now.astimezone(UTC).date()
    DailyRollup.objects.bulk_create(
        [
            DailyRollup(
                customer=customer, day=today - timedelta(days=d), name="report.viewed", count=3
            )
            for d in range(0, 30, 2)
        ]
        + [
            DailyRollup(
                customer=customer, day=today - timedelta(days=5), name="invoice.sent", count=7
            ),
            DailyRollup(
                customer=customer, day=today - timedelta(days=120), name="old.event", count=99
            ),
        ]
    )
    customer_add_note(
        customer=customer, by=owner, body="Kick-off call went well.\nNext: SSO.", kind="call"
    )
    return customer


def test_the_header_shows_stage_plan_mrr_owner_tags_and_key_dates(owner_client, acme):
    html = owner_client.get(detail(acme)).content.decode()
    assert '<h1 class="h3 mb-0" id="customer-name">Acme Corp</h1>' in html
    assert 'data-stage="onboarding"' in html and "Onboarding" in html
    assert "Plan: Pro" in html and "Owner: olivia" in html
    assert "$98.00" in html
    assert re.search(r'tag-chip me-1">eu</span><span class="badge tag-chip me-1">vip', html)
    assert "First paid" in html and "Churned" in html


def test_the_profile_lists_fields_and_traits_as_readable_pairs(owner_client, acme):
    html = owner_client.get(detail(acme)).content.decode()
    for text in ["Software", "42", "DE", "Referral", "$120.50", "+1 555 0100", "Friendly Co"]:
        assert text in html
    traits = html.split('id="traits"')[1].split("</dl>")[0]
    assert "crm.vendor" in traits and "hubspot" in traits and "seats" in traits
    assert "{" not in traits


def test_contacts_show_the_primary_first(owner_client, acme):
    html = owner_client.get(detail(acme)).content.decode()
    contacts = html.split('id="contacts"')[1]
    assert contacts.index("Ada Admin") < contacts.index("Bob Buyer")
    assert contacts.index("Primary") < contacts.index("Bob Buyer")


def test_subscriptions_and_mrr_history_show_every_movement(owner_client, acme):
    html = owner_client.get(detail(acme)).content.decode()
    subs = html.split('id="subscriptions"')[1].split("</section>")[0]
    assert "Pro" in subs and "Active" in subs and "$98.00" in subs and "Monthly" in subs
    moves = html.split('id="mrr-movements"')[1].split("</table>")[0]
    assert "Expansion" in moves and "+$49.00" in moves and "$49.00 → $98.00" in moves
    assert "New" in moves and "$0.00 → $49.00" in moves
    chart = figure(html, "mrr-figure")
    assert chart["data"][0]["line"]["shape"] == "hv"
    assert chart["data"][0]["y"] == [0.0, 49.0, 98.0, 98.0]


def test_the_activity_chart_has_ninety_days_with_missing_days_as_zero(owner_client, acme):
    html = owner_client.get(detail(acme)).content.decode()
    chart = figure(html, "activity-figure")
    ys = chart["data"][0]["y"]
    xs = chart["data"][0]["x"]
    assert len(xs) == len(ys) == 90
    assert xs[-1] == timezone.now().astimezone(UTC).date().isoformat()
    assert ys[-1] == 3 and ys[-2] == 0 and ys[-6] == 7
    assert sum(ys) == 15 * 3 + 7  # the event 120 days ago is outside the window
    top = html.split('id="top-events"')[1].split("</table>")[0]
    assert top.index("report.viewed") < top.index("invoice.sent")
    assert "old.event" not in top


def test_the_timeline_reads_newest_first_with_machine_entries_in_words(owner_client, acme):
    html = owner_client.get(detail(acme)).content.decode()
    timeline = html.split('id="timeline-entries"')[1]
    assert timeline.index("Kick-off call went well.") < timeline.index("Customer record created")
    assert "Expansion: MRR 49.00 → 98" in timeline
    assert "Tags set to: eu, vip" in timeline


def test_machine_entries_are_written_in_the_readers_language(owner_client, acme):
    customer_change_stage(customer=acme, stage=Stage.ADOPTING, by=None)
    html = owner_client.get(detail(acme), HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert '<html lang="zh-hans"' in html
    assert "Acme Corp" in html and 'id="timeline-entries"' in html


def test_the_timeline_pages_thirty_at_a_time_with_load_more(owner_client, acme, owner):
    start = timezone.now() - timedelta(days=1)
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(
                customer=acme,
                kind="note",
                body=f"note {i:02d}",
                author=owner,
                at=start + timedelta(minutes=i),
            )
            for i in range(40)
        ]
    )
    html = owner_client.get(detail(acme)).content.decode()
    assert html.count('class="timeline-entry"') == 30
    # The fixture's 4 entries from today come first, then the newest 26 of these notes.
    shown = re.findall(r"note (\d\d)", html)
    assert shown == [f"{i:02d}" for i in range(39, 13, -1)]
    more = re.search(r'hx-get="([^"]+timeline/\?before=[^"]+)"', html).group(1)
    rest = owner_client.get(more.replace("&amp;", "&"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in rest
    older = re.findall(r"note (\d\d)", rest)
    assert older == [f"{i:02d}" for i in range(13, -1, -1)]
    assert "timeline/?before=" not in rest
    assert "Customer record created" in rest


def test_the_load_more_link_also_works_without_javascript(owner_client, acme):
    TimelineEntry.objects.bulk_create(
        [TimelineEntry(customer=acme, kind="note", body=f"n{i}") for i in range(35)]
    )
    html = owner_client.get(detail(acme)).content.decode()
    href = re.search(r'<a class="btn btn-outline-secondary btn-sm" href="([^"]+)"', html).group(1)
    page = owner_client.get(href.replace("&amp;", "&").split("#")[0])
    assert page.status_code == 200 and "Back to the newest entries" in page.content.decode()


def test_a_customer_without_data_shows_calm_empty_sections(owner_client):
    customer = make_customer("Empty Inc")
    html = owner_client.get(detail(customer)).content.decode()
    assert "No product activity in the last 90 days." in html
    assert "No recurring revenue recorded yet." in html
    assert "No subscriptions." in html and "No contacts yet." in html


def test_an_unknown_customer_is_a_404(owner_client):
    assert owner_client.get(reverse("customers:detail", args=[999999])).status_code == 404


def _grow(customer, owner, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        make_contact(customer, f"Extra {i}")
        customer_add_note(customer=customer, by=owner, body=f"extra note {i}")
    plan = make_plan("seat", price="5")
    subs = [make_subscription(customer, plan, at=now - timedelta(days=i)) for i in range(n)]
    subscription_cancel(subscription=subs[0], by=None)
    DailyRollup.objects.bulk_create(
        [
            DailyRollup(
                customer=customer, day=(now - timedelta(days=d)).date(), name=f"e{d % 13}", count=d
            )
            for d in range(1, 89)
        ]
    )


def test_the_page_runs_the_same_few_queries_however_much_a_customer_has(
    owner_client, owner, acme, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as few:
        owner_client.get(detail(acme))
    _grow(acme, owner, 40)
    with CaptureQueriesContext(connection) as many:
        response = owner_client.get(detail(acme))
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    # session, user, customer (+plan, owner, referrer), tags, contacts, subscriptions,
    # movements, activity by day, top events, timeline page (+authors), the stage change
    # whose reason shows beside the badge, the channel's label; and one for each panel other
    # apps register (tend.web.panels), e.g. the lifecycle override; four more because three
    # panels need a second look-up, each a fixed one: the emails panel asks whether the
    # address is suppressed; the tasks panel names the playbooks its tasks came from and the
    # users a task can go to; the playbooks panel lists those that can be started by hand;
    # two for the contacts' email state (tend.customers.consent.email_states: the suppression
    # list, and a withdrawal by another contact with the same address)
    with django_assert_max_num_queries(12 + len(panels) + 4 + 2):
        owner_client.get(detail(acme))
