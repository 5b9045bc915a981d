"""The one rollup upsert and the one last-seen update that tracking and imports share: small and
large batches add up the same, and last-seen only ever moves forward."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from tend.activity.actions import customers_touch, rollups_increment
from tend.activity.models import DailyRollup
from tend.customers.models import Customer
from tend.factories import make_customer

pytestmark = pytest.mark.django_db


def _stored() -> dict[tuple[int, date, str], int]:
    return {(r.customer_id, r.day, r.name): r.count for r in DailyRollup.objects.all()}


@pytest.mark.parametrize("days", [3, 900])  # 6 keys; 2,700 keys (COPY / executemany paths)
def test_counts_add_up_across_batches_of_any_size(days: int) -> None:
    a, b = make_customer(), make_customer()
    start = date(2026, 1, 1)
    counts: Counter[tuple[int, date, str]] = Counter()
    for i in range(days):
        counts[(a.pk, start + timedelta(days=i), "login")] += 2
        counts[(b.pk, start + timedelta(days=i), "login")] += 1
        counts[(b.pk, start + timedelta(days=i), "report 'q'\t\\")] += 1
    rollups_increment(counts)
    rollups_increment(counts)
    assert _stored() == {key: 2 * n for key, n in counts.items()}


def test_nothing_to_count_writes_nothing() -> None:
    rollups_increment(Counter())
    assert not DailyRollup.objects.exists()


def test_last_seen_moves_forward_never_back() -> None:
    acme = make_customer()
    noon = datetime(2026, 3, 1, 12, tzinfo=UTC)
    customers_touch({acme.pk: noon})
    customers_touch({acme.pk: noon - timedelta(hours=1)})
    assert Customer.objects.get(pk=acme.pk).last_seen_at == noon


def test_with_slack_last_seen_moves_only_when_that_much_newer() -> None:
    acme = make_customer()
    noon = datetime(2026, 3, 1, 12, tzinfo=UTC)
    slack = timedelta(minutes=1)
    customers_touch({acme.pk: noon}, slack=slack)
    customers_touch({acme.pk: noon + timedelta(seconds=30)}, slack=slack)
    assert Customer.objects.get(pk=acme.pk).last_seen_at == noon
    customers_touch({acme.pk: noon + timedelta(minutes=2)}, slack=slack)
    assert Customer.objects.get(pk=acme.pk).last_seen_at == noon + timedelta(minutes=2)


def test_thousands_of_customers_are_touched_in_one_call() -> None:
    ids = [make_customer().pk for _ in range(3)]
    at = datetime(2026, 3, 1, tzinfo=UTC)
    # More ids than one SQLite statement takes: unknown ids are simply not found.
    customers_touch({**{i: at for i in ids}, **{10_000_000 + n: at for n in range(5_000)}})
    assert list(Customer.objects.values_list("last_seen_at", flat=True).distinct()) == [at]
