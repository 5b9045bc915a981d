"""Backfill from Stripe's Dashboard exports through the import path.

The fixtures in ``fixtures/`` have the columns of Stripe's own exports (Subscriptions →
Export, Customers → Export); every MRR below is worked out by hand.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client

from tend.accounts.models import AuditEntry
from tend.billing.actions import exchange_rate_set
from tend.billing.models import MrrMovement, Plan, Subscription
from tend.customers.models import Customer, Stage, TimelineEntry
from tend.customers.timeline import describe, detail
from tend.factories import make_customer
from tend.ingest.imports.actions import import_file
from tend.ingest.imports.models import Import, ImportStatus, RejectedRow
from tend.ingest.models import IngestStat
from tend.ingest.webhooks.models import StripeCustomer
from tend.ingest.webhooks.tests import stripe_payloads as sp

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
EXPORT = FIXTURES / "stripe_subscriptions_export.csv"
D = Decimal


@pytest.fixture
def stripe_client(settings: object) -> Client:
    """Stripe's side of the webhook: signed deliveries, no session."""
    settings.TEND_STRIPE_WEBHOOK_SECRET = sp.SECRET  # type: ignore[attr-defined]
    settings.TEND_STRIPE_WEBHOOK_TOLERANCE = 300  # type: ignore[attr-defined]
    return Client(enforce_csrf_checks=True)


@pytest.fixture(autouse=True)
def yen_rate(db: object) -> None:
    """The export holds one yen subscription; its MRR is counted in USD at 0.0065 per yen."""
    exchange_rate_set(currency="JPY", rate="0.0065", valid_from=date(2025, 1, 1), by=None)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def _backfill(path: Path = EXPORT, **kw: object):  # type: ignore[no-untyped-def]
    return import_file(kind="stripe_subscriptions", path=path, **kw)


def _customer(stripe_id: str) -> Customer:
    return StripeCustomer.objects.select_related("customer").get(stripe_id=stripe_id).customer


def _snapshot() -> dict[str, object]:
    return {
        "customers": list(
            Customer.objects.order_by("pk").values_list("pk", "name", "email", "mrr")
        ),
        "links": list(StripeCustomer.objects.order_by("pk").values_list("stripe_id", "customer")),
        "subscriptions": list(
            Subscription.objects.order_by("pk").values_list(
                "pk", "external_id", "status", "mrr", "plan", "updated_at"
            )
        ),
        "plans": list(Plan.objects.order_by("pk").values_list("code", "price", "interval")),
        "movements": MrrMovement.objects.count(),
        "timeline": TimelineEntry.objects.count(),
    }


def test_an_export_creates_customers_subscriptions_and_mrr_history_as_stripe_counts_them():
    result = _backfill()

    assert (result.rows, result.created, result.rejected) == (9, 9, 0)
    assert result.run.kind == "stripe_subscriptions" and result.run.status == ImportStatus.DONE
    assert Customer.objects.count() == 8 == StripeCustomer.objects.count()
    acme = _customer("cus_RAcme0001")
    assert (acme.name, acme.email, acme.external_id) == (
        "Acme GmbH",
        "billing@acme.example",
        "cus_RAcme0001",
    )
    assert acme.traits == {"stripe_customer_id": "cus_RAcme0001"}
    assert _customer("cus_RGolf0007").email == ""

    mrr = dict(Subscription.objects.values_list("external_id", "mrr"))
    assert mrr == {
        "sub_1QaAcme01": D("49.00"),  # 49 a month
        "sub_1QbBlue01": D("500.00"),  # 1,200 a year × 5 seats ÷ 12
        "sub_1QcCarol1": D("43.33"),  # 10 a week × 52 ÷ 12 = 43.333…
        "sub_1QdBlue02": D("45.00"),  # 15 × 3 seats, trialing: stored, not counted
        "sub_1QeDelta1": D("98.00"),  # 49 × 2, canceled
        "sub_1QfEcho01": D("49.00"),  # unpaid: stored, not counted
        "sub_1QgFox001": D("0.00"),  # first payment expired: never brought anything in
        "sub_1QhGolf01": D("49.00"),  # paused: stored, not counted
        "sub_1QiHana01": D("1000.00"),  # ¥12,000 a year ÷ 12 (JPY has no minor unit)
    }
    statuses = dict(Subscription.objects.values_list("external_id", "status"))
    assert statuses == {
        "sub_1QaAcme01": "active",
        "sub_1QbBlue01": "active",
        "sub_1QcCarol1": "past_due",
        "sub_1QdBlue02": "trialing",
        "sub_1QeDelta1": "canceled",
        "sub_1QfEcho01": "unpaid",
        "sub_1QgFox001": "canceled",
        "sub_1QhGolf01": "paused",
        "sub_1QiHana01": "active",
    }
    customers_mrr = {
        s: _customer(s).mrr
        for s in (
            "cus_RAcme0001",
            "cus_RBlue0002",
            "cus_RCarol003",
            "cus_RDelta004",
            "cus_RHana0008",
        )
    }
    assert customers_mrr == {
        "cus_RAcme0001": D("49.00"),
        "cus_RBlue0002": D("500.00"),
        "cus_RCarol003": D("43.33"),
        "cus_RDelta004": D("0.00"),
        "cus_RHana0008": D("6.50"),  # ¥1,000 a month × 0.0065 USD per yen
    }
    for stripe_id in ("cus_REcho0005", "cus_RFox00006", "cus_RGolf0007"):
        assert _customer(stripe_id).mrr == 0
        assert not MrrMovement.objects.filter(customer=_customer(stripe_id)).exists()

    blue = Subscription.objects.select_related("plan").get(external_id="sub_1QbBlue01")
    assert (blue.interval, blue.quantity, blue.currency) == ("year", 5, "USD")
    assert (blue.plan.code, blue.plan.price, blue.plan.interval) == (
        "price_1QTeam1200y",
        D("1200.00"),
        "year",
    )
    assert blue.started_at == at(2, 3, 14, 2)
    assert blue.current_period_end == datetime(2026, 2, 3, 14, 2, tzinfo=UTC)
    delta = Subscription.objects.get(external_id="sub_1QeDelta1")
    assert delta.canceled_at == at(5, 1, 12)  # when it ended, as the webhook takes it
    trial = Subscription.objects.get(external_id="sub_1QdBlue02")
    assert trial.trial_ends_at == at(6, 15, 10)


