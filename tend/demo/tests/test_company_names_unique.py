"""Demo companies never share a name: two "Acme Labs" would read as a duplicate record."""

from collections import Counter

import pytest

from tend.customers.models import Customer, Kind
from tend.demo.tests.helpers import generate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("business", ["saas"])
def test_every_company_in_a_demo_has_its_own_name(business):
    generate(business, customers=600, months=3)
    names = Counter(Customer.objects.filter(kind=Kind.COMPANY).values_list("name", flat=True))
    assert len(names) > 300
    assert [name for name, n in names.items() if n > 1] == []
