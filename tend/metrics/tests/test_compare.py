"""What the headline tiles compare, worked out by hand with "today" on the 6th of a month.

The ledger (all monthly subscriptions, 2026; times 09:00 UTC unless said):
  A: new 100 on 10 Feb, expands to 150 on 3 Apr, contracts to 120 on 4 May.
  B: new 200 on 15 Feb, cancels on 5 Apr.
  C: new 50 on 2 Apr (acquisition cost 40).
  D: new 80 on 3 May (acquisition cost 60).
  E: new 60 on 20 Apr, cancels on 2 May.
  F: new 30 on 1 Mar, cancels at 00:00 on 1 May (that closes April: not paying on 1 May).
"Today" is 6 May 2026: by default the tiles show April against March; "month to date"
compares 1–6 May with 1–6 April.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from tend.billing.actions import subscription_cancel, subscription_create, subscription_update
from tend.factories import make_customer, make_plan
from tend.metrics import charts, display
from tend.metrics.filters import FilterError, Filters
from tend.metrics.kpis import kpi_series
from tend.metrics.snapshots import snapshots_refresh
from tend.metrics.tiles import comparison, tiles
from tend.metrics.to_date import windows

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 6)
NOW = datetime(2026, 5, 6, 12, tzinfo=UTC)


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def ledger() -> None:
    plan = make_plan("basic", "100")

    def start(name: str, when: datetime, mrr: str, cost: str | None = None) -> object:
        customer = make_customer(
            name, acquisition_cost=None if cost is None else Decimal(cost), channel="organic"
        )
        return subscription_create(customer=customer, plan=plan, by=None, at=when, mrr=Decimal(mrr))

    a = start("A", at(2, 10), "100")
    b = start("B", at(2, 15), "200")
    f = start("F", at(3, 1), "30")
    subscription_update(subscription=a, by=None, at=at(4, 3), mrr=Decimal("150"))
    start("C", at(4, 2), "50", cost="40")
    subscription_cancel(subscription=b, by=None, at=at(4, 5))
    e = start("E", at(4, 20), "60")
    subscription_cancel(subscription=f, by=None, at=at(5, 1, hour=0))
    subscription_cancel(subscription=e, by=None, at=at(5, 2))
    start("D", at(5, 3), "80", cost="60")
    subscription_update(subscription=a, by=None, at=at(5, 4), mrr=Decimal("120"))
    snapshots_refresh(now=NOW)


def compared(**kw: object):  # type: ignore[no-untyped-def]
    filters = Filters(start=date(2026, 1, 1), end=TODAY, **kw)  # type: ignore[arg-type]
    series = kpi_series(filters, today=TODAY)
    return series, comparison(series, filters, today=TODAY)


def test_tiles_default_to_the_last_complete_month_against_the_one_before(ledger: None) -> None:
    series, result = compared()
    assert series[-1].label == "2026-05" and series[-1].to_date
    assert result.mode == "complete"
    assert (result.current.label, result.previous.label) == ("2026-04", "2026-03")
    assert not result.current.to_date
    by_key = {t.key: t for t in tiles(result)}
    assert by_key["mrr"].value == series[-2].metrics["mrr"]
    assert by_key["mrr"].previous == series[-3].metrics["mrr"]
    # March: A 100 + B 200 + F 30 all month long.
    assert by_key["mrr"].previous == Decimal("330.00")


def test_month_to_date_compares_the_same_days_computed_over_those_days(ledger: None) -> None:
    _series, result = compared(compare="to_date")
    assert result.mode == "to_date" and result.days == 6 and result.previous_days == 6
    now, before = result.current, result.previous
    assert (now.start, now.end) == (date(2026, 5, 1), date(2026, 5, 6))
    assert (before.start, before.end) == (date(2026, 4, 1), date(2026, 4, 6))
    # 1–6 April: A 100, B 200, F 30 at the start; C new 50, A +50, B −200; A 150, C 50, F 30.
    assert (before.customers_start, before.mrr_start) == (3, Decimal("330"))
    assert (before.new, before.expansion, before.churn) == (50, 50, -200)
    assert (before.customers_end, before.mrr_end) == (3, Decimal("230"))
    assert before.churned == 1 and before.acquired == 1
    assert before.acquisition_cost == Decimal("40.00")
    # 1–6 May: F ended at 00:00 on 1 May, so A 150, C 50, E 60 at the start; E −60, D +80,
    # A −30; A 120, C 50, D 80 at the end.
    assert (now.customers_start, now.mrr_start) == (3, Decimal("260"))
    assert (now.new, now.contraction, now.churn) == (80, -30, -60)
    assert (now.customers_end, now.mrr_end) == (3, Decimal("250"))
    assert now.churned == 1 and now.acquired == 1
    by_key = {t.key: t for t in tiles(result)}
    assert (by_key["mrr"].value, by_key["mrr"].previous) == (Decimal("250"), Decimal("230"))
    assert by_key["logo_churn"].value == pytest.approx(100 / 3)
    assert by_key["logo_churn"].previous == pytest.approx(100 / 3)
    assert by_key["logo_churn"].change == pytest.approx(0)
    assert by_key["cac"].value == Decimal("60.00") and by_key["cac"].previous == Decimal("40.00")


def test_to_date_on_a_range_that_has_ended_compares_complete_periods(ledger: None) -> None:
    filters = Filters(start=date(2026, 1, 1), end=date(2026, 4, 1), compare="to_date")
    series = kpi_series(filters, today=TODAY)
    result = comparison(series, filters, today=TODAY)
    assert result.mode == "complete" and result.current.label == "2026-04"


def test_the_same_days_are_cut_at_a_shorter_period_end() -> None:
    now, before = windows(date(2026, 3, 1), "month", date(2026, 3, 31))
    assert (now.days, before.start, before.days) == (31, date(2026, 2, 1), 28)
    now, before = windows(date(2026, 10, 1), "quarter", date(2026, 10, 6))
    assert (before.start, before.last) == (date(2026, 7, 1), date(2026, 7, 6))


def test_compare_is_a_filter_error_when_unknown() -> None:
    with pytest.raises(FilterError) as caught:
        Filters.parse({"compare": "yesterday"})
    assert caught.value.field == "compare"
    assert Filters.parse({"compare": "to_date"}).as_query()["compare"] == "to_date"
    assert "compare" not in Filters.parse({}).as_query()


def test_partial_periods_are_marked_on_every_chart_and_in_tables(ledger: None) -> None:
    series, _result = compared()
    for figure in (
        charts.mrr_figure(series),
        charts.churn_figure(series),
        charts.retention_figure(series),
        charts.movements_figure(series),
    ):
        notes = figure["layout"]["annotations"]
        assert [n["text"] for n in notes] == ["to date"]
        assert notes[0]["x"] == "2026-05-01"
    mrr = charts.mrr_figure(series)["data"]
    dashed = [t for t in mrr if t.get("line", {}).get("dash") == "dash"]
    assert len(dashed) == 1 and dashed[0]["x"] == ["2026-04-01", "2026-05-01"]
    assert mrr[0]["x"][-1] == "2026-04-01"  # the solid line stops at the last full month
    bars = charts.movements_figure(series)["data"][0]
    assert (
        bars["marker"]["pattern"]["shape"][-1] == "/"
        and bars["marker"]["pattern"]["shape"][0] == ""
    )
    table = display.kpi_table(series)
    assert table["labels"][-1] == "2026-05 (to date)" and table["labels"][-2] == "2026-04"
    rows = display.movement_rows(series)
    assert rows[0]["period"] == "2026-05 (to date)"


def test_the_api_and_cli_offer_the_same_choice(ledger: None, owner_client) -> None:  # type: ignore[no-untyped-def]
    # The API and the CLI read "today" from the clock: only the choice and its shape are
    # checked here; the numbers are the series' (test_surfaces_agree).
    for compare in ("complete", "to_date"):
        body = owner_client.get("/api/v1/metrics/summary", {"compare": compare}).json()
        assert body["compare"]["asked"] == compare
        assert body["compare"]["mode"] in ("complete", "to_date")
        out = StringIO()
        call_command(
            "metrics", "--table", "summary", "--format", "json", "--compare", compare, stdout=out
        )
        assert json.loads(out.getvalue())["compare"]["asked"] == compare
    bad = owner_client.get("/api/v1/metrics/summary", {"compare": "week"})
    assert bad.status_code == 422


def test_an_unknown_comparison_on_the_page_names_the_filter(owner_client) -> None:  # type: ignore[no-untyped-def]
    response = owner_client.get("/metrics/", {"compare": "yesterday"})
    assert response.status_code == 400
    assert "compare" in response.content.decode()


def test_the_report_of_the_running_month_compares_the_same_days(ledger: None) -> None:
    result = display.report_data(Filters(), date(2026, 5, 1))
    # The clock is not frozen: the report month is in the past, so whole months compare.
    assert result["current_label"] == "2026-05" and result["previous_label"] == "2026-04"


def test_the_page_offers_month_to_date_only_while_a_month_is_running(  # type: ignore[no-untyped-def]
    ledger: None, owner_client
) -> None:
    running = owner_client.get("/metrics/")
    assert [c[0] for c in running.context["compare_choices"]] == ["complete", "to_date"]
    assert 'id="compare-choice"' in running.content.decode()
    assert "the last complete month" in running.context["compare_text"]
    ended = owner_client.get("/metrics/", {"start": "2026-01", "end": "2026-04"})
    assert ended.context["compare_choices"] == []
    assert 'id="compare-choice"' not in ended.content.decode()
    channels = ended.content.decode()
    assert "Acquired in range" in channels and "Paying at end" in channels
    assert "whenever they were acquired" in channels and "LTV:CAC = LTV ÷ CAC" in channels
