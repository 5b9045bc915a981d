"""Headless Chromium logs in, opens the customers list and a customer page in English and in
Chinese (switched through the page's own language menu), and saves full-page screenshots
to test-output/screenshots/ for a person to look at."""

from __future__ import annotations

import random
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tend.accounts.actions import apikey_create, user_create
from tend.accounts.models import Role, User
from tend.activity.models import DailyRollup, Event
from tend.billing.actions import subscription_cancel, subscription_update
from tend.customers.actions import customer_add_note, customer_change_stage, customer_set_tags
from tend.customers.models import Customer, Stage
from tend.factories import make_contact, make_customer, make_plan, make_subscription
from tend.ingest.actions import stats_add
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed() -> Customer:
    """A handful of believable customers; returns the one whose page we photograph."""
    rng = random.Random(7)
    now = timezone.now()
    olivia = user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    sam = user_create(username="sam", password=PASSWORD, role=Role.MEMBER)
    User.objects.filter(pk=olivia.pk).update(first_name="Olivia", last_name="Chen")
    User.objects.filter(pk=sam.pk).update(first_name="Sam", last_name="Ortiz")
    olivia.refresh_from_db()
    starter = make_plan("starter", price="29", name="Starter")
    growth = make_plan("growth", price="99", name="Growth")
    scale = make_plan("scale", price="2990", interval="year", name="Scale (yearly)")

    people = [
        ("Blue Harbor Dental", "office@blueharbor.test", Stage.ESTABLISHED, starter, sam, ["smb"]),
        ("Lumen Studio", "hello@lumen.test", Stage.TRIAL, None, None, ["design"]),
        ("Pine & Co Bakery", "orders@pineco.test", Stage.AT_RISK, starter, sam, ["smb", "food"]),
        ("Quantum Ledger", "finance@qledger.test", Stage.EXPANSION, scale, olivia, ["vip"]),
        ("Kite Logistics", "ops@kite.test", Stage.RENEWAL_DUE, growth, olivia, []),
        ("Maple Learning", "team@maple.test", Stage.ONBOARDING, growth, sam, ["education"]),
    ]
    for i, (name, email, stage, plan, owner, tags) in enumerate(people):
        customer = make_customer(
            name,
            email=email,
            owner=owner,
            industry="Services",
            signed_up_at=now - timedelta(days=40 + 37 * i),
        )
        if plan is not None:
            make_subscription(customer, plan, at=now - timedelta(days=30 + 31 * i))
        if stage != Stage.PROSPECT:
            customer_change_stage(customer=customer, stage=stage, by=None)
        customer_set_tags(customer=customer, tags=tags, by=None)
        Customer.objects.filter(pk=customer.pk).update(
            last_seen_at=now - timedelta(hours=rng.randint(2, 24 * 20))
        )
    lapsed = make_customer(
        "Atlas Fitness", email="gym@atlas.test", signed_up_at=now - timedelta(days=400)
    )
    sub = make_subscription(lapsed, starter, at=now - timedelta(days=380))
    subscription_cancel(subscription=sub, by=None, at=now - timedelta(days=35))

    star = make_customer(
        "Northwind Analytics",
        email="billing@northwind.test",
        phone="+44 20 7946 0958",
        external_id="nw_4821",
        industry="Software",
        size=85,
        country="GB",
        channel="referral",
        acquisition_cost=Decimal("420.00"),
        owner=olivia,
        referred_by=Customer.objects.get(name="Quantum Ledger"),
        traits={
            "seats": 24,
            "sso": True,
            "crm": {"vendor": "HubSpot", "synced": "2025-01-12"},
            "region": "EMEA",
        },
        signed_up_at=now - timedelta(days=260),
    )
    customer_change_stage(
        customer=star,
        stage=Stage.ONBOARDING,
        by=olivia,
        at=now - timedelta(days=240),
        reason="Paid first invoice",
    )
    pro = make_subscription(
        star, growth, at=now - timedelta(days=240), current_period_end=now + timedelta(days=21)
    )
    subscription_update(
        subscription=pro, by=None, quantity=3, mrr=Decimal("297.00"), at=now - timedelta(days=120)
    )
    subscription_update(
        subscription=pro, by=None, quantity=2, mrr=Decimal("198.00"), at=now - timedelta(days=45)
    )
    make_subscription(star, starter, at=now - timedelta(days=20), quantity=1)
    customer_change_stage(
        customer=star,
        stage=Stage.ADOPTING,
        by=olivia,
        at=now - timedelta(days=90),
        reason="Weekly reports in use",
    )
    customer_set_tags(customer=star, tags=["vip", "emea", "annual-review"], by=olivia)
    make_contact(star, "Hannah Reid", title="Head of Operations", phone="+44 20 7946 0100")
    make_contact(star, "Tom Baker", title="Finance lead")
    make_contact(star, "Priya Nair", title="Data analyst")
    customer_add_note(
        customer=star,
        by=olivia,
        kind="call",
        body="Quarterly check-in. Happy with reports; asked about SSO for 20 more "
        "seats next quarter.",
    )
    customer_add_note(
        customer=star,
        by=olivia,
        kind="email",
        body="Sent the SSO setup guide and the renewal quote.",
    )
    today = now.astimezone(UTC).date()
    rollups = []
    for d in range(90):
        day = today - timedelta(days=d)
        weekday = day.weekday() < 5
        base = (18 if weekday else 4) + (10 if d < 30 else 0)
        for name, share in [
            ("report.viewed", 1.0),
            ("dashboard.opened", 0.6),
            ("export.csv", 0.2),
            ("user.invited", 0.05),
        ]:
            count = int(rng.gauss(base * share, base * share * 0.25))
            if count > 0:
                rollups.append(DailyRollup(customer=star, day=day, name=name, count=count))
    DailyRollup.objects.bulk_create(rollups)
    Customer.objects.filter(pk=star.pk).update(last_seen_at=now - timedelta(hours=3))
    for days_ago, accepted, rejected in [
        (0, 1180, {"bad_timestamp": 6}),
        (1, 1420, {}),
        (2, 990, {"oversize": 1, "missing_user": 3}),
    ]:
        stats_add(
            source="tracking",
            accepted=accepted,
            duplicates=days_ago * 2,
            rejected=rejected,
            at=now - timedelta(days=days_ago),
        )
    stats_add(
        source="import", accepted=2000, rejected={"unknown_plan": 12}, at=now - timedelta(days=4)
    )
    Event.objects.bulk_create(
        [
            Event(
                anonymous_id=f"anon-{i % 3}",
                name="Pricing Viewed",
                timestamp=now,
                message_id=f"anon-{i}",
            )
            for i in range(7)
        ]
    )
    apikey_create(name="web app", kind="write", by=olivia)
    return star


