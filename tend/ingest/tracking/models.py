"""Who is behind a tracking id, and which stored events still wait to learn it.

Segment clients send ``userId`` (the founder's own user id) and ``anonymousId`` (a device id
before sign-up). Events arrive before anyone knows which customer they belong to; they are
stored with no customer and listed in ``PendingEvent`` until an identify, alias or group call
links their ids, then attached in one update.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class Identity(models.Model):
    """One tracking id: ``u:<userId>`` or ``a:<anonymousId>``.

    A user identity points at its customer (and contact, in B2B) once known. An anonymous
    identity points at the user it was aliased to (``user_id``) and, when known, directly at
    the customer. ``traits`` holds identify traits of a B2B user seen before its group, so the
    contact can be created when the group call arrives.
    """

    key = models.CharField(max_length=130, unique=True)
    user_id = models.CharField(max_length=120, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    traits: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Merging: every anonymous id aliased to a user that has just been identified.
            models.Index(fields=["user_id"], name="trk_identity_user_idx"),
        ]

    def __str__(self) -> str:
        return self.key


class PendingEvent(models.Model):
    """An event stored without a customer, findable by the ids that may later identify it."""

    # No foreign-key constraint in the database: on PostgreSQL the events table is partitioned
    # by month and its key is (id, timestamp), which a reference to ``id`` alone cannot point
    # at (docs/events-storage.md). Django still deletes the pending row with its event, and
    # ``events_purge_before`` deletes them first.
    event = models.OneToOneField(
        "activity.Event", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    user_id = models.CharField(max_length=120, blank=True)
    anonymous_id = models.CharField(max_length=120, blank=True)

    class Meta:
        indexes = [
            # Merge on identify/group: the waiting events of one user id.
            models.Index(fields=["user_id"], name="trk_pending_user_idx"),
            # Merge on alias/identify: the waiting events of one anonymous id.
            models.Index(fields=["anonymous_id"], name="trk_pending_anon_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.user_id or self.anonymous_id})"
