"""Background jobs of the outbox. Thin and idempotent: they take ids and call the sender,
whose claims make running them twice (or on two workers) harmless."""

from __future__ import annotations

from django_tasks import task

from tend.messaging.sending import messages_send_due


@task()
def message_send(message_id: int) -> int:
    """Send one message now if it is still due (enqueued when its row commits)."""
    return messages_send_due(limit=1, ids=[message_id])


@task()
def messages_send(limit: int = 500) -> int:
    """The schedule's safety net ("messages-send", every minute): retries that fell due,
    claims whose worker died, emails held by the daily cap."""
    return messages_send_due(limit=limit)