def test_a_founder_browses_customers_in_english_and_chinese(live_server, tmp_path):
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)  # plotly.js is 4 MB to parse on a busy machine
    star = seed()
    with logged_in_browser(live_server.url, tmp_path / "profile", username="olivia") as (
        page,
        errors,
    ):
        # Login lands on Today; the founder goes on to the customers through the menu.
        expect(page.locator("h1")).to_have_text("Today")
        page.click("nav a[href='/customers/']")
        expect(page.locator("#customer-table tbody tr")).to_have_count(8)

        # Search narrows the table through htmx and keeps the search in the address bar.
        page.fill("#id_q", "north")
        expect(page.locator("#customer-table tbody tr")).to_have_count(1)
        expect(page).to_have_url(
            f"{live_server.url}/customers/?q=north&stage=&plan=&owner=&tag=&sort=name"
        )
        page.goto(f"{live_server.url}/customers/?sort=-mrr")
        page.screenshot(path=SCREENSHOTS / "customers-list-en.png", full_page=True)

        page.click(f"a[href='/customers/{star.pk}/']")
        expect(page.locator("#customer-name")).to_have_text("Northwind Analytics")
        expect(page.locator("#activity .main-svg").first).to_be_visible()
        expect(page.locator("#revenue .main-svg").first).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "customer-page-en.png", full_page=True)

        page.goto(f"{live_server.url}/data-quality/")
        expect(page.locator("[data-source=tracking]")).to_contain_text("3,590")
        page.screenshot(path=SCREENSHOTS / "data-quality-en.png", full_page=True)
        page.goto(f"{live_server.url}/customers/{star.pk}/")

        # A note written in the page lands on top of the timeline without a reload.
        page.fill("#id_body", "Booked the renewal call for next Tuesday.")
        page.click("#note-form button[type=submit]")
        expect(page.locator("#timeline-entries li").first).to_contain_text("Booked the renewal")

        page.click("#language-menu")
        page.click("#language-form button[value=zh-hans]")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.locator("#activity .main-svg").first).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "customer-page-zh.png", full_page=True)

        page.goto(f"{live_server.url}/customers/?sort=-mrr")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        page.screenshot(path=SCREENSHOTS / "customers-list-zh.png", full_page=True)

        page.goto(f"{live_server.url}/data-quality/")
        expect(page.locator("[data-source=tracking]")).to_contain_text("3,590")
        page.screenshot(path=SCREENSHOTS / "data-quality-zh.png", full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{live_server.url}/customers/{star.pk}/")
        expect(page.locator("#activity .main-svg").first).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "customer-page-phone-zh.png", full_page=True)
        assert errors == []