def test_the_mrr_history_is_replayed_from_the_export_dates_and_sums_to_mrr():
    _backfill()
    delta = _customer("cus_RDelta004")
    moves = list(
        MrrMovement.objects.filter(customer=delta)
        .order_by("at")
        .values_list("kind", "amount", "at")
    )
    assert moves == [("new", D("98.00"), at(2, 1, 12)), ("churn", D("-98.00"), at(5, 1, 12))]
    assert delta.stage == Stage.CHURNED
    blue = _customer("cus_RBlue0002")
    assert list(MrrMovement.objects.filter(customer=blue).values_list("kind", "amount", "at")) == [
        ("new", D("500.00"), at(2, 3, 14, 2))
    ]
    for customer in Customer.objects.all():
        total = MrrMovement.objects.filter(customer=customer).aggregate(s=Sum("amount"))["s"]
        assert (total or D(0)) == customer.mrr, customer.name


def test_interval_counts_coupons_and_daily_prices_are_normalised_like_the_webhook():
    _backfill(FIXTURES / "stripe_subscriptions_counts.csv")
    mrr = dict(Subscription.objects.values_list("external_id", "mrr"))
    assert mrr == {
        "sub_2QQuarter": D("30.00"),  # 90 every 3 months
        "sub_2QHalfYr1": D("150.00"),  # 600 every 6 months × 2 seats ÷ 6 × (1 − 25 %)
        "sub_2QDaily01": D("30.42"),  # 1 a day × 365 ÷ 12 = 30.416…
    }
    intervals = dict(Subscription.objects.values_list("external_id", "interval"))
    assert intervals == {
        "sub_2QQuarter": "quarter",
        "sub_2QHalfYr1": "month",  # no name for 6 months: kept as its monthly equivalent
        "sub_2QDaily01": "month",
    }
    assert Plan.objects.get(code="price_1QHalf600").price == D("100.00")


