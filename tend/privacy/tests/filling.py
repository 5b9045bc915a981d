"""A customer with something in every app that holds personal data, written the way real
writes are (factories and actions; the ORM only where no action writes that row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from tend.accounts.models import User
from tend.activity.actions import rollups_rebuild
from tend.billing.actions import order_create
from tend.customers.actions import (
    customer_add_note,
    customer_change_stage,
    customer_update,
)
from tend.customers.models import Contact, Customer
from tend.factories import make_contact, make_customer, make_plan, make_subscription
from tend.health.models import CustomerHealth, HealthScore
from tend.ingest.imports.models import Import, RejectedRow
from tend.ingest.tracking.actions import tracking_ingest
from tend.ingest.webhooks.models import StripeCustomer, StripeEvent
from tend.lifecycle.actions import stage_override_set
from tend.messaging.actions import suppression_add
from tend.messaging.models import DeliveryAttempt, Message
from tend.metrics.snapshots import snapshots_refresh
from tend.playbooks.models import Playbook, PlaybookRun, RunStep
from tend.predict.models import ChurnModel, ChurnScore, ClvFit, CustomerClv
from tend.segments.models import Segment, SegmentChange, SegmentMember
from tend.tasks.actions import task_create
from tend.today.models import TodayItem

NAME = "Zelda Quintessa"
EMAIL = "zelda.quintessa@quint.example"
PHONE = "+44 7700 900123"
EXTERNAL_ID = "zq-ext-7781"
CONTACT_NAME = "Yorick Vanterpool"
CONTACT_EMAIL = "yorick.vanterpool@quint.example"
CONTACT_PHONE = "+44 7700 900456"
STRIPE_ID = "cus_ZQ778899"

PERSONAL = [NAME, EMAIL, PHONE, EXTERNAL_ID, CONTACT_NAME, CONTACT_EMAIL, CONTACT_PHONE, STRIPE_ID]


@dataclass
class Filled:
    customer: Customer
    contact: Contact


def fill(by: User) -> Filled:
    now = timezone.now()
    start = now - timedelta(days=70)
    customer = make_customer(
        NAME,
        email=EMAIL,
        phone=PHONE,
        external_id=EXTERNAL_ID,
        country="GB",
        traits={"nickname": "Zee", "email2": EMAIL},
    )
    customer_update(customer=customer, by=by, industry="Retail")
    contact = make_contact(
        customer, CONTACT_NAME, email=CONTACT_EMAIL, phone=CONTACT_PHONE, external_id="yv-1"
    )
    customer_add_note(customer=customer, by=by, body=f"{NAME} called about {CONTACT_NAME}.")
    customer_change_stage(customer=customer, stage="adopting", by=by, reason=f"{NAME} is live")
    stage_override_set(
        customer_id=customer.pk, stage="adopting", by=by, at=now, reason=f"{NAME} asked"
    )
    plan = make_plan("pro", "49")
    make_subscription(customer, plan, at=start, external_id="sub_ZQ1")
    order_create(
        customer=customer,
        by=by,
        amount=Decimal("120"),
        at=start,
        external_id="ord_ZQ1",
        description=f"Setup for {NAME}",
    )
    tracking_ingest(
        raws=[
            {
                "type": "identify",
                "userId": EXTERNAL_ID,
                "traits": {"email": EMAIL, "name": NAME},
            },
            {"type": "group", "userId": EXTERNAL_ID, "groupId": EXTERNAL_ID},
            {
                "type": "track",
                "userId": EXTERNAL_ID,
                "event": "Report opened",
                "properties": {"email": EMAIL},
                "messageId": "zq-m1",
            },
        ],
        label="test",
    )
    rollups_rebuild(customer_ids=[customer.pk])
    StripeCustomer.objects.create(stripe_id=STRIPE_ID, customer=customer)
    StripeEvent.objects.create(
        event_id="evt_zq1",
        type="customer.updated",
        object_id=STRIPE_ID,
        created=now,
        outcome="processed",
    )
    segment = Segment.objects.create(name="Retail")
    SegmentMember.objects.create(segment=segment, customer=customer, since=date.today())
    SegmentChange.objects.create(segment=segment, customer=customer, day=date.today(), entered=True)
    HealthScore.objects.create(customer=customer, day=date.today(), score=70, colour="green")
    CustomerHealth.objects.create(customer=customer, day=date.today(), score=70, colour="green")
    model = ChurnModel.objects.create(version=1, mode="history", status="trained", kind="logistic")
    ChurnScore.objects.create(customer=customer, day=date.today(), model=model, risk=0.4)
    fit = ClvFit.objects.create(status="trained", kind="bgnbd")
    CustomerClv.objects.create(
        customer=customer,
        fit=fit,
        frequency=2,
        recency=3.0,
        age=9.0,
        expected_purchases=0.8,
        p_alive=0.7,
    )
    TodayItem.objects.create(
        customer=customer,
        day=date.today(),
        first_seen=date.today(),
        reasons=[{"signal": "x", "params": {"n": NAME}}],
    )
    message = Message.objects.create(
        key="zq-msg-1",
        channel="email",
        customer=customer,
        contact=contact,
        to=CONTACT_EMAIL,
        subject=f"Hello {CONTACT_NAME}",
        text=f"Dear {CONTACT_NAME}",
    )
    DeliveryAttempt.objects.create(message=message, ok=True, code="250", detail=CONTACT_EMAIL)
    suppression_add(email=EMAIL, reason="manual", by=by, note="asked")
    task_create(title=f"Call {NAME}", by=by, customer=customer, notes=PHONE)
    playbook = Playbook.objects.create(name="Onboarding", trigger="manual")
    run = PlaybookRun.objects.create(
        playbook=playbook, customer=customer, occurrence="manual:1", context={"to": EMAIL}
    )
    RunStep.objects.create(
        run=run, step_id="s1", step_type="email", outcome="done", detail={"to": CONTACT_EMAIL}
    )
    run_import = Import.objects.create(kind="customers", file_name="crm.csv", created_by=by)
    RejectedRow.objects.create(
        run=run_import,
        row=2,
        column="email",
        reason="invalid",
        value=EMAIL,
        values=[NAME, EMAIL, PHONE],
    )
    RejectedRow.objects.create(
        run=run_import, row=3, column="email", reason="invalid", value="x", values=["Other", "x"]
    )
    snapshots_refresh(full=True)
    customer.refresh_from_db()
    return Filled(customer=customer, contact=contact)
