"""The period rule at its edges, worked out by hand (docs/metrics.md, "Period boundaries").

A subscription is active on [start, end). A change stamped at the first instant of a period
(00:00 UTC on the 1st) belongs to the period it closes when the customer was paying up to
it; a customer who starts at that instant is new in the period it opens. Every case below
is one customer or two, so each figure can be checked on paper.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tend.billing.actions import subscription_cancel, subscription_create, subscription_update
from tend.billing.models import Plan
from tend.customers.actions import customer_update
from tend.customers.models import Customer
from tend.factories import make_customer, make_plan
from tend.metrics.cohorts import cohorts
from tend.metrics.filters import Filters
from tend.metrics.kpis import PeriodKpis, kpi_series
from tend.metrics.models import CustomerLife
from tend.metrics.snapshots import snapshots_refresh, state

pytestmark = pytest.mark.django_db

D = Decimal
NOW = datetime(2027, 2, 10, 12, tzinfo=UTC)
TODAY = NOW.date()
MIDNIGHT_1_MAR = datetime(2026, 3, 1, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def plan() -> Plan:
    return make_plan("basic", "100")


def start(plan: Plan, at: datetime, mrr: str = "100", name: str | None = None) -> Customer:
    customer = make_customer(name)
    subscription_create(customer=customer, plan=plan, by=None, at=at, mrr=D(mrr))
    return customer


def ends(customer: Customer, at: datetime) -> None:
    subscription_cancel(subscription=customer.subscriptions.get(), by=None, at=at)


def periods(period: str = "month", first: date = date(2026, 1, 1)) -> dict[str, PeriodKpis]:
    snapshots_refresh(now=NOW)
    series = kpi_series(Filters(period=period, start=first, end=TODAY), today=TODAY)
    return {p.label: p for p in series}


def test_an_end_at_midnight_on_the_first_is_a_churn_of_the_month_it_closes(plan: Plan) -> None:
    # Given A pays 100 from 15 Jan until 00:00 on 1 March, and B pays 50 throughout.
    a = start(plan, utc(2026, 1, 15, 9))
    start(plan, utc(2026, 1, 10, 9), mrr="50")
    ends(a, MIDNIGHT_1_MAR)

    s = periods()
    jan, feb, mar = s["2026-01"], s["2026-02"], s["2026-03"]
    # January: both new.
    assert (jan.customers_start, jan.new, jan.customers_end) == (0, D("150"), 2)
    # February: both active at its start; A churned in February (it ended as February closed).
    assert (feb.customers_start, feb.churned, feb.retained, feb.customers_end) == (2, 1, 1, 1)
    assert (feb.churn, feb.mrr_start, feb.mrr_end) == (D("-100"), D("150"), D("50"))
    assert feb.metrics["logo_churn"] == 50.0  # 1 ÷ 2
    assert feb.metrics["revenue_churn"] == pytest.approx(66.667, abs=0.001)  # 100 ÷ 150
    # March: at its first moment A had already ended, so only B is counted at its start.
    assert (mar.customers_start, mar.churned, mar.churn, mar.mrr_start) == (1, 0, D("0"), D("50"))
    assert mar.metrics["logo_churn"] == 0.0 and mar.metrics["crr"] == 100.0


def test_an_end_at_the_last_second_of_a_month_is_a_churn_of_that_month(plan: Plan) -> None:
    # A ends at 23:59:59 on 31 March: still paying at the first moment of March.
    a = start(plan, utc(2026, 1, 15, 9))
    start(plan, utc(2026, 1, 10, 9), mrr="50")
    ends(a, utc(2026, 3, 31, 23, 59, 59))

    s = periods()
    feb, mar, apr = s["2026-02"], s["2026-03"], s["2026-04"]
    assert (feb.customers_start, feb.churned, feb.customers_end) == (2, 0, 2)
    assert (mar.customers_start, mar.churned, mar.churn) == (2, 1, D("-100"))
    assert mar.metrics["logo_churn"] == 50.0
    assert (apr.customers_start, apr.churned, apr.mrr_start) == (1, 0, D("50"))


def test_a_start_at_midnight_on_the_first_is_new_in_the_month_it_opens(plan: Plan) -> None:
    # B pays 50 from January; C starts at 00:00 on 1 March. C is active from that moment
    # ([start, end)), and counts as new in March — not at March's start as well, which would
    # count its 80 twice (once at start, once as new MRR).
    start(plan, utc(2026, 1, 10, 9), mrr="50")
    start(plan, MIDNIGHT_1_MAR, mrr="80")

    s = periods()
    feb, mar = s["2026-02"], s["2026-03"]
    assert (feb.new, feb.customers_end, feb.mrr_end) == (D("0"), 1, D("50"))
    assert (mar.customers_start, mar.new, mar.customers_end) == (1, D("80"), 2)
    assert (mar.mrr_start, mar.mrr_end, mar.acquired) == (D("50"), D("130"), 1)
    assert mar.metrics["net_new_mrr"] == mar.mrr_end - mar.mrr_start == D("80")
    assert mar.metrics["crr"] == 100.0  # the base is B alone
    rows = {row.cohort: row for row in cohorts(Filters(start=date(2026, 1, 1), end=TODAY))}
    assert rows[date(2026, 3, 1)].customers == 1  # C's cohort is March


def test_a_plan_change_at_midnight_on_the_first_closes_the_month_before(plan: Plan) -> None:
    # B pays 200 and moves to 120 at 00:00 on 1 March: February's contraction, and March
    # starts at 120 (what B pays at its first moment).
    b = start(plan, utc(2026, 1, 10, 9), mrr="200")
    subscription_update(subscription=b.subscriptions.get(), by=None, at=MIDNIGHT_1_MAR, mrr=D(120))

    s = periods()
    feb, mar = s["2026-02"], s["2026-03"]
    assert (feb.contraction, feb.mrr_end) == (D("-80"), D("120"))
    assert feb.metrics["grr"] == 60.0  # (200 − 80) ÷ 200
    assert (mar.contraction, mar.mrr_start, mar.mrr_end) == (D("0"), D("120"), D("120"))
    assert mar.metrics["grr"] == 100.0


def test_quarter_boundary_first_of_april(plan: Plan) -> None:
    # A ends at 00:00 on 1 April: a churn of Q1 (and of March), not counted at the start of Q2.
    # D starts at 00:00 on 1 April: new in Q2 (and April).
    a = start(plan, utc(2026, 1, 15, 9))
    start(plan, utc(2026, 1, 10, 9), mrr="50")
    d = start(plan, utc(2026, 4, 1), mrr="30")
    ends(a, utc(2026, 4, 1))

    q = periods("quarter")
    q1, q2 = q["2026-Q1"], q["2026-Q2"]
    assert (q1.new, q1.churn, q1.customers_end, q1.mrr_end) == (D("150"), D("-100"), 1, D("50"))
    assert (q2.customers_start, q2.churned, q2.new, q2.mrr_start) == (1, 0, D("30"), D("50"))
    assert q2.metrics["logo_churn"] == 0.0
    m = periods()
    assert (m["2026-03"].churned, m["2026-03"].customers_end) == (1, 1)
    assert (m["2026-04"].customers_start, m["2026-04"].new) == (1, D("30"))
    assert d.pk in {row.customer_id for row in CustomerLife.objects.all()}


def test_year_boundary_first_of_january(plan: Plan) -> None:
    # A ends at 00:00 on 1 January 2027: a churn of 2026 and of December 2026; 2027 starts
    # without A. B's monthly terms end at 00:00 on each 1st; the one at that same instant
    # (1 January 2027) is December's renewal.
    a = start(plan, utc(2026, 3, 15, 9))
    start(plan, utc(2026, 2, 1), mrr="40")
    ends(a, utc(2027, 1, 1))

    y = periods("year")
    y26, y27 = y["2026"], y["2027"]
    assert (y26.new, y26.churned, y26.churn, y26.customers_end) == (D("140"), 0, D("-100"), 1)
    assert (y27.customers_start, y27.churned, y27.mrr_start) == (1, 0, D("40"))
    m = periods(first=date(2026, 11, 1))
    dec, jan, feb = m["2026-12"], m["2027-01"], m["2027-02"]
    assert (dec.customers_start, dec.churned, dec.customers_end) == (2, 1, 1)
    assert (jan.customers_start, jan.churned) == (1, 0)
    # December: A's 15 Dec and B's 1 Jan 2027, both renewed. January: A's 15 Jan (the first
    # term end after its end: not renewed) and B's 1 Feb 2027. February: B's 1 Mar is to come.
    assert (dec.renewals_due, dec.renewals_done) == (2, 2)
    assert (jan.renewals_due, jan.renewals_done) == (2, 1)
    assert feb.renewals_due == 0


def test_a_renewal_due_at_midnight_on_the_first_belongs_to_the_month_it_closes(
    plan: Plan,
) -> None:
    # A monthly subscription from 00:00 on 1 January, cancelled at 00:00 on 1 March: its term
    # ends are 1 February (renewed, January's) and 1 March (not renewed: it ended then;
    # February's, the month whose churn it is).
    a = start(plan, utc(2026, 1, 1))
    ends(a, MIDNIGHT_1_MAR)

    s = periods()
    jan, feb, mar = s["2026-01"], s["2026-02"], s["2026-03"]
    assert (jan.renewals_due, jan.renewals_done, jan.metrics["renewal_rate"]) == (1, 1, 100.0)
    assert (feb.renewals_due, feb.renewals_done, feb.metrics["renewal_rate"]) == (1, 0, 0.0)
    assert (feb.churned, feb.customers_end) == (1, 0)
    assert (mar.renewals_due, mar.metrics["renewal_rate"]) == (0, None)


def test_cohort_and_survival_of_a_subscription_ending_at_midnight_on_the_first(
    plan: Plan,
) -> None:
    # Five customers start at 00:00 on 1 January; two end at 00:00 on 1 February — exactly
    # one calendar month later — and three keep paying. A sixth starts 15 Jan and ends at
    # 00:00 on 1 March: 1 month (to 15 Feb) and 14 of the 28 days to 15 March, 1.5 months.
    first = [start(plan, utc(2026, 1, 1), name=f"Jan {i}") for i in range(5)]
    for customer in first[:2]:
        ends(customer, utc(2026, 2, 1))
    late = start(plan, utc(2026, 1, 15, 9), name="Mid Jan")
    ends(late, MIDNIGHT_1_MAR)

    snapshots_refresh(now=NOW)
    jan = cohorts(Filters(start=date(2026, 1, 1), end=TODAY), today=TODAY)[0]
    # All six are January's cohort. At the end of January (00:00 1 Feb) two had ended; at the
    # end of February (00:00 1 Mar) the sixth had too.
    assert (jan.cohort, jan.customers) == (date(2026, 1, 1), 6)
    assert jan.logo[:3] == [pytest.approx(66.7, abs=0.05), 50.0, 50.0]
    life = CustomerLife.objects.get(customer=late)
    assert life.churned_at == MIDNIGHT_1_MAR

    curve = state().survival["all"][""]
    # Kaplan–Meier: at month 1 the two who lasted exactly one month and the one at 1.5 months
    # are at risk with the others; the two ending at 1.0 are no longer paying there:
    # S(1) = 4/6; at 1.5 one of the 4 remaining ends: S(2) = 4/6 × 3/4 = 1/2.
    assert curve["months"][:3] == [0, 1, 2]
    assert curve["survival"][:3] == [100.0, pytest.approx(66.67, abs=0.01), 50.0]
    assert curve["churned"] == 3 and curve["customers"] == 6


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_periods_stay_utc_months_whatever_the_display_time_zone(
    plan: Plan, settings: object, zone: str
) -> None:
    # TEND_TIME_ZONE only changes how times are shown; periods are calendar months in UTC,
    # so the boundary is 00:00 UTC on the 1st for every business.
    settings.TIME_ZONE = zone  # type: ignore[attr-defined]
    a = start(plan, utc(2026, 1, 15, 9))
    start(plan, utc(2026, 1, 10, 9), mrr="50")
    ends(a, MIDNIGHT_1_MAR)
    # 00:00 on 1 March in Shanghai is 16:00 UTC on 28 February: an ordinary February time.
    c = start(plan, utc(2026, 1, 20, 9), mrr="10")
    ends(c, utc(2026, 2, 28, 16))

    s = periods()
    feb, mar = s["2026-02"], s["2026-03"]
    assert (feb.customers_start, feb.churned, feb.customers_end) == (3, 2, 1)
    assert (mar.customers_start, mar.churned, mar.mrr_start) == (1, 0, D("50"))


def test_movements_add_up_across_every_boundary(plan: Plan) -> None:
    # Starts, changes and ends all stamped at 00:00 on a 1st, for one customer and several.
    a = start(plan, utc(2026, 1, 1), mrr="100")
    subscription_update(subscription=a.subscriptions.get(), by=None, at=utc(2026, 2, 1), mrr=D(150))
    ends(a, utc(2026, 4, 1))
    subscription_create(customer=a, plan=plan, by=None, at=utc(2026, 4, 1), mrr=D(70))
    b = start(plan, utc(2026, 3, 1), mrr="20")
    ends(b, utc(2026, 5, 1))

    s = periods()
    for p in s.values():
        moved = p.new + p.expansion + p.contraction + p.churn + p.reactivation
        assert p.mrr_start + moved == p.mrr_end, p.label
    for earlier, later in zip(list(s.values()), list(s.values())[1:], strict=False):
        assert earlier.mrr_end == later.mrr_start
        assert earlier.customers_end == later.customers_start
    # A's end and return at 00:00 on 1 April: paying up to it, so both close March.
    mar = s["2026-03"]
    assert (mar.churn, mar.reactivation, mar.mrr_end) == (D("-150"), D("70"), D("90"))


@pytest.mark.parametrize("period", ["month", "quarter", "year"])
def test_added_up_on_demand_the_boundaries_fall_the_same_way(plan: Plan, period: str) -> None:
    # A tag filter is added up from the customer-month rows on request, not read from the
    # pre-added summaries: both must place the changes at 00:00 on the 1st alike.
    a = start(plan, utc(2026, 1, 15, 9))
    b = start(plan, utc(2026, 1, 10, 9), mrr="50")
    c = start(plan, utc(2026, 4, 1), mrr="30")
    ends(a, utc(2026, 4, 1))
    subscription_update(subscription=b.subscriptions.get(), by=None, at=utc(2027, 1, 1), mrr=D(45))
    for customer in (a, b, c):
        customer_update(customer=customer, by=None, tags=["all"])
    snapshots_refresh(now=NOW)
    window = {"period": period, "start": date(2026, 1, 1), "end": TODAY}
    summed = kpi_series(Filters(**window), today=TODAY)  # type: ignore[arg-type]
    tagged = kpi_series(Filters(tags=("all",), **window), today=TODAY)  # type: ignore[arg-type]
    assert [p.as_dict() for p in summed] == [p.as_dict() for p in tagged]
    by_label = {p.label: p for p in tagged}
    if period == "quarter":
        assert (by_label["2026-Q1"].churn, by_label["2026-Q2"].customers_start) == (D("-100"), 1)
        assert by_label["2026-Q4"].contraction == D("-5")  # 1 Jan 2027 closes Q4 2026
    if period == "year":
        assert (by_label["2026"].contraction, by_label["2027"].mrr_start) == (D("-5"), D("75"))


@pytest.mark.parametrize(
    ("started", "ended", "months"),
    [
        (utc(2026, 2, 1), MIDNIGHT_1_MAR, 1.0),  # 28 days, and exactly one calendar month
        (utc(2026, 1, 1), utc(2026, 2, 1), 1.0),  # 31 days, also one month
        (utc(2026, 1, 15, 9), utc(2026, 3, 15, 9), 2.0),
        (utc(2026, 1, 15), MIDNIGHT_1_MAR, 1.5),  # to 15 Feb, then 14 of the 28 days to 15 Mar
        (utc(2026, 1, 31), utc(2026, 2, 28), 1.0),  # the 31st's anniversary in February
        (utc(2026, 1, 1, 9, 0, 0, 700000), utc(2026, 2, 1, 9, 0, 0, 700000), 1.0),
        (utc(2026, 3, 1), utc(2026, 3, 1), 0.0),
    ],
)
def test_survival_counts_calendar_months(started: datetime, ended: datetime, months: float) -> None:
    from tend.metrics.survival import calendar_months

    [value] = calendar_months([started.timestamp()], [ended.timestamp()]).tolist()
    assert value == pytest.approx(months, abs=1e-9)
