"""Writes for the tracking API: store Segment messages, link ids to customers, merge.

``tracking_ingest`` is the one entry point. It runs in one transaction, so a 200 answer means
every accepted event is committed (nothing waits in memory). Identity messages (identify,
group, alias) are few and go one by one through the customer and contact actions, each in a
savepoint so one bad message does not undo the others, reading the rows they need from one
look-up per table for the whole batch (``identity_batch``); events go in bulk: one multi-row
``INSERT … ON CONFLICT (message_id) DO NOTHING RETURNING`` and one rollup upsert per batch.

The parts live by sub-domain: ``locks`` (row locks in one order), ``identities`` (identify,
group, alias and the merge of waiting events), ``event_store`` (events, pending events);
rollups and last-seen are the activity app's (``tend.activity.actions``).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from tend.accounts.models import User
from tend.ingest.actions import stats_add
from tend.ingest.tracking.event_store import SOURCE as SOURCE
from tend.ingest.tracking.event_store import events_write
from tend.ingest.tracking.identities import (
    contact_fields_from_traits as contact_fields_from_traits,
)
from tend.ingest.tracking.identities import (
    customer_fields_from_traits as customer_fields_from_traits,
)
from tend.ingest.tracking.identities import identity_apply, identity_batch
from tend.ingest.tracking.locks import rows_lock
from tend.ingest.tracking.messages import EVENT_TYPES, Message, Rejected, parse_message

# A batch that meets a deadlock or a serialization failure is run again, at most this many
# times in all, after a jittered pause of about RETRY_BACKOFF seconds, doubling each time.
RETRY_ATTEMPTS = 4
RETRY_BACKOFF = 0.05
RETRY_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure

logger = logging.getLogger(__name__)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    flagged: Counter[str] = field(default_factory=Counter)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # every flag, by index

    def reject(self, index: int, error: Rejected) -> None:
        self.rejected.append({"index": index, **error.as_dict()})

    def stored(self, message: Message) -> None:
        """Count a stored message: accepted, or flagged (under its first flag) when changed."""
        if not message.flags:
            self.accepted += 1
            return
        self.flagged[message.flags[0].code] += 1
        self.warnings += [{"index": message.index, **f.as_dict()} for f in message.flags]


def tracking_ingest(
    *,
    raws: Sequence[Any],
    label: str,
    by: User | None = None,
    received_at: datetime | None = None,
    default_type: str | None = None,
    batch_sent_at: datetime | None = None,
    batch_context: dict[str, Any] | None = None,
    check_sizes: bool = True,
) -> IngestResult:
    """Store a list of raw Segment messages; bad ones are reported by index, good ones kept.

    Customers and contacts created or changed by identify/group are audited as ``by`` (the
    write key's user) with ``label`` (``api:<key name>``)."""
    received_at = received_at or timezone.now()
    result = IngestResult()
    messages: list[Message] = []
    for index, raw in enumerate(raws):
        try:
            messages.append(
                parse_message(
                    raw,
                    index=index,
                    received_at=received_at,
                    default_type=default_type,
                    batch_sent_at=batch_sent_at,
                    batch_context=batch_context,
                    check_size=check_sizes,
                )
            )
        except Rejected as error:
            result.reject(index, error)
    parse_rejections = list(result.rejected)
    for attempt in range(1, RETRY_ATTEMPTS + 1):
        # A deadlock or serialization failure rolls the whole transaction back; it is run again
        # from the parsed messages (nothing of the failed attempt stayed: message ids, rollups
        # and ledger counts start from the same state), unless an outer transaction holds it.
        result = IngestResult(rejected=list(parse_rejections))
        outermost = not connection.in_atomic_block
        try:
            _store(messages, result=result, by=by, label=label, received_at=received_at)
        except OperationalError as error:
            if not outermost or attempt == RETRY_ATTEMPTS or not _retryable(error):
                raise
            logger.warning(
                "tracking batch of %d messages hit %s; running it again (attempt %d of %d)",
                len(messages),
                type(error.__cause__).__name__,
                attempt + 1,
                RETRY_ATTEMPTS,
            )
            time.sleep(random.uniform(0.5, 1.5) * RETRY_BACKOFF * 2 ** (attempt - 1))
            continue
        break
    result.rejected.sort(key=lambda r: int(r["index"]))
    result.warnings.sort(key=lambda r: int(r["index"]))
    return result


def _store(
    messages: list[Message],
    *,
    result: IngestResult,
    by: User | None,
    label: str,
    received_at: datetime,
) -> None:
    """Write the parsed messages in one transaction, taking row locks in one order.

    A batch with identity messages first locks, in ascending id order and in one statement,
    the existing customer rows those messages may change and those whose last-seen its events
    will move (then the identity rows its identify, group and alias messages change, in key
    order); a batch of events only locks, the same way, the customers whose last-seen moves.
    Concurrent batches that share such customers queue on the first shared one instead of
    deadlocking on each other's rows. A customer's own row, its contacts, timeline and audit
    entries are only written while holding its lock; the rows events add to (daily rollups,
    the activity record) are upserts in sorted key order that concurrent batches may run side
    by side; the ledger rows come last, in sorted order.
    """
    with transaction.atomic():
        locked = rows_lock(messages)
        events = [m for m in messages if m.type in EVENT_TYPES]
        if len(events) < len(messages):
            with identity_batch(messages):
                for message in messages:
                    if message.type in EVENT_TYPES:
                        continue
                    try:
                        identity_apply(message, by=by, label=label)  # in its own savepoint
                        result.stored(message)
                    except Rejected as error:
                        result.reject(message.index, error)
        if events:
            inserted, duplicates = events_write(events, received_at=received_at, locked=locked)
            for message in inserted:
                result.stored(message)
            result.duplicates += duplicates
        stats_add(
            source=SOURCE,
            accepted=result.accepted,
            duplicates=result.duplicates,
            rejected=Counter(str(r["code"]) for r in result.rejected),
            flagged=result.flagged,
            at=received_at,
        )


def _retryable(error: OperationalError) -> bool:
    """A deadlock or serialization failure: the database rolled the transaction back, and the
    same transaction run again can succeed."""
    return getattr(error.__cause__, "sqlstate", None) in RETRY_SQLSTATES
