"""Rows the operations tests look at: a failed and a retrying playbook run, a failed and a
retrying email, a scheduled run whose task failed, a pipeline step run."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tend.customers.models import Customer
from tend.factories import make_customer
from tend.jobs.models import PipelineStepRun, ScheduledRun
from tend.messaging.models import Channel, Message, MessageStatus
from tend.playbooks.models import Playbook, PlaybookRun, PlaybookStatus, RunStatus


@dataclass
class Trouble:
    customer: Customer
    playbook: Playbook
    gave_up: PlaybookRun
    retrying: PlaybookRun
    fine: PlaybookRun
    failed_email: Message
    retrying_email: Message
    sent_email: Message


def make_trouble() -> Trouble:
    now = timezone.now()
    customer = make_customer("Acme Ltd")
    other = make_customer("Globex")
    third = make_customer("Initech")
    playbook = Playbook.objects.create(
        name="Renewal reminder",
        status=PlaybookStatus.ACTIVE,
        trigger="renewal",
        trigger_config={"days": 30},
        steps=[{"id": "s1", "type": "send_email", "config": {}}],
    )
    gave_up = PlaybookRun.objects.create(
        playbook=playbook,
        customer=customer,
        occurrence="renewal:2027-01-31:30",
        status=RunStatus.FAILED,
        position=["s1"],
        attempts=5,
        last_error="TemplateError: line 3: unknown variable 'coupon'",
    )
    retrying = PlaybookRun.objects.create(
        playbook=playbook,
        customer=other,
        occurrence="renewal:2027-02-01:30",
        status=RunStatus.ACTIVE,
        position=["s1"],
        next_at=now + timedelta(minutes=4),
        attempts=2,
        last_error="OperationalError: could not obtain lock",
    )
    fine = PlaybookRun.objects.create(
        playbook=playbook,
        customer=third,
        occurrence="renewal:2027-02-02:30",
        status=RunStatus.DONE,
        position=[],
    )
    failed_email = Message.objects.create(
        key="playbook:1:s1",
        channel=Channel.EMAIL,
        status=MessageStatus.FAILED,
        customer=customer,
        to="ceo@acme.example",
        subject="Your renewal is in 30 days",
        attempts=6,
        last_error="550 5.1.1 <ceo@acme.example>: Recipient address rejected",
    )
    retrying_email = Message.objects.create(
        key="playbook:2:s1",
        channel=Channel.EMAIL,
        status=MessageStatus.QUEUED,
        customer=other,
        to="ops@globex.example",
        subject="Your renewal is in 30 days",
        attempts=1,
        next_attempt_at=now + timedelta(minutes=2),
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    sent_email = Message.objects.create(
        key="playbook:3:s1",
        channel=Channel.EMAIL,
        status=MessageStatus.SENT,
        customer=third,
        to="it@initech.example",
        subject="Your renewal is in 30 days",
        attempts=1,
        sent_at=now,
    )
    return Trouble(
        customer, playbook, gave_up, retrying, fine, failed_email, retrying_email, sent_email
    )


def make_failed_schedule(name: str = "daily-pipeline") -> DBTaskResult:
    """The last run of ``name`` enqueued a task that failed with a traceback."""
    now = timezone.now()
    task = DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status="FAILED",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="tend.jobs.tasks.pipeline_daily",
        backend_name="default",
        run_after=now,
        started_at=now - timedelta(seconds=3),
        finished_at=now,
        worker_ids=["worker-7f3a"],
        exception_class_path="tend.jobs.pipeline.PipelineError",
        traceback="Traceback (most recent call last):\n  File ...\n"
        "tend.jobs.pipeline.PipelineError: step health failed: ZeroDivisionError",
    )
    ScheduledRun.objects.create(name=name, due_at=now - timedelta(minutes=5), task_id=str(task.id))
    PipelineStepRun.objects.create(
        run=uuid.uuid4(),
        step="rollups",
        as_of=now.date(),
        started_at=now - timedelta(seconds=3),
        seconds=1.25,
        counts={"recounted": 120},
    )
    PipelineStepRun.objects.create(
        run=uuid.uuid4(),
        step="health",
        as_of=now.date(),
        started_at=now - timedelta(seconds=2),
        seconds=0.5,
        error="ZeroDivisionError: division by zero",
    )
    return task