def test_bad_rows_are_refused_with_the_row_the_column_and_the_reason():
    result = _backfill(FIXTURES / "stripe_subscriptions_bad.csv")
    assert (result.rows, result.created, result.rejected) == (7, 1, 6)
    assert result.problems == [
        "Row 3, column “Interval”: “fortnight” is not a billing interval; intervals: day, "
        "week, month, year",
        "Row 4, column “Amount”: -10.00 is negative; amounts must be zero or more",
        "Row 5, column “Start (UTC)”: “31/31/2025” is not a date "
        "(try 2024-03-01, 01/03/2024 or 2024年3月1日)",
        "Row 6, column “Customer ID”: a value is required but the cell is empty",
        "Row 7, column “Status”: “frozen” is not a status; statuses: incomplete, trialing, "
        "active, past_due, unpaid, paused, canceled, incomplete_expired",
        "Row 8, column “id”: “sub_3QGood001” already appeared in an earlier row of this file",
    ]
    assert result.reasons == {
        "bad_stripe_interval": 1,
        "bad_stripe_status": 1,
        "negative_amount": 1,
        "bad_date": 1,
        "missing_value": 1,
        "duplicate_in_file": 1,
    }
    assert list(Subscription.objects.values_list("external_id", flat=True)) == ["sub_3QGood001"]
    # Refused rows create no customers either.
    assert list(StripeCustomer.objects.values_list("stripe_id", flat=True)) == ["cus_RGood0001"]
    kept = RejectedRow.objects.get(run=result.run, row=3)
    assert (kept.column, kept.reason, kept.value) == (
        "Interval",
        "bad_stripe_interval",
        "fortnight",
    )
    assert kept.values[0] == "sub_3QFort001"
    rejected = dict(
        IngestStat.objects.filter(source="import", outcome="rejected").values_list(
            "reason", "count"
        )
    )
    assert rejected == result.reasons
    assert IngestStat.objects.get(source="import", outcome="accepted").count == 1


def test_running_the_same_export_again_changes_nothing():
    first = _backfill()
    before = _snapshot()
    again = _backfill()
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 9, 0)
    assert again.customers == 0
    assert _snapshot() == before
    assert Import.objects.count() == 2 and first.run.pk != again.run.pk


def test_the_timeline_gets_one_entry_per_customer_for_the_whole_file():
    _backfill()
    blue = _customer("cus_RBlue0002")
    [entry] = TimelineEntry.objects.filter(customer=blue, kind="import")
    assert describe(entry) == (
        "Imported 2 rows of Stripe subscriptions from stripe_subscriptions_export.csv"
    )
    assert detail(entry) == "MRR 0.00 → 500.00 USD"
    assert TimelineEntry.objects.filter(kind="import").count() == 8


def test_a_dry_run_checks_everything_and_writes_nothing():
    result = _backfill(dry_run=True)
    assert (result.created, result.rejected) == (9, 0)
    assert result.run.status == ImportStatus.PREVIEWED
    assert not Customer.objects.exists() and not Subscription.objects.exists()
    assert not StripeCustomer.objects.exists() and not Plan.objects.exists()
    assert not IngestStat.objects.exists()


