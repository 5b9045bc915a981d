"""The data-quality ledger adds counts per source, day, outcome and reason without losing any."""

from datetime import UTC, datetime

import pytest

from tend.ingest.actions import stats_add
from tend.ingest.models import IngestStat

pytestmark = pytest.mark.django_db


def test_counts_add_up_per_day_outcome_and_reason():
    morning = datetime(2026, 5, 1, 8, tzinfo=UTC)
    evening = datetime(2026, 5, 1, 20, tzinfo=UTC)
    stats_add(source="tracking", accepted=98, rejected={"bad_timestamp": 2}, at=morning)
    stats_add(
        source="tracking",
        accepted=50,
        duplicates=3,
        rejected={"bad_timestamp": 1, "oversize": 1},
        at=evening,
    )
    stats_add(source="tracking", accepted=7, at=datetime(2026, 5, 2, 0, 30, tzinfo=UTC))

    rows = {
        (s.day.isoformat(), s.outcome, s.reason): (s.count, s.last_at)
        for s in IngestStat.objects.all()
    }
    assert rows == {
        ("2026-05-01", "accepted", ""): (148, evening),
        ("2026-05-01", "duplicate", ""): (3, evening),
        ("2026-05-01", "rejected", "bad_timestamp"): (3, evening),
        ("2026-05-01", "rejected", "oversize"): (1, evening),
        ("2026-05-02", "accepted", ""): (7, datetime(2026, 5, 2, 0, 30, tzinfo=UTC)),
    }


def test_an_older_report_does_not_move_the_last_time_back():
    late = datetime(2026, 5, 1, 20, tzinfo=UTC)
    stats_add(source="import", accepted=1, at=late)
    stats_add(source="import", accepted=1, at=datetime(2026, 5, 1, 9, tzinfo=UTC))
    stat = IngestStat.objects.get()
    assert (stat.count, stat.last_at) == (2, late)


def test_nothing_to_count_writes_nothing():
    stats_add(source="stripe")
    assert not IngestStat.objects.exists()
