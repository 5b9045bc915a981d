"""Snapshots and series against a small ledger worked out by hand.

The ledger (all monthly subscriptions, 2026):
  A: new 100 on 10 Jan, expands to 150 on 5 Feb, cancels on 20 Mar.
  B: new 200 on 15 Jan, contracts to 120 on 1 Mar.
  C: new 50 on 10 Feb, cancels on 25 Feb, comes back at 80 on 2 Apr (reactivation).
"Today" is 30 Apr 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tend.billing.actions import subscription_cancel, subscription_create, subscription_update
from tend.customers.actions import customer_update
from tend.factories import make_customer, make_plan
from tend.metrics.cohorts import cohorts, survival
from tend.metrics.filters import FilterError, Filters
from tend.metrics.kpis import kpi_series
from tend.metrics.models import CustomerLife, CustomerMonth
from tend.metrics.snapshots import snapshots_refresh

pytestmark = pytest.mark.django_db

TODAY = date(2026, 4, 30)
NOW = datetime(2026, 4, 30, 12, tzinfo=UTC)


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, tzinfo=UTC)


def D(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture
def ledger() -> dict[str, object]:
    plan = make_plan("basic", "100")
    a = make_customer("A", channel="organic", country="DE")
    b = make_customer("B", channel="paid_search", country="FR")
    c = make_customer("C", channel="organic", country="DE")
    sa = subscription_create(customer=a, plan=plan, by=None, at=at(1, 10), mrr=D("100"))
    sb = subscription_create(customer=b, plan=plan, by=None, at=at(1, 15), mrr=D("200"))
    subscription_update(subscription=sa, by=None, at=at(2, 5), mrr=D("150"))
    sc = subscription_create(customer=c, plan=plan, by=None, at=at(2, 10), mrr=D("50"))
    subscription_cancel(subscription=sc, by=None, at=at(2, 25))
    subscription_update(subscription=sb, by=None, at=at(3, 1), mrr=D("120"))
    subscription_cancel(subscription=sa, by=None, at=at(3, 20))
    subscription_create(customer=c, plan=plan, by=None, at=at(4, 2), mrr=D("80"))
    snapshots_refresh(now=NOW)
    return {"a": a, "b": b, "c": c, "plan": plan}


def months(**kw: object) -> dict[str, object]:
    series = kpi_series(Filters(start=date(2026, 1, 1), end=TODAY, **kw), today=TODAY)  # type: ignore[arg-type]
    return {p.label: p for p in series}


def test_monthly_figures_match_the_hand_computed_ledger(ledger: dict[str, object]) -> None:
    s = months()
    jan, feb, mar, apr = s["2026-01"], s["2026-02"], s["2026-03"], s["2026-04"]

    # January: nobody paid at the start, so the start-based rates are undefined.
    assert (jan.customers_start, jan.mrr_end, jan.new) == (0, D("300"), D("300"))
    assert jan.metrics["crr"] is None and jan.metrics["grr"] is None
    assert jan.metrics["nrr"] is None and jan.metrics["logo_churn"] is None

    # February: A (100) and B (200) active at start; A +50; C arrives and leaves (not in base).
    assert (feb.customers_start, feb.retained, feb.churned, feb.expanded) == (2, 2, 0, 1)
    assert (feb.new, feb.expansion, feb.churn) == (D("50"), D("50"), D("-50"))
    assert feb.mrr_start == D("300") and feb.mrr_end == D("350")
    assert feb.metrics["crr"] == 100.0
    assert feb.metrics["grr"] == 100.0
    assert feb.metrics["nrr"] == pytest.approx(116.667, abs=0.001)  # (300 + 50) ÷ 300
    assert feb.metrics["cer"] == 50.0
    assert feb.metrics["net_new_mrr"] == D("50")

    # March: A (150) churns, B contracts 200 → 120.
    assert (mar.customers_start, mar.retained, mar.churned) == (2, 1, 1)
    assert mar.mrr_end == D("120")
    assert mar.metrics["logo_churn"] == 50.0
    assert mar.metrics["crr"] == 50.0
    assert mar.metrics["revenue_churn"] == pytest.approx(42.857, abs=0.001)  # 150 ÷ 350
    assert mar.metrics["grr"] == pytest.approx(34.286, abs=0.001)  # (350 − 80 − 150) ÷ 350
    assert mar.metrics["nrr"] == pytest.approx(34.286, abs=0.001)
    assert mar.metrics["contraction_mrr"] == D("80") and mar.metrics["churned_mrr"] == D("150")

    # April: only B active at start; C comes back (reactivation, not new, not in the base).
    assert (apr.customers_start, apr.reactivation, apr.new) == (1, D("80"), D("0"))
    assert apr.mrr_end == D("200")
    assert apr.metrics["grr"] == 100.0 and apr.metrics["nrr"] == 100.0
    assert apr.metrics["arpa"] == D("100")  # 200 ÷ 2 paying customers
    assert apr.metrics["arr"] == D("2400")


def test_renewals_count_term_ends_and_the_first_one_after_a_cancellation(
    ledger: dict[str, object],
) -> None:
    s = months()
    # Feb: A (10 Feb) and B (15 Feb) renewed. Mar: A, B renewed; C's term end on 10 Mar
    # came after its cancellation. Apr: A's 10 Apr did not renew, B's 15 Apr did.
    assert (s["2026-02"].renewals_due, s["2026-02"].renewals_done) == (2, 2)
    assert (s["2026-03"].renewals_due, s["2026-03"].renewals_done) == (3, 2)
    assert (s["2026-04"].renewals_due, s["2026-04"].renewals_done) == (2, 1)
    assert s["2026-04"].metrics["renewal_rate"] == 50.0


def test_movements_add_up_to_the_change_in_mrr_every_month(ledger: dict[str, object]) -> None:
    for p in months().values():
        moved = p.new + p.expansion + p.contraction + p.churn + p.reactivation
        assert p.mrr_start + moved == p.mrr_end, p.label


def test_quarter_uses_customers_active_at_its_start(ledger: dict[str, object]) -> None:
    series = kpi_series(Filters(period="quarter", start=date(2026, 1, 1), end=TODAY), today=TODAY)
    q1, q2 = series
    assert (q1.label, q2.label) == ("2026-Q1", "2026-Q2")
    assert q1.customers_start == 0 and q1.metrics["crr"] is None  # nobody paid on 1 Jan
    assert q1.new == D("350") and q1.mrr_end == D("120")
    assert not q1.to_date and q2.to_date
    assert (q2.customers_start, q2.retained, q2.metrics["nrr"]) == (1, 1, 100.0)


def test_filters_read_summaries_and_raw_rows_alike(ledger: dict[str, object]) -> None:
    # One channel is pre-added; the same customers picked by a tag are added up on demand.
    a, c = ledger["a"], ledger["c"]
    for customer in (a, c):
        customer_update(customer=customer, by=None, tags=["vip"])  # type: ignore[arg-type]
    for period in ("month", "quarter", "year"):
        by_channel = months(channels=("organic",), period=period)
        by_tag = months(tags=("vip",), period=period)
        by_country = months(countries=("DE",), period=period)
        assert by_channel
        for label in by_channel:
            assert (
                by_channel[label].as_dict()
                == by_tag[label].as_dict()
                == by_country[label].as_dict()
            ), (period, label)
    by_channel = months(channels=("organic",))
    assert by_channel["2026-03"].metrics["logo_churn"] == 100.0  # A was the only one paying


def test_cohorts_and_survival(ledger: dict[str, object]) -> None:
    rows = cohorts(Filters(start=date(2026, 1, 1), end=TODAY), today=TODAY)
    jan, feb = rows[0], rows[1]
    assert (jan.cohort, jan.customers, jan.first_mrr) == (date(2026, 1, 1), 2, D("300"))
    assert jan.logo == [100.0, 100.0, 50.0, 50.0]  # A gone in March
    assert jan.revenue == [100.0, 116.7, 40.0, 40.0]  # 300 → 350 → 120 → 120
    assert (feb.customers, feb.logo) == (1, [0.0, 0.0, 100.0])  # C left in Feb, back in Apr

    lives = {life.customer_id: life for life in CustomerLife.objects.all()}
    assert lives[ledger["a"].pk].churned_at == at(3, 20)  # type: ignore[attr-defined]
    assert lives[ledger["b"].pk].churned_at is None  # type: ignore[attr-defined]
    # Three customers are too few for a curve; the function says so with an empty result.
    assert survival(Filters()) == {}


def test_refresh_is_incremental_and_idempotent(ledger: dict[str, object]) -> None:
    before = list(CustomerMonth.objects.order_by("customer_id", "month").values())
    again = snapshots_refresh(now=NOW)
    assert again.customers == 0 and not again.full
    assert list(CustomerMonth.objects.order_by("customer_id", "month").values()) == before

    # A late change to one customer rebuilds only that customer.
    b = ledger["b"]
    sub = b.subscriptions.get()  # type: ignore[attr-defined]
    subscription_update(subscription=sub, by=None, at=at(4, 20), mrr=D("150"))
    result = snapshots_refresh(now=NOW)
    assert result.customers == 1
    assert months()["2026-04"].expansion == D("30")

    # A backdated change (an import of last February) replaces the figures from then on,
    # and the incremental result equals a full rebuild.
    subscription_update(subscription=sub, by=None, at=at(2, 20), mrr=D("260"))  # 150 → 260
    assert snapshots_refresh(now=NOW).customers == 1
    incremental = _snapshot_tables()
    assert snapshots_refresh(now=NOW, full=True).full
    assert _snapshot_tables() == incremental
    assert months()["2026-02"].expansion == D("160")  # A's 50 and B's 110


def _snapshot_tables() -> tuple[list[tuple[object, ...]], ...]:
    from tend.metrics.models import CohortCell, MonthlySummary

    summary = MonthlySummary.objects.order_by("period", "dimension", "value", "month")
    cells = CohortCell.objects.order_by("dimension", "value", "cohort", "age")
    fields_s = [f.name for f in MonthlySummary._meta.fields if f.name != "id"]
    fields_c = [f.name for f in CohortCell._meta.fields if f.name != "id"]
    return (list(summary.values_list(*fields_s)), list(cells.values_list(*fields_c)))


def test_bad_filters_name_the_field() -> None:
    cases = {
        "period": {"period": "week"},
        "start": {"start": "2026-13"},
        "plan": {"plan": "pro"},
        "country": {"country": "Germany"},
        "channel": {"channel": "tv"},
        "tag": {"tag": "nope"},
    }
    for field, data in cases.items():
        with pytest.raises(FilterError) as err:
            Filters.parse(data)
        assert err.value.field == field
    with pytest.raises(FilterError) as err:
        Filters.parse({"start": "2026-05", "end": "2026-01"})
    assert err.value.field == "start"


def test_discounted_clv_over_the_expected_lifetime() -> None:
    from tend.metrics.value import discounted_clv

    # Monthly churn 2 % → yearly 1 − 0.98¹² = 21.5 % → 1 ÷ 0.215 = 4.6 → 5 years.
    # R₁ = 100 × 12 × 0.8 = 960; Σ 960 ÷ 1.1ᵗ for t = 1…5 = 3,639.1553 → 3,639.16.
    out = discounted_clv(arpa=D("100"), monthly_churn=2.0, gross_margin=D("0.8"))
    assert out["clv_years"] == 5
    assert out["clv_discounted"] == D("3639.16")
    assert (
        discounted_clv(arpa=None, monthly_churn=2.0, gross_margin=D("0.8"))["clv_discounted"]
        is None
    )


def test_cac_by_channel_and_month(ledger: dict[str, object]) -> None:
    from tend.customers.actions import customer_update
    from tend.metrics.channels import cac_by_channel_month

    customer_update(customer=ledger["a"], by=None, acquisition_cost=D("90"))  # type: ignore[arg-type]
    customer_update(customer=ledger["c"], by=None, acquisition_cost=D("30"))  # type: ignore[arg-type]
    customer_update(customer=ledger["b"], by=None, acquisition_cost=D("200"))  # type: ignore[arg-type]
    snapshots_refresh(now=NOW, full=True)
    rows = cac_by_channel_month(Filters(start=date(2026, 1, 1), end=TODAY), today=TODAY)
    got = {(r.channel, r.month.month): (r.acquired, r.acquisition_cost, r.cac) for r in rows}
    # A (organic) and B (paid search) first paid in January, C (organic) in February.
    assert got == {
        ("organic", 1): (1, D("90"), D("90")),
        ("paid_search", 1): (1, D("200"), D("200")),
        ("organic", 2): (1, D("30"), D("30")),
    }
    # A customer without a recorded cost is acquired but not counted as free in CAC.
    customer_update(customer=ledger["c"], by=None, acquisition_cost=None)  # type: ignore[arg-type]
    snapshots_refresh(now=NOW, full=True)
    rows = cac_by_channel_month(Filters(start=date(2026, 1, 1), end=TODAY), today=TODAY)
    feb = next(r for r in rows if r.month.month == 2)
    assert (feb.acquired, feb.acquisition_cost, feb.cac) == (1, D("0"), None)
    series = kpi_series(Filters(start=date(2026, 2, 1), end=date(2026, 2, 1)), today=TODAY)
    assert series[0].acquired == 1 and series[0].metrics["cac"] is None
    customer_update(customer=ledger["c"], by=None, acquisition_cost=D("30"))  # type: ignore[arg-type]
    snapshots_refresh(now=NOW, full=True)
    # The same through the on-demand path (a country filter) for the German customers.
    rows = cac_by_channel_month(
        Filters(start=date(2026, 1, 1), end=TODAY, countries=("DE",)), today=TODAY
    )
    assert [(r.channel, r.month.month, r.cac) for r in rows] == [
        ("organic", 1, D("90")),
        ("organic", 2, D("30")),
    ]


@pytest.mark.django_db(transaction=True)
def test_billing_changes_queue_one_refresh(settings: object) -> None:
    from django_tasks_db.models import DBTaskResult

    from tend.metrics import tasks

    settings.TASKS = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    tasks._last_queued = 0.0
    plan = make_plan("solo", "10")
    for i in range(3):
        customer = make_customer(f"Queued {i}")
        subscription_create(customer=customer, plan=plan, by=None, at=at(1, 5 + i))
    queued = DBTaskResult.objects.filter(task_path="tend.metrics.tasks.metrics_refresh")
    assert queued.count() == 1
    # Once the debounce window has passed, a waiting job still stops a second one.
    tasks._last_queued = 0.0
    assert tasks.metrics_refresh_soon() is False
    assert queued.count() == 1
