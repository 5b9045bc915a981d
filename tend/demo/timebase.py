"""The demo's clock: day numbers inside the window and what calendar dates they fall on.

Times are integer seconds since the first day of the window (00:00 UTC). The window ends at
``end`` 00:00 UTC (exclusive), so nothing is ever dated in the future.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

DAY = 86_400
# How far past the window billing dates (next renewal, trial end) may be computed.
SPILL_DAYS = 400


def add_months(d: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's length (Jan 31 + 1 → Feb 28/29)."""
    index = d.month - 1 + months
    year, month = d.year + index // 12, index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Timebase:
    start: date
    end: date
    days: int
    weekday: np.ndarray  # 0 = Monday, for days 0 … days + SPILL_DAYS
    month: np.ndarray  # 1 … 12
    next_month: np.ndarray  # day number of the same day next month
    next_year: np.ndarray

    @classmethod
    def build(cls, *, end: date, months: int) -> Timebase:
        start = add_months(end, -months)
        days = (end - start).days
        span = days + SPILL_DAYS
        dates = [start + timedelta(days=i) for i in range(span)]
        weekday = np.array([d.weekday() for d in dates], dtype=np.int8)
        month = np.array([d.month for d in dates], dtype=np.int8)
        next_month = np.array([(add_months(d, 1) - start).days for d in dates], dtype=np.int64)
        next_year = np.array([(add_months(d, 12) - start).days for d in dates], dtype=np.int64)
        return cls(start, end, days, weekday, month, next_month, next_year)

    @property
    def epoch(self) -> int:
        """Unix time of day 0."""
        return int(
            datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC).timestamp()
        )

    @property
    def end_sec(self) -> int:
        return self.days * DAY


def format_times(seconds: np.ndarray, epoch: int) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS`` (UTC) strings for window seconds, vectorised.

    That is the text SQLite stores for Django datetimes and what PostgreSQL reads as
    ``timestamptz`` in a UTC session (Django always sets the session time zone to UTC).
    """
    if len(seconds) == 0:
        return []
    stamps = (np.asarray(seconds, dtype=np.int64) + epoch).astype("datetime64[s]")
    text = np.datetime_as_string(stamps, unit="s")  # 2025-01-02T03:04:05
    chars = text.view(np.uint32).reshape(len(text), -1).copy()
    chars[:, 10] = ord(" ")
    return chars.view(f"<U{chars.shape[1]}").ravel().tolist()


def format_dates(days: np.ndarray, start: date) -> list[str]:
    base = np.datetime64(start.isoformat(), "D")
    return np.datetime_as_string(base + np.asarray(days, dtype="timedelta64[D]")).tolist()
