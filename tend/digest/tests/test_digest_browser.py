"""Headless Chromium: the digest choice on the settings page and the digest preview (the
email's own HTML, framed), in English and Chinese, desktop and phone; plus the playbook page's
experiment card. Screenshots go to test-output/screenshots/ (TEND_SHOTS overrides)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from tend.accounts.models import User
from tend.activity.models import Event
from tend.digest.tests.helpers import person
from tend.factories import make_customer, make_plan, make_subscription
from tend.goals.actions import goal_create
from tend.messaging.models import Message
from tend.metrics.snapshots import snapshots_refresh
from tend.playbooks.experiments import experiment_results
from tend.playbooks.models import Group, Playbook, PlaybookRun, RunStatus
from tend.tasks.models import Task
from tend.testing import SCREENSHOTS, logged_in_browser
from tend.today.actions import today_date
from tend.today.engine import today_pipeline_step
from tend.today.signals import Finding, Signal
from tend.today.tests.helpers import only_signals

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
SHOTS = Path(os.environ.get("TEND_SHOTS", SCREENSHOTS))
NAMES = [
    "Acme Robotics",
    "Blue Harbor",
    "Cedar Labs",
    "Delta Foods",
    "Evergreen Studio",
    "Fjord Analytics",
    "Granite Health",
]


RENEWALS: dict[int, int] = {}  # customer id → days to renewal


def renewal_signal() -> Signal:
    """A stand-in Today signal with readable reasons ("Renews in 12 days")."""

    def find(as_of: object) -> Iterator[Finding]:
        for customer_id, days in RENEWALS.items():
            yield Finding(
                customer_id=customer_id,
                key=f"renewal:{customer_id}",
                risk=0.2 + days / 100,
                params={"days": days},
            )

    return Signal(
        name="renewal_soon",
        label="Renewal soon",
        describe=lambda p: f"Renews in {p.get('days')} days; no login for 3 weeks",
        find=find,
    )


def seed() -> tuple[User, Playbook]:
    olivia = person("olivia", role="owner", digest="daily", first_name="Olivia")
    now = timezone.now()
    plan = make_plan("growth", price="490", name="Growth")
    found = {}
    for i, name in enumerate(NAMES):
        customer = make_customer(name)
        make_subscription(customer, plan, at=now - timedelta(days=200), quantity=i + 1)
        found[customer.pk] = (f"renewal:{i}", 0.2 + i * 0.08)
        RENEWALS[customer.pk] = 5 + i * 4
    snapshots_refresh(full=True)
    goal_create(by=olivia, metric="mrr", target=Decimal("20000"))
    goal_create(by=olivia, metric="logo_churn", target=Decimal("3"))
    renewal = Playbook.objects.create(name="Renewal reminders", trigger="renewal", status="active")
    onboarding = Playbook.objects.create(
        name="Onboarding sequence",
        trigger="stage_entered",
        status="active",
        holdout_percent=30,
        outcome={"kind": "event", "days": 14, "event": "invite_sent"},
    )
    events = []
    entered = now - timedelta(days=40)
    for i in range(110):
        group = Group.CONTROL if i % 3 == 0 else Group.TREATED
        customer = make_customer(f"Trial {i:03d}")
        PlaybookRun.objects.create(
            playbook=onboarding,
            customer=customer,
            occurrence="o",
            group=group,
            status=RunStatus.CONTROL if group == Group.CONTROL else RunStatus.DONE,
            started_at=entered + timedelta(hours=i),
            finished_at=now - timedelta(hours=2),
        )
        if (group == Group.TREATED and i % 5 != 0) or (group == Group.CONTROL and i % 2 == 0):
            events.append(
                Event(
                    customer=customer,
                    name="invite_sent",
                    timestamp=entered + timedelta(days=3, hours=i),
                )
            )
    Event.objects.bulk_create(events)
    for i, customer_id in enumerate(list(found)[:4]):
        run = PlaybookRun.objects.create(
            playbook=renewal,
            customer_id=customer_id,
            occurrence=f"r{i}",
            started_at=now - timedelta(hours=5),
        )
        Message.objects.create(
            key=f"playbook:{run.pk}:s1",
            channel="email",
            status="sent",
            source="playbook",
            source_id=f"{run.pk}:s1",
            to=f"c{i}@example.com",
            sent_at=now - timedelta(hours=4),
        )
    day = today_date()
    first = next(iter(found))
    Task.objects.create(
        title="Call about the renewal",
        assignee=olivia,
        customer_id=first,
        due_on=day - timedelta(days=1),
    )
    Task.objects.create(title="Send the onboarding checklist", assignee=olivia, due_on=day)
    today_pipeline_step(day)
    return olivia, onboarding


def test_digest_preview_and_choice_in_english_and_chinese(live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    RENEWALS.clear()
    base = live_server.url
    with only_signals(renewal_signal()):
        _olivia, onboarding = seed()
        with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
            shoot(page, base, onboarding)
            assert errors == []


def shoot(page, base: str, onboarding: Playbook) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    for language in ("en", "zh"):
        if language == "zh":
            page.set_viewport_size(SIZES["desktop"])
            page.goto(f"{base}/settings/")
            page.select_option("#id_language", "zh-hans")
            page.click("#language-choice button[type=submit]")
            expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        page.set_viewport_size(SIZES["desktop"])
        page.goto(f"{base}/settings/")
        page.check("#digest-choice input[value=weekly]")
        page.click("#digest-choice button[type=submit]")
        expect(page.locator("#digest-choice input[value=weekly]")).to_be_checked()
        page.locator("#digest-choice").scroll_into_view_if_needed()
        page.screenshot(path=SHOTS / f"digest-settings-{language}.png", full_page=True)
        page.check("#digest-choice input[value=daily]")
        page.click("#digest-choice button[type=submit]")
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            page.goto(f"{base}/digest/preview/")
            frame = page.frame_locator("#digest-frame")
            expect(frame.locator("#digest-today")).to_contain_text(NAMES[-1])
            expect(frame.locator("#digest-playbooks")).to_contain_text("Renewal reminders")
            page.screenshot(path=SHOTS / f"digest-preview-{language}-{size}.png", full_page=True)
    # The experiment card as the playbook page includes it, on Tend's own stylesheet.
    for language in ("en", "zh-hans"):
        with translation.override(language):
            card = render_to_string(
                "playbooks/_experiment.html",
                {"results": experiment_results(playbook=onboarding)},
            )
        page.set_viewport_size({"width": 900, "height": 700})
        page.goto(f"{base}/digest/preview/")
        css = ["/static/vendor/bootstrap/css/bootstrap.min.css", "/static/web/tend.css"]
        links = "".join(f'<link rel="stylesheet" href="{href}">' for href in css)
        page.set_content(
            f'<html lang="{language}"><head>{links}</head>'
            f'<body class="bg-body-tertiary p-4">{card}</body></html>'
        )
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SHOTS / f"experiment-card-{language[:2]}.png", full_page=True)
