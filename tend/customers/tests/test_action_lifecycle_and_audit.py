"""Customer actions record history, timeline and audit rows."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tend.accounts.models import AuditEntry
from tend.customers.actions import (
    contact_create,
    contact_update,
    customer_add_note,
    customer_change_stage,
    customer_set_tags,
    customer_update,
)
from tend.customers.models import Contact, Stage, StageChange
from tend.customers.timeline import describe
from tend.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db


def test_a_stage_change_is_kept_in_history_on_the_timeline_and_in_the_audit_log(owner):
    customer = make_customer(stage=Stage.TRIAL)
    customer_change_stage(customer=customer, stage=Stage.ONBOARDING, by=owner, reason="paid")

    change = StageChange.objects.filter(customer=customer).latest("at")
    assert (change.from_stage, change.to_stage, change.by) == ("trial", "onboarding", owner)
    entry = customer.timeline.get(kind="stage")
    assert describe(entry) == "Stage changed from Trial to Onboarding"
    audit = AuditEntry.objects.get(action="customer.stage")
    assert audit.actor == owner and audit.changes == {"stage": ["trial", "onboarding"]}


def test_an_unknown_stage_is_refused_and_nothing_changes():
    customer = make_customer(stage=Stage.TRIAL)
    with pytest.raises(ValueError, match="stage"):
        customer_change_stage(customer=customer, stage="vip", by=None)
    customer.refresh_from_db()
    assert customer.stage == Stage.TRIAL
    assert StageChange.objects.filter(customer=customer).count() == 1


def test_leaving_the_churned_stage_clears_the_churn_date():
    customer = make_customer(stage=Stage.ESTABLISHED)
    customer_change_stage(customer=customer, stage=Stage.CHURNED, by=None)
    assert customer.churned_at is not None
    customer_change_stage(customer=customer, stage=Stage.ONBOARDING, by=None, reason="won back")
    customer.refresh_from_db()
    assert customer.churned_at is None


def test_an_update_audits_only_fields_that_really_changed(member):
    customer = make_customer(name="Acme", industry="Retail")
    customer_update(customer=customer, by=member, name="Acme", industry="Software")
    audit = AuditEntry.objects.get(action="customer.update")
    assert audit.changes == {"industry": ["Retail", "Software"]}


def test_a_bad_email_names_the_field_and_is_not_saved():
    customer = make_customer(email="ok@example.com")
    with pytest.raises(ValidationError) as err:
        customer_update(customer=customer, by=None, email="not-an-email")
    assert "email" in err.value.message_dict
    customer.refresh_from_db()
    assert customer.email == "ok@example.com"


def test_tags_are_created_on_demand_and_replaced_as_a_set():
    customer = make_customer()
    assert customer_set_tags(customer=customer, tags=["vip", " beta ", "vip"], by=None) == [
        "beta",
        "vip",
    ]
    customer_set_tags(customer=customer, tags=["beta"], by=None)
    assert list(customer.tags.values_list("name", flat=True)) == ["beta"]


def test_an_empty_note_is_refused():
    customer = make_customer()
    with pytest.raises(ValueError, match="body"):
        customer_add_note(customer=customer, by=None, body="   ")
    assert not customer.timeline.filter(kind="note").exists()


def test_the_first_contact_is_primary_and_a_new_primary_replaces_the_old_one():
    customer = make_customer()
    first = make_contact(customer)
    second = contact_create(customer=customer, by=None, name="Second")
    assert first.is_primary and not second.is_primary
    contact_update(contact=second, by=None, is_primary=True)
    first.refresh_from_db()
    assert not first.is_primary
    assert list(Contact.objects.filter(customer=customer, is_primary=True)) == [second]


def test_the_database_refuses_two_primary_contacts_for_one_customer():
    customer = make_customer()
    make_contact(customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(customer=customer, name="Sneaky", is_primary=True)


def test_a_duplicate_external_id_names_the_field():
    make_customer(external_id="acme")
    with pytest.raises(ValidationError) as err:
        make_customer(external_id="acme")
    assert "external_id" in err.value.message_dict


def test_stripe_timeline_entries_read_in_the_readers_language():
    from django.utils import translation

    from tend.customers.actions import timeline_add

    customer = make_customer()
    entry = timeline_add(
        customer=customer,
        kind="subscription",
        title="Payment failed: 49.00 USD (attempt 2)",
        data={
            "msg": "stripe_payment_failed",
            "amount": "49.00",
            "currency": "USD",
            "attempt_count": 2,
        },
    )
    assert describe(entry) == "Payment failed: 49.00 USD (attempt 2)"
    with translation.override("zh-hans"):
        assert describe(entry) == "付款失败：49.00 USD（第 2 次尝试）"
