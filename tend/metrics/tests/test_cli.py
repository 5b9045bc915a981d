"""``tend metrics``: tables for people, CSV and JSON that parse back to the series' numbers."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tend.metrics.bodies import parse_filters
from tend.metrics.kpis import PeriodKpis, kpi_series
from tend.metrics.schemas import FIGURE_NAMES, METRIC_NAMES
from tend.metrics.tests.ledger import Ledger, build_ledger, months_ago

TEND = str(Path(sys.executable).parent / "tend")


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("metrics", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def expected(period: PeriodKpis) -> dict[str, Any]:
    """Every figure and metric of a period as the series reader computed it."""
    return {
        **{name: getattr(period, name) for name in FIGURE_NAMES},
        **{name: period.metrics[name] for name in METRIC_NAMES},
    }


def from_json(period: dict[str, Any]) -> dict[str, Any]:
    values = {**period["figures"], **period["metrics"]}
    return {k: Decimal(v["amount"]) if isinstance(v, dict) else v for k, v in values.items()}


def from_csv(row: dict[str, str], like: dict[str, Any]) -> dict[str, Any]:
    """CSV cells typed like ``like``'s values (empty cell: None)."""
    out: dict[str, Any] = {}
    for name, model in like.items():
        cell = row[name]
        if cell == "":
            out[name] = None
        elif isinstance(model, Decimal):
            out[name] = Decimal(cell)
        elif isinstance(model, int):
            out[name] = int(cell)
        else:
            out[name] = float(cell)
    return out


@pytest.fixture
def ledger(db: Any) -> Ledger:
    return build_ledger()


def test_json_prints_every_period_with_the_series_numbers(ledger):
    out, err = run("--format", "json")
    body = json.loads(out)
    series = kpi_series(parse_filters({}))
    assert [p["period"] for p in body["periods"]] == [p.label for p in series]
    assert [from_json(p) for p in body["periods"]] == [expected(p) for p in series]
    assert body["periods"][-1]["metrics"]["mrr"] == {"amount": "345.00", "currency": "USD"}
    assert err == ""


@pytest.mark.parametrize(
    "args, filters",
    [
        ([], {}),
        (["--period", "quarter"], {"period": "quarter"}),
        (["--tag", "vip", "--channel", "referral", "paid_search"], {
            "tag": ["vip"], "channel": ["referral", "paid_search"]
        }),
        (["--plan", "pro", "--plan", "basic", "--start", "2026-01"], {
            "plan": ["pro", "basic"], "start": "2026-01"
        }),
    ],
)  # fmt: skip
def test_csv_parses_back_to_the_series_numbers(ledger, args, filters):
    out, _err = run("--format", "csv", *args)
    rows = list(csv.DictReader(io.StringIO(out)))
    series = kpi_series(parse_filters(filters))
    assert [r["period"] for r in rows] == [p.label for p in series]
    for row, period in zip(rows, series, strict=True):
        want = expected(period)
        assert from_csv(row, want) == want, row["period"]
        assert row["to_date"] == ("true" if period.to_date else "false")
        assert row["start"] == period.start.isoformat()


