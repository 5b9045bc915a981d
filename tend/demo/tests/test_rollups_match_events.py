"""Daily rollups are rebuilt from the generated events."""

import pytest
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from tend.activity.models import DailyRollup, Event
from tend.demo.tests.helpers import generate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("business", ["saas", "shop"])
def test_rollups_count_every_event_by_customer_day_and_name(business):
    summary = generate(business)
    assert DailyRollup.objects.aggregate(total=Sum("count"))["total"] == summary.events
    expected = {
        (r["customer_id"], r["day"], r["name"]): r["n"]
        for r in Event.objects.annotate(day=TruncDate("timestamp"))
        .values("customer_id", "day", "name")
        .annotate(n=Count("id"))
    }
    actual = {(r.customer_id, r.day, r.name): r.count for r in DailyRollup.objects.all()}
    assert actual == expected
