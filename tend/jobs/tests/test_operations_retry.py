"""Retry from the operations page calls the owning app's action: a run that gave up tries its
step again, an email that gave up is queued again; what cannot be retried says why."""

from __future__ import annotations

import pytest

from tend.jobs.tests.ops_helpers import make_trouble
from tend.messaging.models import MessageStatus
from tend.playbooks.models import RunStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["owner", "member"])
def test_an_email_that_gave_up_is_queued_again(persona, request):
    pytest.importorskip("tend.messaging.actions", reason="the outbox's message_retry (h-outbox)")
    trouble = make_trouble()
    client = request.getfixturevalue(f"{persona}_client")

    response = client.post(f"/operations/messages/{trouble.failed_email.pk}/retry/", follow=True)

    assert response.status_code == 200
    trouble.failed_email.refresh_from_db()
    assert trouble.failed_email.status in {MessageStatus.QUEUED, MessageStatus.SENDING,
                                           MessageStatus.SENT, MessageStatus.FAILED}  # fmt: skip
    assert trouble.failed_email.attempts <= 1  # a fresh set of tries
    assert "will be sent again now" in response.content.decode()


def test_an_email_waiting_for_its_next_try_is_refused_with_the_reason(owner_client):
    pytest.importorskip("tend.messaging.actions", reason="the outbox's message_retry (h-outbox)")
    trouble = make_trouble()
    before = (trouble.retrying_email.status, trouble.retrying_email.attempts)

    response = owner_client.post(
        f"/operations/messages/{trouble.retrying_email.pk}/retry/", follow=True
    )

    assert response.status_code == 200
    assert "can be sent again" in response.content.decode()
    trouble.retrying_email.refresh_from_db()
    assert (trouble.retrying_email.status, trouble.retrying_email.attempts) == before


@pytest.mark.parametrize("persona", ["owner", "member"])
def test_a_run_that_gave_up_tries_its_step_again(persona, request):
    pytest.importorskip("tend.playbooks.actions", reason="the engine's run_retry (h-engine)")
    trouble = make_trouble()
    client = request.getfixturevalue(f"{persona}_client")

    response = client.post(f"/operations/runs/{trouble.gave_up.pk}/retry/", follow=True)

    assert response.status_code == 200
    trouble.gave_up.refresh_from_db()
    assert trouble.gave_up.status != RunStatus.FAILED
    assert "will try its step again now" in response.content.decode()
