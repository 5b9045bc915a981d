"""Consumers of the customer-change outbox, registered by the apps that react to changes.

An app registers a ``Consumer`` in ``AppConfig.ready()``; ``consumers_run`` (scheduled every few
minutes as ``TEND_SCHEDULES["changes-react"]`` and run by ``tend changes react``) hands each its
unread changes. Lifecycle rules are the first consumer; playbooks, health refresh and digests
follow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tend.changes.actions import changes_consume
from tend.changes.models import CustomerChange
from tend.lib.registry import Registry


@dataclass(frozen=True)
class Consumer:
    name: str  # also the cursor's name: renaming a consumer makes it read everything again
    kinds: tuple[str, ...]  # the ChangeKind values it reacts to
    handle: Callable[[Sequence[CustomerChange]], None]


consumers: Registry[Consumer] = Registry("change consumer")


def consumers_run(*, max_batches: int | None = None) -> dict[str, int]:
    """Run every registered consumer over its unread changes; returns rows handled by each."""
    return {
        consumer.name: changes_consume(
            consumer.name, consumer.handle, kinds=consumer.kinds, max_batches=max_batches
        )
        for consumer in consumers
    }
