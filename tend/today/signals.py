"""Today signals: the reasons a customer needs the founder today, supplied as plug-ins.

Each app registers ``Signal`` entries in ``AppConfig.ready()`` (health: "turned red"; billing:
"payment failed"; later prediction: "churn risk rose"; surveys: "NPS detractor"). The Today
engine asks every signal for its findings, ranks them by money at stake and shows one line per
customer. The engine never imports the apps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from django.utils.functional import Promise

from tend.lib.registry import Registry


@dataclass(frozen=True)
class Finding:
    """One customer who needs attention for one reason.

    ``reason`` is a message id with ``params`` (rendered in the reader's language by the
    signal's ``describe``); ``key`` identifies this occurrence of the reason (e.g. the day the
    health turned red, the failed invoice), so a handled item comes back only when the key
    changes. ``risk`` (0–1) weighs the customer's money at stake in the ranking.
    """

    customer_id: int
    key: str
    risk: float
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Signal:
    name: str
    label: str | Promise  # shown in filters and settings ("Health turned red")
    find: Callable[[date], Iterable[Finding]]  # every finding as of a day, vectorised
    describe: Callable[[dict[str, Any]], str]  # one line, in the reader's language
    order: int = 100  # which reason a customer's line shows first when several apply


signals: Registry[Signal] = Registry("Today signal")


def day_start(day: date) -> datetime:
    """00:00 UTC of ``day``. Signals count whole UTC days: "in the last N days" as of a day D
    is the half-open range [D − (N − 1) 00:00, D + 1 00:00), the N days ending with D."""
    return datetime.combine(day, time.min, tzinfo=UTC)
