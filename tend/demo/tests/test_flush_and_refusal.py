"""`tend demo-data` refuses to mix with existing customers unless told to flush demo data."""

import io

import pytest
from django.core.management import CommandError, call_command

from tend.activity.models import DailyRollup, Event
from tend.customers.models import Customer
from tend.demo.tests.helpers import generate
from tend.factories import make_customer

pytestmark = pytest.mark.django_db

ARGS = ["--customers", "120", "--months", "4", "--seed", "3", "--end", "2026-06-01"]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("demo_data", *ARGS, *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_a_summary_of_what_it_made():
    output = run()
    assert "Customers" in output and "120" in output
    assert "Events" in output and "MRR" in output
    assert Customer.objects.count() == 120


def test_without_flush_a_database_with_customers_is_refused_and_left_alone():
    make_customer(name="Real customer")
    with pytest.raises(CommandError, match="--flush"):
        run("-v", "0")
    assert list(Customer.objects.values_list("name", flat=True)) == ["Real customer"]


def test_flush_replaces_demo_data_and_keeps_real_customers():
    generate("saas", customers=100)
    real = make_customer(name="Real customer")
    first_events = Event.objects.count()
    run("--flush", "-v", "0")
    assert Customer.objects.filter(pk=real.pk).exists()
    assert Customer.objects.count() == 121
    assert Event.objects.count() != first_events
    assert not Event.objects.filter(customer__isnull=True).exists()
    assert DailyRollup.objects.exists()


def test_flush_can_switch_the_business_type():
    generate("saas", customers=100)
    run("--flush", "--business", "shop", "-v", "0")
    assert set(Customer.objects.values_list("kind", flat=True)) == {"person"}
