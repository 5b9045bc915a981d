"""Subscription rows in another currency: counted in the reporting currency with the stored
rate, or refused one by one (naming the row, the currency column, the currency and the day)
while the other rows of the file land."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Sum

from tend.billing.actions import exchange_rate_set, subscription_create
from tend.billing.models import MrrMovement, Subscription
from tend.customers.models import Customer
from tend.factories import make_customer
from tend.ingest.imports.actions import import_file
from tend.ingest.imports.models import RejectedRow
from tend.ingest.models import IngestStat
from tend.ingest.webhooks.models import StripeCustomer

pytestmark = pytest.mark.django_db
D = Decimal
FIXTURES = Path(__file__).parent / "fixtures"
HEADER = ["ID", "Customer", "MRR", "Currency", "Status", "Start", "Canceled at"]


def ledger_matches(customer: Customer) -> bool:
    customer.refresh_from_db()
    total = MrrMovement.objects.filter(customer=customer).aggregate(s=Sum("amount"))["s"]
    return (total or D(0)) == customer.mrr


def test_a_row_without_a_rate_is_rejected_naming_the_currency_column_and_the_rest_lands(
    write_csv,
):
    exchange_rate_set(currency="GBP", rate="1.25", valid_from=date(2024, 1, 1), by=None)
    acme, bolt, cora = (make_customer(external_id=c) for c in ("c1", "c2", "c3"))
    path = write_csv(
        "subs.csv",
        HEADER,
        [
            ["s1", "c1", "50", "USD", "active", "2024-03-01", ""],
            ["s2", "c2", "100", "EUR", "active", "2024-03-01", ""],
            ["s3", "c3", "80", "gbp", "active", "2024-03-01", ""],
            ["s4", "c1", "20", "", "active", "2024-04-01", ""],  # reporting currency
        ],
    )
    result = import_file(kind="subscriptions", path=path)

    assert (result.created, result.rejected) == (3, 1)
    assert result.problems == [
        "Row 3, column “Currency”: there is no exchange rate for EUR on 2024-03-01, so this "
        "subscription's MRR cannot be counted in USD; add one with “tend rates set EUR RATE "
        "--from 2024-03-01” or on the Exchange rates page, then import the row again"
    ]
    kept = RejectedRow.objects.get(run=result.run)
    assert (kept.row, kept.column, kept.reason, kept.value) == (
        3,
        "Currency",
        "no_exchange_rate",
        "EUR 2024-03-01",
    )
    assert result.reasons == {"no_exchange_rate": 1}
    rejected = IngestStat.objects.get(source="import", outcome="rejected")
    assert (rejected.reason, rejected.count) == ("no_exchange_rate", 1)

    assert sorted(Subscription.objects.values_list("external_id", flat=True)) == ["s1", "s3", "s4"]
    for customer in (acme, bolt, cora):
        customer.refresh_from_db()
    assert (acme.mrr, bolt.mrr, cora.mrr) == (D("70.00"), D("0.00"), D("100.00"))  # 80 × 1.25
    assert Subscription.objects.get(external_id="s3").currency == "GBP"
    assert not MrrMovement.objects.filter(customer=bolt).exists()
    assert all(ledger_matches(c) for c in (acme, bolt, cora))


def test_a_dry_run_reports_the_same_refusal_and_writes_nothing(write_csv):
    make_customer(external_id="c1")
    path = write_csv("subs.csv", HEADER, [["s1", "c1", "100", "EUR", "active", "2024-03-01", ""]])
    result = import_file(kind="subscriptions", path=path, dry_run=True)
    assert (result.created, result.rejected, result.reasons) == (0, 1, {"no_exchange_rate": 1})
    assert not Subscription.objects.exists()


def test_the_rejected_row_lands_once_a_rate_covers_its_start(write_csv):
    exchange_rate_set(currency="EUR", rate="1.08", valid_from=date(2024, 6, 1), by=None)
    ana = make_customer(external_id="c1")
    row = ["s1", "c1", "100", "EUR", "canceled", "2024-03-01", "2024-09-01"]
    path = write_csv("subs.csv", HEADER, [row])
    # The history is replayed from the start, 2024-03-01: a rate from June does not cover it.
    first = import_file(kind="subscriptions", path=path)
    assert first.rejected == 1 and "EUR on 2024-03-01" in first.problems[0]

    exchange_rate_set(currency="EUR", rate="1.05", valid_from=date(2024, 1, 1), by=None)
    again = import_file(kind="subscriptions", path=path)
    assert (again.created, again.rejected) == (1, 0)
    moves = list(
        MrrMovement.objects.filter(customer=ana).order_by("at").values_list("kind", "amount", "at")
    )
    # Started at 1.05 (100 × 1.05), churned in September: the whole 105.00 leaves.
    assert moves == [
        ("new", D("105.00"), datetime(2024, 3, 1, tzinfo=UTC)),
        ("churn", D("-105.00"), datetime(2024, 9, 1, tzinfo=UTC)),
    ]
    assert ledger_matches(ana)


def test_a_backfilled_history_is_valued_at_the_rate_of_each_change(write_csv):
    exchange_rate_set(currency="EUR", rate="1.05", valid_from=date(2024, 1, 1), by=None)
    exchange_rate_set(currency="EUR", rate="1.10", valid_from=date(2024, 6, 1), by=None)
    ben = make_customer(external_id="c1")
    path = write_csv(
        "subs.csv",
        HEADER,
        [
            ["s1", "c1", "100", "EUR", "active", "2024-03-01", ""],
            ["s2", "c1", "50", "USD", "active", "2024-07-01", ""],
        ],
    )
    import_file(kind="subscriptions", path=path)
    moves = list(
        MrrMovement.objects.filter(customer=ben).order_by("at").values_list("kind", "mrr_after")
    )
    # March: 100 × 1.05; July: 100 × 1.10 + 50, the euros re-valued at July's rate.
    assert moves == [("new", D("105.00")), ("expansion", D("160.00"))]
    assert ledger_matches(ben)


def test_a_customer_with_a_stored_subscription_lacking_a_rate_cannot_be_recomputed(write_csv):
    # A euro subscription stored before rates existed (trialing then, active now).
    dan = make_customer(external_id="c1")
    subscription_create(
        customer=dan, by=None, mrr=D("10"), currency="USD", at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    old = subscription_create(
        customer=dan, by=None, mrr=D("100"), currency="EUR", status="trialing",
        external_id="old", at=datetime(2024, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    Subscription.objects.filter(pk=old.pk).update(status="active")
    path = write_csv("subs.csv", HEADER, [["s9", "c1", "30", "USD", "active", "2024-05-01", ""]])
    result = import_file(kind="subscriptions", path=path)
    assert result.rejected == 1
    assert "no exchange rate for EUR" in result.problems[0]
    assert not Subscription.objects.filter(external_id="s9").exists()


def test_a_stripe_export_row_without_a_rate_is_rejected_and_the_others_land():
    result = import_file(
        kind="stripe_subscriptions", path=FIXTURES / "stripe_subscriptions_export.csv"
    )
    assert (result.rows, result.created, result.rejected) == (9, 8, 1)
    assert result.problems == [
        "Row 10, column “Currency”: there is no exchange rate for JPY on 2025-03-15, so this "
        "subscription's MRR cannot be counted in USD; add one with “tend rates set JPY RATE "
        "--from 2025-03-15” or on the Exchange rates page, then import the row again"
    ]
    assert not Subscription.objects.filter(external_id="sub_1QiHana01").exists()
    assert Subscription.objects.count() == 8
    # A refused row creates no customer either; the other seven are there.
    assert not StripeCustomer.objects.filter(stripe_id="cus_RHana0008").exists()
    assert StripeCustomer.objects.count() == 7


def test_a_stripe_export_row_of_a_known_customer_without_a_rate_leaves_the_customer_as_is(
    write_csv,
):
    import_file(kind="stripe_subscriptions", path=FIXTURES / "stripe_subscriptions_export.csv")
    acme = StripeCustomer.objects.get(stripe_id="cus_RAcme0001").customer
    assert (acme.mrr, MrrMovement.objects.filter(customer=acme).count()) == (D("49.00"), 1)
    path = write_csv(
        "more.csv",
        ["id", "Customer ID", "Status", "Amount", "Interval", "Currency", "Start (UTC)"],
        [
            ["sub_Euro", "cus_RAcme0001", "active", "30.00", "month", "eur", "2025-07-01"],
            ["sub_More", "cus_RAcme0001", "active", "10.00", "month", "usd", "2025-07-01"],
        ],
    )
    result = import_file(kind="stripe_subscriptions", path=path)
    assert (result.created, result.rejected) == (1, 1)
    assert result.problems[0].startswith("Row 2, column “Currency”: there is no exchange rate")
    acme.refresh_from_db()
    assert acme.mrr == D("59.00")  # 49 + the 10 USD row; the euro row is left out
    assert ledger_matches(acme)
    assert not Subscription.objects.filter(external_id="sub_Euro").exists()
