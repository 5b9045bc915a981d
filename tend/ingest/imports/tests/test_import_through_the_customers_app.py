"""Imports create and change customers through the customers app's bulk actions: every new
customer gets its stage change, its "customer created" entry and an audit row, like one made
by hand; the import's own summary entry comes on top, one per customer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tend.accounts.models import AuditEntry
from tend.customers.models import Customer, StageChange, TimelineEntry
from tend.ingest.imports.actions import import_file
from tend.ingest.webhooks.models import StripeCustomer

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


def _audits(action: str) -> dict[str, AuditEntry]:
    rows = AuditEntry.objects.filter(object_type="customers.customer", action=action)
    return {a.object_id: a for a in rows}


def test_each_imported_customer_has_one_created_entry_and_one_audit_row(write_csv, owner):
    path = write_csv(
        "crm.csv", ["External ID", "Name"], [["c1", "Acme"], ["c2", "Beta"], ["c3", "Gamma"]]
    )
    import_file(kind="customers", path=path, by=owner)
    audits = _audits("customer.create")
    assert len(audits) == 3
    for customer in Customer.objects.all():
        kinds = sorted(
            (e.kind, e.data["msg"]) for e in TimelineEntry.objects.filter(customer=customer)
        )
        assert kinds == [("import", "imported"), ("system", "customer_created")]
        assert StageChange.objects.filter(customer=customer).count() == 1
        audit = audits[str(customer.pk)]
        assert (audit.actor, audit.actor_label, audit.changes) == (
            owner,
            "import",
            {"name": customer.name},
        )


def test_a_second_import_audits_what_it_changed_and_creates_no_second_entry(write_csv, owner):
    first = write_csv("crm.csv", ["External ID", "Name"], [["c1", "Acme"], ["c2", "Beta"]])
    import_file(kind="customers", path=first, by=owner)
    again = write_csv("crm2.csv", ["External ID", "Name"], [["c1", "Acme AG"], ["c2", "Beta"]])
    result = import_file(kind="customers", path=again, by=owner)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    acme = Customer.objects.get(external_id="c1")
    [update] = _audits("customer.update").values()
    assert (update.object_id, update.changes) == (str(acme.pk), {"name": ["Acme", "Acme AG"]})
    assert TimelineEntry.objects.filter(data__msg="customer_created").count() == 2


def test_a_dry_run_writes_no_entry_and_no_audit_row(write_csv, owner):
    path = write_csv("crm.csv", ["External ID", "Name"], [["c1", "Acme"]])
    import_file(kind="customers", path=path, by=owner, dry_run=True)
    assert not TimelineEntry.objects.exists()
    assert not _audits("customer.create")


def test_customers_from_a_stripe_export_have_their_entry_and_audit_row(owner):
    import_file(
        kind="stripe_subscriptions", path=FIXTURES / "stripe_subscriptions_export.csv", by=owner
    )
    audits = _audits("customer.create")
    links = StripeCustomer.objects.select_related("customer")
    assert links.count() == len(audits) > 0
    for link in links:
        customer = link.customer
        assert (
            TimelineEntry.objects.filter(customer=customer, data__msg="customer_created").count()
            == 1
        )
        assert audits[str(customer.pk)].actor_label == "import"
