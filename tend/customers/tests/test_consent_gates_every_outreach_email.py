"""Consent in one place: every outreach email asks ``email_allowed``. A withdrawn contact gets
no playbook or outreach email (held, with the reason), an erased address's hashed
suppression still blocks, the unsubscribe link withdraws consent on every contact with the
address, and emails to Tend's own users are not affected."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client

from tend.accounts.models import AuditEntry
from tend.customers.consent import consent_set, email_allowed, email_hash
from tend.customers.models import Contact, MarketingConsent, TimelineEntry
from tend.customers.timeline import describe
from tend.factories import make_contact, make_customer
from tend.messaging.models import EmailTemplate, Message, MessageStatus, Suppression
from tend.messaging.outbox import email_enqueue
from tend.messaging.sending import messages_send_due
from tend.messaging.unsubscribe import unsubscribe_url
from tend.playbooks.actions import playbook_start
from tend.playbooks.engine import runs_advance
from tend.playbooks.models import RunStep
from tend.playbooks.tests.helpers import T0, active_playbook

pytestmark = pytest.mark.django_db


def test_a_withdrawn_contact_gets_no_playbook_email_and_the_message_says_why(
    settings: Any,
) -> None:
    settings.TEND_EMAIL_DAILY_CAP = 1000
    template = EmailTemplate.objects.create(name="Hi", subject_en="Hello", body_en="Hi")
    playbook = active_playbook(
        steps=[{"id": "e", "type": "email", "config": {"template": template.pk}}]
    )
    acme = make_customer(name="Acme", email="")
    ann = make_contact(acme, email="Ann@Acme.test", is_primary=True)
    consent_set(contact=ann, state="withdrawn", source="form", by=None)

    playbook_start(playbook=playbook, customers=[acme], by=None, now=T0)
    runs_advance(now=T0)

    message = Message.objects.get(customer=acme)
    assert message.status == MessageStatus.SUPPRESSED
    assert message.last_error == "the contact withdrew consent to marketing emails"
    assert RunStep.objects.get(step_id="e").outcome == "skipped"
    assert messages_send_due() == 0


def test_consent_withdrawn_after_queueing_holds_the_email_before_it_goes() -> None:
    acme = make_customer()
    ann = make_contact(acme, email="ann@acme.test")
    queued = email_enqueue(key="k1", to="ann@acme.test", subject="s", text="t", customer=acme)
    assert queued.status == MessageStatus.QUEUED

    consent_set(contact=ann, state="withdrawn", source="api", by=None, label="api:crm")

    queued.refresh_from_db()
    assert queued.status == MessageStatus.SUPPRESSED
    assert "withdrew consent" in queued.last_error
    entry = AuditEntry.objects.get(action="contact.consent")
    assert entry.changes == {"marketing_consent": ["unknown", "withdrawn"], "source": "api"}
    assert entry.actor_label == "api:crm"
    line = TimelineEntry.objects.get(customer=acme, data__msg="consent_changed")
    assert describe(line) == f"Marketing emails for {ann.name}: Withdrawn"


def test_a_withdrawal_between_the_claim_and_the_send_is_still_honoured() -> None:
    acme = make_customer()
    ann = make_contact(acme, email="ann@acme.test")
    queued = email_enqueue(key="k1", to="ann@acme.test", subject="s", text="t")
    # Changed behind the outbox's back (e.g. a bulk import): the send checks again.
    Contact.objects.filter(pk=ann.pk).update(marketing_consent=MarketingConsent.WITHDRAWN)

    assert messages_send_due() == 0

    queued.refresh_from_db()
    assert queued.status == MessageStatus.SUPPRESSED
    assert "withdrew consent" in queued.last_error


def test_the_hashed_form_an_erasure_leaves_blocks_the_address() -> None:
    digest = hashlib.sha256(b"gone@example.com").hexdigest()
    Suppression.objects.create(email=f"sha256:{digest}", reason="unsubscribed")
    assert email_hash("  Gone@Example.com ") == f"sha256:{digest}"

    assert email_allowed("GONE@example.com") == (False, "the address is on the suppression list")
    message = email_enqueue(key="k", to="gone@example.com", subject="s", text="t")
    assert message.status == MessageStatus.SUPPRESSED


def test_the_unsubscribe_link_withdraws_consent_on_every_contact_with_the_address() -> None:
    acme, globex = make_customer(), make_customer()
    first = make_contact(acme, email="ada@example.com", marketing_consent="granted")
    second = make_contact(globex, email="ADA@example.com")
    other = make_contact(globex, email="bo@example.com")

    path = unsubscribe_url("ada@example.com").removeprefix("http://localhost:8000")
    response = Client(enforce_csrf_checks=True).post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    for contact in (first, second):
        contact.refresh_from_db()
        assert contact.marketing_consent == MarketingConsent.WITHDRAWN
        assert contact.consent_source == "unsubscribe"
        assert contact.consent_changed_at is not None
    other.refresh_from_db()
    assert other.marketing_consent == MarketingConsent.UNKNOWN
    assert Suppression.objects.filter(email="ada@example.com").exists()
    assert AuditEntry.objects.filter(action="contact.consent").count() == 2


def test_required_consent_sends_only_to_contacts_who_agreed(settings: Any) -> None:
    settings.TEND_MARKETING_CONSENT = "required"
    acme = make_customer()
    make_contact(acme, email="asked@acme.test", marketing_consent="granted")
    make_contact(acme, email="never@acme.test")

    assert email_allowed("asked@acme.test") == (True, "")
    allowed, reason = email_allowed("never@acme.test")
    assert not allowed and "not agreed" in reason


def test_emails_to_tends_own_users_do_not_ask_for_consent() -> None:
    acme = make_customer()
    make_contact(acme, email="ann@acme.test", marketing_consent="withdrawn")

    digest = email_enqueue(key="d", to="ann@acme.test", subject="s", text="t", outreach=False)

    assert digest.status == MessageStatus.QUEUED
    assert email_allowed("ann@acme.test", marketing=False) == (True, "")


def test_setting_the_same_state_again_writes_nothing() -> None:
    ann = make_contact(make_customer(), email="ann@acme.test")
    assert consent_set(contact=ann, state="granted", source="form", by=None)
    assert not consent_set(contact=ann, state="granted", source="form", by=None)
    assert AuditEntry.objects.filter(action="contact.consent").count() == 1
