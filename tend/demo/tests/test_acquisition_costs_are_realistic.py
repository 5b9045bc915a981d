"""The demo's acquisition costs give LTV:CAC where small businesses report it, not 150×."""

import pytest

from tend.demo.tests.helpers import END, generate
from tend.metrics.channels import by_channel
from tend.metrics.filters import Filters

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("business", ["saas", "course"])
def test_every_channel_earns_between_one_and_thirty_times_its_cost(business):
    generate(business, customers=800, months=12)
    rows = by_channel(Filters.parse({}), today=END)
    ratios = {r.channel: r.ltv_cac for r in rows if r.acquired >= 10 and r.ltv_cac is not None}
    assert len(ratios) >= 3
    assert all(1 <= ratio <= 30 for ratio in ratios.values()), ratios
