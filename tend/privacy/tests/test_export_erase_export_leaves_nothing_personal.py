"""The acceptance round trip: a customer with data in every app; export holds it all, an
erasure removes or anonymises it, a second export holds nothing personal; the audit log
keeps who did what and when, and the erasure itself is recorded without the data."""

import io
import json
import zipfile

import pytest

from tend.accounts.models import AuditEntry
from tend.billing.models import MrrMovement, Order, Subscription
from tend.customers.models import Customer
from tend.messaging.models import Suppression
from tend.privacy.actions import customer_erase, customer_export
from tend.privacy.models import Erasure
from tend.privacy.registry import privacy
from tend.privacy.scrub import email_hash
from tend.privacy.tests.filling import EMAIL, NAME, PERSONAL, fill

pytestmark = pytest.mark.django_db


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_export_has_two_files_per_entry_and_a_readme(owner):
    filled = fill(owner)
    files = _files(customer_export(customer=filled.customer, by=owner))
    for entry in privacy:
        assert f"{entry.name}.json" in files and f"{entry.name}.csv" in files
    readme = files["README.txt"].decode()
    assert owner.username in readme and "billing-orders.csv" in readme
    # Every entry that holds something for this customer has rows in its file.
    empty = [n for n, b in files.items() if n.endswith(".json") and json.loads(b) == []]
    assert empty == [], empty
    blob = b"".join(files.values()).decode()
    for value in PERSONAL:
        assert value in blob, value
    assert AuditEntry.objects.filter(
        action="privacy.export", customer_id=filled.customer.pk
    ).exists()


def test_after_erasure_a_second_export_holds_nothing_personal(owner):
    filled = fill(owner)
    pk = filled.customer.pk
    writes_before = list(
        AuditEntry.objects.filter(customer_id=pk).values_list("pk", "actor_id", "at", "action")
    )
    erasure = customer_erase(customer=filled.customer, by=owner, reference="ticket 42")

    customer = Customer.objects.get(pk=pk)
    assert customer.name == f"Erased customer #{pk}" and customer.email == ""
    data = customer_export(customer=customer, by=owner)
    blob = b"".join(_files(data).values()).decode()
    for value in PERSONAL:
        assert value.lower() not in blob.lower(), value

    # The audit log keeps who did what and when, not what it said.
    after = {
        row[0]: row
        for row in AuditEntry.objects.filter(customer_id=pk).values_list(
            "pk", "actor_id", "at", "action"
        )
    }
    for row in writes_before:
        assert after[row[0]] == row
    everything = json.dumps(list(AuditEntry.objects.values_list("changes", flat=True)))
    for value in PERSONAL:
        assert value.lower() not in everything.lower(), value

    # The erasure is recorded, without what it erased.
    assert Erasure.objects.get() == erasure
    assert erasure.reference == "ticket 42" and erasure.by == owner
    record = json.dumps([erasure.counts, erasure.reference, erasure.actor_label])
    assert NAME not in record and EMAIL not in record
    assert erasure.counts["activity-events"] >= 1 and erasure.counts["contacts"] >= 1
    assert AuditEntry.objects.filter(action="privacy.erase", customer_id=pk).exists()

    # Billing stays for accounting, anonymised; the address stays only as a hash.
    assert Subscription.objects.filter(customer_id=pk, external_id=None).count() == 1
    assert Order.objects.get(customer_id=pk).description == ""
    assert MrrMovement.objects.filter(customer_id=pk).exists()
    assert Suppression.objects.filter(email=email_hash(EMAIL), note="erased").exists()
    assert not Suppression.objects.filter(email=EMAIL).exists()
    # Every send asks the consent check, which reads the hashed form: never emailed again.
    from tend.customers.consent import email_allowed

    assert email_allowed(EMAIL.upper())[0] is False
    # Other rows of the same tables are left alone.
    from tend.ingest.imports.models import RejectedRow

    assert RejectedRow.objects.get(row=3).values == ["Other", "x"]
