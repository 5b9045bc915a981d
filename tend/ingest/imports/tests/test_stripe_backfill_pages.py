"""A Stripe export uploaded in the browser: Stripe's headers are mapped without any help."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tend.billing.actions import exchange_rate_set
from tend.billing.models import Subscription
from tend.ingest.imports.models import Import, ImportStatus
from tend.ingest.webhooks.models import StripeCustomer

pytestmark = pytest.mark.django_db

EXPORT = Path(__file__).parent / "fixtures" / "stripe_subscriptions_export.csv"


def test_the_upload_form_offers_the_stripe_exports(member_client):
    page = member_client.get(reverse("imports:list")).content.decode()
    assert '<option value="stripe_subscriptions">Stripe subscriptions (export)</option>' in page
    assert '<option value="stripe_customers">Stripe customers (export)</option>' in page
    assert "choose Export, and upload the CSV as it is" in page


def test_a_member_backfills_from_a_stripe_export_in_the_browser(
    member_client, member, django_capture_on_commit_callbacks
):
    # The export's yen subscription is counted in USD with this rate (without one it is refused).
    exchange_rate_set(currency="JPY", rate="0.0065", valid_from=date(2025, 1, 1), by=member)
    upload = SimpleUploadedFile("subscriptions.csv", EXPORT.read_bytes(), content_type="text/csv")
    response = member_client.post(
        reverse("imports:list"),
        {"kind": "stripe_subscriptions", "file": upload, "date_order": "dmy"},
    )
    run = Import.objects.get()
    assert response["Location"] == reverse("imports:mapping", args=[run.pk])
    mapped = {h: f for h, f in run.mapping.items() if f}
    assert mapped == {
        "id": "external_id",
        "Customer ID": "customer",
        "Customer Name": "customer_name",
        "Customer Email": "customer_email",
        "Plan": "plan",
        "Product": "product",
        "Quantity": "quantity",
        "Currency": "currency",
        "Interval": "interval",
        "Amount": "amount",
        "Status": "status",
        "Created (UTC)": "created",
        "Start (UTC)": "started_at",
        "Current Period End (UTC)": "current_period_end",
        "Trial End (UTC)": "trial_ends_at",
        "Canceled At (UTC)": "canceled_at",
        "Ended At (UTC)": "ended_at",
    }
    page = member_client.get(reverse("imports:mapping", args=[run.pk])).content.decode()
    assert '<option value="amount" selected>Amount per interval *</option>' in page

    form = {f"col_{i}": run.mapping[h] for i, h in enumerate(run.headers)}
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(reverse("imports:mapping", args=[run.pk]), {**form, "date_order": "dmy"})
    run.refresh_from_db()
    assert (run.status, run.created, run.rejected) == (ImportStatus.PREVIEWED, 9, 0)
    assert not Subscription.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(reverse("imports:start", args=[run.pk]))
    run.refresh_from_db()
    assert (run.status, run.created, run.customers_affected) == (ImportStatus.DONE, 9, 8)
    assert run.created_by == member
    assert Subscription.objects.count() == 9 and StripeCustomer.objects.count() == 8
    history = member_client.get(reverse("imports:list")).content.decode()
    assert "Stripe subscriptions (export)" in history
