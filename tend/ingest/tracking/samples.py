"""Realistic Segment traffic, for the tracking benchmark and the concurrent-load test.

What an app's SDKs send in a day, by share of messages: 85 % track, 10 % page, 3 % identify,
2 % group; about 1 KB per message with a full analytics.js ``context``; random UUID message ids.
Identify and group messages carry a trait that changes every time, so they write their contact
or customer row (the expensive, lock-taking path).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

MIX = {"track": 85, "page": 10, "identify": 3, "group": 2}
EVENTS = ["Report Created", "Dashboard Viewed", "Invite Sent", "Export Downloaded", "Signed In"]
EVENT_KINDS = frozenset({"track", "page"})


def browser_context(user: int) -> dict[str, Any]:
    """A full Segment browser ``context``, as analytics.js sends it (~700 bytes)."""
    return {
        "app": {"name": "Acme", "version": "4.12.0", "build": "4120"},
        "library": {"name": "analytics.js", "version": "next-1.70.0"},
        "locale": "en-US",
        "timezone": "Europe/Berlin",
        "ip": f"203.0.113.{user % 250}",
        "page": {
            "path": "/reports/weekly",
            "referrer": "https://www.google.com/",
            "search": "?utm_source=newsletter",
            "title": "Weekly report - Acme",
            "url": "https://app.acme.test/reports/weekly?utm_source=newsletter",
        },
        "userAgent": (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
        ),
        "campaign": {"name": "spring", "source": "newsletter", "medium": "email"},
        "screen": {"width": 1728, "height": 1117, "density": 2},
    }


def realistic_batch(
    rng: random.Random,
    *,
    size: int,
    users: int,
    companies: int,
    now: datetime,
    spread: timedelta = timedelta(0),
) -> list[dict[str, Any]]:
    """``size`` messages in the realistic mix, shuffled, from ``users`` people (user ``n``
    works at company ``n % companies``), timestamped up to ``spread`` before ``now``."""
    kinds = [kind for kind, share in MIX.items() for _ in range(round(share * size / 100))]
    kinds = (kinds + ["track"] * size)[:size]
    rng.shuffle(kinds)
    spread_seconds = int(spread.total_seconds())
    batch = []
    for kind in kinds:
        user = rng.randrange(users)
        company = user % companies
        at = now - timedelta(seconds=rng.randrange(spread_seconds)) if spread_seconds else now
        message: dict[str, Any] = {
            "type": kind,
            "messageId": str(uuid.uuid4()),
            "userId": f"user-{user}",
            "anonymousId": f"anon-{user}",
            "timestamp": at.isoformat(),
            "context": browser_context(user),
        }
        if kind == "track":
            message["event"] = rng.choice(EVENTS)
            message["properties"] = {"report": rng.randrange(10**6), "plan": "pro", "seats": 5}
        elif kind == "page":
            message["name"] = "Weekly report"
            message["properties"] = {"path": "/reports/weekly", "title": "Weekly report"}
        elif kind == "identify":
            message["traits"] = {
                "name": f"User {user}",
                "email": f"user{user}@co{company}.test",
                "logins": rng.randrange(10**6),  # a changed trait: the contact row is written
            }
        else:
            message["groupId"] = f"co-{company}"
            message["traits"] = {"name": f"Co {company}", "employees": rng.randrange(500)}
        batch.append(message)
    return batch