def test_the_table_shows_each_metric_against_the_periods(ledger, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    out, _err = run("--start", months_ago(2).strftime("%Y-%m"))
    assert "Revenue and retention by month, USD" in out
    for label in ("Monthly recurring revenue (MRR)", "Net revenue retention (NRR)", "Renewal rate"):
        assert label in out
    assert f"{months_ago(0):%Y-%m}*" in out and "* to date" in out
    mrr_line = next(line for line in out.splitlines() if "(MRR)" in line and "Annual" not in line)
    assert [c.strip() for c in mrr_line.split("│")[2:5]] == ["280.00", "325.00", "345.00"]


def test_a_narrow_terminal_splits_the_periods_over_several_tables(ledger, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out, _err = run()
    assert out.count("Monthly recurring revenue (MRR)") >= 3
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize("table", ["summary", "channels", "cac", "cohorts", "survival"])
def test_every_table_prints_for_people_and_as_csv_and_json(ledger, table):
    people, _err = run("--table", table)
    assert people.strip()
    rows = list(csv.reader(io.StringIO(run("--table", table, "--format", "csv")[0])))
    assert len(rows) > 1 and len({len(r) for r in rows}) == 1
    body = json.loads(run("--table", table, "--format", "json")[0])
    assert body["filters"]["period"] == "month"


def test_summary_and_channels_read_as_the_api_does(ledger):
    summary = json.loads(run("--table", "summary", "--format", "json")[0])
    assert summary["referral"]["referral_rate"] == 12.5
    assert "nps" in {m["key"] for m in summary["unavailable"]}
    people = run("--table", "summary")[0]
    assert "325.00" in people and "Net promoter score (NPS)" in people  # the last full month
    channels = list(csv.DictReader(io.StringIO(run("--table", "channels", "--format", "csv")[0])))
    referral = next(r for r in channels if r["channel"] == "referral")
    assert (referral["acquired"], referral["cac"], referral["mrr"]) == ("3", "30.00", "240.00")


def test_cohorts_by_revenue_and_survival_by_channel(ledger):
    logo = list(csv.reader(io.StringIO(run("--table", "cohorts", "--format", "csv")[0])))
    revenue = list(
        csv.reader(
            io.StringIO(run("--table", "cohorts", "--basis", "revenue", "--format", "csv")[0])
        )
    )
    assert logo[0][:4] == ["cohort", "customers", "first_mrr", "m0"]
    assert logo[0] == revenue[0] and logo[1:] != revenue[1:]
    survival = list(csv.DictReader(io.StringIO(run("--table", "survival", "--format", "csv")[0])))
    assert {r["group"] for r in survival} == {"all"} and survival[0]["survival"] == "100.0"
    out, _err = run("--table", "survival", "--by", "channel")
    assert "Too few customers" in out


def test_refresh_rebuilds_first_and_says_how_long_it_took(ledger):
    out, err = run("--refresh", "--full", "--format", "json")
    assert "Snapshots refreshed in" in err and " s (8 customers" in err
    assert json.loads(out)["periods"]
    _out, err = run("--refresh", "--format", "csv")
    assert "(0 customers, 0 rows)" in err  # nothing changed since


def test_before_the_first_build_it_warns_on_stderr(db):
    out, err = run("--format", "json")
    assert "No snapshots yet" in err
    assert json.loads(out)["periods"][-1]["metrics"]["mrr"]["amount"] == "0.00"


@pytest.mark.parametrize(
    "args, option",
    [
        (["--start", "2025-13"], "--start"),
        (["--start", "2025-06", "--end", "2025-01"], "--start"),
        (["--plan", "gold"], "--plan"),
        (["--country", "Germany"], "--country"),
        (["--channel", "tv"], "--channel"),
        (["--tag", "nobody-has-this"], "--tag"),
        (["--start", "1900-01"], "--start"),
        (["--full"], "--full"),
    ],
)
def test_a_bad_argument_is_an_error_naming_the_option_with_exit_code_2(db, args, option):
    with pytest.raises(CommandError, match=f"^{option}: ") as error:
        run(*args)
    assert error.value.returncode == 2


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def tend(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TEND_DATABASE_URL": _database_url(), "COLUMNS": "120"}
    return subprocess.run(
        [TEND, *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )


@pytest.mark.django_db(transaction=True)
def test_the_tend_script_prints_json_and_exits_2_on_bad_arguments():
    build_ledger()
    done = tend("metrics", "--period", "quarter", "--format", "json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    series = kpi_series(parse_filters({"period": "quarter"}))
    assert [from_json(p) for p in body["periods"]] == [expected(p) for p in series]
    bad_month = tend("metrics", "--start", "2025-13")
    assert bad_month.returncode == 2
    assert "--start: “2025-13” is not a month (YYYY-MM)" in bad_month.stderr