def test_a_customer_known_by_its_stripe_id_or_metadata_is_linked_not_duplicated():
    by_id = make_customer("Acme (CRM)", external_id="cus_RAcme0001")
    by_meta = make_customer("Blue Ocean (CRM)", external_id="crm-42")
    path = FIXTURES / "stripe_customers_export.csv"
    result = import_file(kind="stripe_customers", path=path)
    assert (result.created, result.updated, result.rejected) == (1, 2, 0)
    assert _customer("cus_RAcme0001") == by_id
    assert _customer("cus_RBlue0002") == by_meta
    by_meta.refresh_from_db()
    # The Stripe name (here only a description) and email replace the CRM's, as a
    # customer.updated event would.
    assert (by_meta.name, by_meta.email, by_meta.country) == (
        "Blue Ocean (annual)",
        "finance@blueocean.example",
        "GB",
    )
    carol = _customer("cus_RCarol003")
    assert (carol.name, carol.signed_up_at) == ("Carol Chen", at(3, 1, 7, 58))
    assert Customer.objects.count() == 3

    # The subscriptions export then finds all three and creates only the other five.
    _backfill()
    assert Customer.objects.count() == 8
    assert by_id.subscriptions.get().external_id == "sub_1QaAcme01"
    assert by_meta.subscriptions.count() == 2

    again = import_file(kind="stripe_customers", path=path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_a_later_webhook_updates_the_backfilled_subscription_and_customer(
    stripe_client: Client,
):
    _backfill()
    sub = Subscription.objects.get(external_id="sub_1QaAcme01")
    acme = _customer("cus_RAcme0001")
    counts = (Customer.objects.count(), Subscription.objects.count())

    # Acme goes from 1 seat to 3 on the same price.
    upgraded = sp.subscription(
        "sub_1QaAcme01",
        cus_id="cus_RAcme0001",
        items=[sp.item(sp.price("price_1QPro49m", nickname=None), quantity=3)],
    )
    response = sp.post(stripe_client, sp.event("customer.subscription.updated", upgraded))
    assert response.status_code == 200 and response.json()["outcome"] == "processed"

    assert (Customer.objects.count(), Subscription.objects.count()) == counts
    sub.refresh_from_db()
    assert (sub.pk, sub.quantity, sub.mrr) == (
        Subscription.objects.get(external_id="sub_1QaAcme01").pk,
        3,
        D("147.00"),
    )
    acme.refresh_from_db()
    assert acme.mrr == D("147.00")
    last = MrrMovement.objects.filter(customer=acme).latest("pk")
    assert (last.kind, last.amount) == ("expansion", D("98.00"))

    sp.post(stripe_client, sp.event("customer.updated", sp.customer("cus_RAcme0001")))
    assert Customer.objects.count() == counts[0]
    acme.refresh_from_db()
    assert acme.phone == "+49 30 1234567"


def test_a_backfill_after_webhooks_finds_their_customer_and_subscription(stripe_client: Client):
    live = sp.subscription(
        "sub_1QaAcme01",
        cus_id="cus_RAcme0001",
        items=[sp.item(sp.price("price_1QPro49m", nickname=None))],
    )
    sp.post(stripe_client, sp.event("customer.subscription.created", live))
    [webhook_sub] = Subscription.objects.all()

    result = _backfill()
    assert Subscription.objects.get(external_id="sub_1QaAcme01").pk == webhook_sub.pk
    assert Customer.objects.filter(external_id="cus_RAcme0001").count() == 1
    assert result.created == 8  # the other eight; Acme's row updated the webhook's row
    acme = _customer("cus_RAcme0001")
    assert acme.mrr == D("49.00")
    total = MrrMovement.objects.filter(customer=acme).aggregate(s=Sum("amount"))["s"]
    assert total == acme.mrr


def test_the_command_line_runs_the_backfill_and_prints_a_summary():
    out = io.StringIO()
    call_command("import", "stripe_subscriptions", str(EXPORT), stdout=out)
    text = out.getvalue()
    assert "Created" in text and "9" in text
    assert Subscription.objects.count() == 9
    assert AuditEntry.objects.filter(action="import.run").count() == 1

    dry = io.StringIO()
    call_command("import", "stripe_subscriptions", str(EXPORT), "--dry-run", stdout=dry)
    assert "Dry run: nothing was written" in dry.getvalue()
    assert Import.objects.filter(dry_run=True, unchanged=9).count() == 1


def test_the_smallest_export_needs_only_ids_status_amount_and_interval(write_csv):
    path = write_csv(
        "subs.csv",
        ["id", "Customer ID", "Status", "Amount", "Interval", "Amount Off", "Trial End (UTC)",
         "Ended At (UTC)", "Start (UTC)"],
        [
            ["sub_A", "cus_A", "Active", "100.00", "Yearly", "10.00", "", "", "2025-01-01"],
            # Canceled before its trial ended: it never brought anything in.
            ["sub_B", "cus_B", "canceled", "49", "month", "", "2025-01-15", "2025-01-10",
             "2025-01-01"],
        ],
    )  # fmt: skip
    result = _backfill(path)
    assert (result.created, result.rejected) == (2, 0)
    a = Subscription.objects.get(external_id="sub_A")
    # (100 − 10 off) a year ÷ 12; "Active" and "Yearly" read as Stripe's words.
    assert (a.mrr, a.status, a.interval, a.plan) == (D("7.50"), "active", "year", None)
    assert a.customer.name == "cus_A"  # no name in the file: the Stripe id stands in
    assert result.cleaning == {"status: read_choice": 1, "interval: read_choice": 1}
    b = Subscription.objects.get(external_id="sub_B")
    assert (b.mrr, b.canceled_at) == (D("0.00"), at(1, 10))
    assert not MrrMovement.objects.filter(customer=b.customer).exists()


def test_a_file_without_a_required_column_is_refused_before_any_row(write_csv):
    path = write_csv("subs.csv", ["id", "Customer ID", "Status", "Amount"], [["s", "c", "x", "1"]])
    with pytest.raises(ValueError, match="Missing required column: Billing interval"):
        _backfill(path)
    assert not Customer.objects.exists()


def test_a_backfill_queues_a_refresh_of_the_revenue_dashboards(django_capture_on_commit_callbacks):
    from tend.metrics.tasks import metrics_refresh_soon

    with django_capture_on_commit_callbacks() as callbacks:
        _backfill()
    assert metrics_refresh_soon in callbacks
    with django_capture_on_commit_callbacks() as again:
        _backfill()  # nothing changed: nothing to refresh
    assert metrics_refresh_soon not in again
