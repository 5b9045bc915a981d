"""An emptied database (``tend flush``, or the test runner between transactional tests)
gets the built-in acquisition channels back, as a migrated install has them."""

import pytest
from django.core.management import call_command

from tend.customers.channels import channel_choices
from tend.customers.models import AcquisitionChannel


@pytest.mark.django_db(transaction=True)
def test_flush_puts_the_built_in_channels_back():
    AcquisitionChannel.objects.create(code="fairs", name="Trade fairs", position=50)
    call_command("flush", interactive=False, verbosity=0)
    codes = list(AcquisitionChannel.objects.order_by("position").values_list("code", flat=True))
    assert codes[:3] == ["organic", "paid_search", "social"] and "fairs" not in codes
    assert ("organic", "Organic search") in channel_choices()
