"""Counting requests against a rate, shared by every web process through the database.

    rate = settings.TEND_RATE_LIMIT_TRACKING
    verdict = rate_limit_hit(scope="tracking", key=str(api_key.pk), rate=rate)
    if not verdict.allowed:
        ...answer 429 with Retry-After: verdict.retry_after

Fixed windows: a bucket counts the requests since the start of the current window (aligned to
multiples of the window length) and starts again at zero in the next one. One statement per
request, an upsert that adds one and returns the new count, so concurrent processes never
lose a hit and never check-then-act.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.db import connection

from tend.ratelimit.models import RateCounter
from tend.ratelimit.rates import Rate


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    hits: int  # requests counted in the current window, this one included
    retry_after: int  # whole seconds until the window ends (at least 1)


UNLIMITED = Verdict(allowed=True, hits=0, retry_after=0)

_TABLE = RateCounter._meta.db_table
# A window that starts later replaces the stored one; a hit stamped with an earlier window (a
# process whose clock is behind) counts against the stored one instead of resetting it.
_HIT = (
    f"INSERT INTO {_TABLE} (bucket, window_start, hits) VALUES (%s, %s, 1) "
    "ON CONFLICT (bucket) DO UPDATE SET "
    f"hits = CASE WHEN excluded.window_start > {_TABLE}.window_start THEN 1 "
    f"ELSE {_TABLE}.hits + 1 END, "
    f"window_start = CASE WHEN excluded.window_start > {_TABLE}.window_start "
    f"THEN excluded.window_start ELSE {_TABLE}.window_start END "
    "RETURNING hits, window_start"
)


def rate_limit_hit(*, scope: str, key: str, rate: Rate | None, now: float | None = None) -> Verdict:
    """Count one request of ``key`` in ``scope`` and say whether it stays within ``rate``.

    ``rate`` None means no limit: nothing is counted. Refused requests count too, so a client
    that keeps hammering stays refused until the window ends.
    """
    if rate is None:
        return UNLIMITED
    now = time.time() if now is None else now
    window = int(now // rate.seconds) * rate.seconds
    bucket = f"{scope}:{key}"[: RateCounter._meta.get_field("bucket").max_length]
    with connection.cursor() as cursor:
        cursor.execute(_HIT, [bucket, window])
        row = cursor.fetchone()
    hits, start = int(row[0]), int(row[1])
    retry_after = max(1, math.ceil(start + rate.seconds - now))
    return Verdict(allowed=hits <= rate.limit, hits=hits, retry_after=retry_after)


def counters_prune(*, older_than: float = 86400, now: float | None = None) -> int:
    """Delete the counters of buckets not seen for ``older_than`` seconds; returns how many.

    Their windows have ended (no window is longer than a day), so nothing that counts is lost.
    """
    now = time.time() if now is None else now
    deleted, _ = RateCounter.objects.filter(window_start__lt=now - older_than).delete()
    return deleted
