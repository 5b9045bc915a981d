"""Each business type produces the customers, billing and usage that business would have."""

from datetime import UTC, datetime

import pytest
from django.db.models import Count

from tend.activity.models import Event
from tend.billing.models import Order, Plan, Subscription
from tend.customers.models import Contact, Customer, Kind, StageChange, TimelineEntry
from tend.demo.catalog import BUSINESSES
from tend.demo.tests.helpers import END, generate

pytestmark = pytest.mark.django_db


def test_saas_customers_are_companies_with_one_to_four_contacts_and_one_primary():
    generate("saas")
    assert Customer.objects.count() == 150
    assert set(Customer.objects.values_list("kind", flat=True)) == {Kind.COMPANY}
    assert not Customer.objects.filter(industry="").exists()
    assert not Customer.objects.filter(size__isnull=True).exists()
    per_customer = Customer.objects.annotate(n=Count("contacts"))
    assert {c.n for c in per_customer} <= {1, 2, 3, 4}
    primaries = Contact.objects.filter(is_primary=True).values("customer").annotate(n=Count("id"))
    assert primaries.count() == 150
    assert {p["n"] for p in primaries} == {1}


def test_saas_has_trials_plans_in_both_intervals_and_seat_based_subscriptions():
    generate("saas", customers=300, months=12)
    codes = set(Plan.objects.values_list("code", flat=True))
    assert {"starter-monthly", "starter-yearly", "business-monthly"} <= codes
    assert Subscription.objects.filter(trial_ends_at__isnull=False).exists()
    assert Subscription.objects.filter(interval="year").exists()
    assert Subscription.objects.filter(quantity__gt=1).exists()
    assert not Order.objects.exists()


@pytest.mark.parametrize("business", ["course", "shop"])
def test_course_and_shop_customers_are_people_with_birthdays_and_at_most_one_contact(business):
    generate(business)
    assert set(Customer.objects.values_list("kind", flat=True)) == {Kind.PERSON}
    assert not Customer.objects.filter(birthday__isnull=True).exists()
    counts = Customer.objects.annotate(n=Count("contacts")).values_list("n", flat=True)
    assert set(counts) <= {0, 1}
    assert Order.objects.exists()


def test_the_shop_has_repeat_orders_with_line_items_that_add_up():
    generate("shop", customers=300, months=12)
    repeaters = Order.objects.values("customer").annotate(n=Count("id")).filter(n__gte=2)
    assert repeaters.count() > 20
    for order in Order.objects.all()[:50]:
        total = sum(float(item["price"]) * item["quantity"] for item in order.items)
        assert float(order.amount) == pytest.approx(total)


def test_the_course_school_sells_courses_and_a_membership():
    generate("course", customers=300, months=12)
    assert Order.objects.values("description").distinct().count() >= 5
    assert Subscription.objects.filter(plan__code__startswith="membership").exists()


@pytest.mark.parametrize("business", ["saas", "course", "shop"])
def test_events_use_the_business_event_names_and_come_from_demo(business):
    generate(business)
    names = set(Event.objects.values_list("name", flat=True).distinct())
    known = {e.name for e in BUSINESSES[business].events} | {"Order Completed"}
    assert names <= known
    assert len(names) >= 4
    assert set(Event.objects.values_list("source", flat=True).distinct()) == {"demo"}
    assert Event.objects.filter(contact__isnull=False).exists()


@pytest.mark.parametrize("business", ["saas", "course", "shop"])
def test_nothing_is_dated_after_the_end_of_the_window(business):
    generate(business)
    end = datetime(END.year, END.month, END.day, tzinfo=UTC)
    assert not Event.objects.filter(timestamp__gte=end).exists()
    assert not TimelineEntry.objects.filter(at__gte=end).exists()
    assert not StageChange.objects.filter(at__gte=end).exists()
    assert not Customer.objects.filter(signed_up_at__gte=end).exists()


def test_customers_arrive_over_the_months_through_several_channels_at_varying_cost():
    generate("saas", customers=600, months=12)
    months = {c.signed_up_at.strftime("%Y-%m") for c in Customer.objects.all()}
    assert len(months) >= 12
    channels = Customer.objects.values("channel").annotate(n=Count("id"))
    assert channels.count() >= 5
    costs = set(Customer.objects.values_list("acquisition_cost", flat=True))
    assert len(costs) > 100
    assert Customer.objects.filter(referred_by__isnull=False).exists()


def test_some_chinese_customers_have_chinese_names():
    generate("saas", customers=600)
    cn = Customer.objects.filter(country="CN")
    assert cn.filter(name__contains="有限公司").exists()
    assert Contact.objects.filter(
        customer__country="CN", name__regex=r"^[\u4e00-\u9fff]+$"
    ).exists()


def test_owners_are_existing_users_and_they_write_some_notes(owner, member):
    generate("saas", customers=300, months=12)
    assert set(Customer.objects.values_list("owner", flat=True)) == {owner.pk, member.pk}
    notes = TimelineEntry.objects.filter(kind__in=["note", "call", "meeting", "email"])
    assert notes.exists()
    assert set(notes.values_list("author", flat=True)) <= {owner.pk, member.pk}
