"""``tend metrics``: revenue and retention metrics in the terminal, as CSV or as JSON.

The numbers come from the same bodies as the REST API (``tend.metrics.bodies``), and
``--format json`` prints exactly what ``GET /api/v1/metrics/<table>`` answers. Tables,
CSV and JSON go to standard output; messages (the refresh time, warnings) to standard error.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from ninja import Schema
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from tend.lib.spreadsheet import csv_writer
from tend.metrics.bodies import (
    cac_body,
    channels_body,
    cohorts_body,
    label_of,
    parse_filters,
    series_body,
    summary_body,
    survival_body,
    unit_of,
)
from tend.metrics.filters import COMPARES, PERIODS, FilterError
from tend.metrics.kpis import freshness
from tend.metrics.schemas import (
    FIGURE_NAMES,
    METRIC_NAMES,
    ChannelMonthOut,
    ChannelMonthsOut,
    ChannelOut,
    ChannelsOut,
    CohortsOut,
    SeriesOut,
    SummaryOut,
    SurvivalOut,
)
from tend.metrics.snapshots import snapshots_refresh

TABLES = ("series", "summary", "channels", "cac", "cohorts", "survival")
FORMATS = ("table", "csv", "json")
SHAPES: dict[str, type[Schema]] = {
    "series": SeriesOut,
    "summary": SummaryOut,
    "channels": ChannelsOut,
    "cac": ChannelMonthsOut,
    "cohorts": CohortsOut,
    "survival": SurvivalOut,
}
BAD_ARGUMENTS = 2  # like argparse's own usage errors
DASH = "—"


class Command(BaseCommand):
    help = (
        "Revenue and retention metrics (MRR, churn, retention, NRR, CAC, cohorts, survival) "
        "per month, quarter or year, as a table, CSV or JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", choices=PERIODS, default="month", help="period length")
        parser.add_argument("--start", metavar="YYYY-MM", help="first month of the range")
        parser.add_argument("--end", metavar="YYYY-MM", help="last month (default: this month)")
        for name, metavar, what in (
            ("plan", "CODE", "customers on these plans (code or id)"),
            ("channel", "CHANNEL", "customers from these acquisition channels"),
            ("country", "CC", "customers in these countries (ISO 3166-1 alpha-2)"),
            ("tag", "NAME", "customers with any of these tags"),
        ):
            parser.add_argument(
                f"--{name}", nargs="+", action="extend", default=[], metavar=metavar, help=what
            )
        parser.add_argument(
            "--segment",
            metavar="ID",
            help="customers of this saved segment (its id, see tend segments list), with "
            "membership evaluated now from the segment's condition",
        )
        parser.add_argument(
            "--table",
            choices=TABLES,
            default="series",
            help="series: every metric per period (default); summary: the last period with "
            "its change; channels: CAC and LTV per channel; cac: CAC per channel and month; "
            "cohorts; survival curves",
        )
        parser.add_argument(
            "--compare",
            choices=COMPARES,
            default="complete",
            help="summary: complete compares the last period that has ended with the one "
            "before (default); to_date the running period so far with the same days of the "
            "period before",
        )
        parser.add_argument(
            "--basis", choices=("logo", "revenue"), default="logo", help="cohorts: what is kept"
        )
        parser.add_argument(
            "--by",
            choices=("all", "plan", "channel"),
            default="all",
            help="survival: one curve per",
        )
        parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
        parser.add_argument(
            "--refresh", action="store_true", help="bring the snapshots up to date first"
        )
        parser.add_argument(
            "--full", action="store_true", help="with --refresh: rebuild every customer"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            filters = parse_filters(options)
        except FilterError as exc:
            raise CommandError(f"--{exc.field}: {exc.message}", returncode=BAD_ARGUMENTS) from None
        if options["full"] and not options["refresh"]:
            raise CommandError("--full: only with --refresh.", returncode=BAD_ARGUMENTS)
        if options["refresh"]:
            result = snapshots_refresh(full=options["full"])
            message = _(
                "Snapshots refreshed in %(seconds).2f s (%(customers)d customers, %(rows)d rows)."
            )
            self.stderr.write(message % vars(result))
        elif freshness()["built_at"] is None:
            self.stderr.write(
                self.style.WARNING(_("No snapshots yet: every figure is zero. Add --refresh."))
            )
        table = options["table"]
        build: dict[str, Callable[[], dict[str, Any]]] = {
            "series": lambda: series_body(filters),
            "summary": lambda: summary_body(filters),
            "channels": lambda: channels_body(filters),
            "cac": lambda: cac_body(filters),
            "cohorts": lambda: cohorts_body(filters, basis=options["basis"]),
            "survival": lambda: survival_body(filters, by=options["by"]),
        }
        try:
            body = SHAPES[table].model_validate(build[table]()).model_dump(mode="json")
        except FilterError as exc:
            raise CommandError(f"--{exc.field}: {exc.message}", returncode=BAD_ARGUMENTS) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(body, ensure_ascii=False, indent=2))
        elif options["format"] == "csv":
            buffer = io.StringIO()
            writer = csv_writer(buffer, lineterminator="\n")
            writer.writerows(getattr(self, f"_csv_{table}")(body))
            self.stdout.write(buffer.getvalue(), ending="")
        else:
            self._print(getattr(self, f"_tables_{table}")(body))

    # --- terminal tables --------------------------------------------------------------

    def _print(self, tables: Iterable[RenderableType]) -> None:
        width = shutil.get_terminal_size(fallback=(120, 24)).columns
        buffer = io.StringIO()
        console = Console(
            file=buffer,
            width=width,
            markup=False,
            highlight=False,
            force_terminal=self.stdout.isatty(),
        )
        for table in tables:
            console.print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def _tables_series(self, body: dict[str, Any]) -> list[Table]:
        periods = body["periods"]
        heads = [p["period"] + ("*" if p["to_date"] else "") for p in periods]
        rows = [
            (label_of(key), [_show(p["metrics"][key], unit_of(key)) for p in periods])
            for key in METRIC_NAMES
        ]
        title = _("Revenue and retention by %(period)s, %(currency)s") % {
            "period": _period_name(body["filters"]["period"]),
            "currency": body["currency"],
        }
        caption = _("* to date") if any(p["to_date"] for p in periods) else None
        return _wide(title, _("Metric"), heads, rows, caption=caption)

    def _tables_summary(self, body: dict[str, Any]) -> list[Table]:
        table = Table(
            _("Metric"),
            _("Value"),
            _("Previous"),
            _("Change"),
            title=_("%(period)s at a glance, %(currency)s")
            % {"period": _compared(body["compare"]) or DASH, "currency": body["currency"]},
        )
        for tile in body["tiles"]:
            change = tile["change"]
            suffix = " pt" if tile["change_kind"] == "points" else " %"
            table.add_row(
                tile["label"],
                _show(tile["value"], tile["unit"]),
                _show(tile["previous"], tile["unit"]),
                DASH if change is None else f"{change:+.1f}{suffix}",
            )
        value = body["lifetime_value"]
        extra = Table(_("Over the range"), _("Value"), title=_("Lifetime value and referrals"))
        keys = ("monthly_churn", "arpa", "clv_simple", "clv_discounted", "cac", "ltv_cac")
        for key in (*keys, "cac_payback"):
            extra.add_row(label_of(key), _show(value[key], unit_of(key)))
        extra.add_row(
            label_of("referral_rate"), _show(body["referral"]["referral_rate"], "percent")
        )
        missing = Table(_("Not available"), _("Why"), title=None)
        for item in body["unavailable"]:
            missing.add_row(label_of(item["key"]), item["reason"])
        return [table, extra, missing]

    def _tables_channels(self, body: dict[str, Any]) -> list[Table]:
        columns = (
            ("acquired", "count", _("Acquired in range")),
            ("acquisition_cost", "money", _("Spent")),
            ("customers", "count", _("Paying at end")),
            ("mrr", "money", "MRR"),
            ("cac", "money", "CAC"),
            ("arpa", "money", "ARPA"),
            ("monthly_churn", "percent", _("Churn/month")),
            ("ltv", "money", "LTV"),
            ("ltv_cac", "ratio", "LTV:CAC"),
            ("payback_months", "months", _("Payback")),
        )
        table = Table(
            _("Channel"),
            *(head for _k, _u, head in columns),
            title=_("Acquisition by channel, %(start)s to %(end)s, %(currency)s")
            % {**body["filters"], "currency": body["currency"]},
            caption=_(
                "Acquired in range: first payment in the range; paying at end: paying at the "
                "end of the range, whenever acquired. Payback in months; LTV = ARPA × gross "
                "margin ÷ monthly churn; LTV:CAC = LTV ÷ CAC."
            ),
        )
        for item in body["items"]:
            table.add_row(item["label"], *(_show(item[key], unit) for key, unit, _h in columns))
        return [table]

    def _tables_cac(self, body: dict[str, Any]) -> list[Table]:
        months = sorted({i["month"] for i in body["items"]})
        cells: dict[str, dict[str, str]] = {}
        for item in body["items"]:
            shown = f"{_show(item['cac'], 'money')} ({item['acquired']})"
            cells.setdefault(item["label"], {})[item["month"]] = shown
        rows = [(label, [by_month.get(m, "") for m in months]) for label, by_month in cells.items()]
        title = _("CAC by channel and month, %(currency)s (customers acquired)") % {
            "currency": body["currency"]
        }
        return _wide(title, _("Channel"), months, rows)

    def _tables_cohorts(self, body: dict[str, Any]) -> list[Table]:
        items = body["items"]
        ages = max((len(i["retention"]) for i in items), default=0)
        rows = [
            (
                f"{i['cohort']}  n={i['customers']}",
                [_show(v, "percent") for v in i["retention"]] + [""] * (ages - len(i["retention"])),
            )
            for i in items
        ]
        what = _("customers") if body["basis"] == "logo" else _("first MRR")
        title = _("Cohorts: %% of %(what)s still paying, by months since the first payment") % {
            "what": what
        }
        return _wide(title, _("Cohort"), [f"+{k}" for k in range(ages)], rows)

    def _tables_survival(self, body: dict[str, Any]) -> list[RenderableType]:
        groups = body["groups"]
        if not groups:
            return [Text(_("Too few customers for a survival curve: each needs 5 or more."))]
        horizon = max(len(g["months"]) for g in groups)
        rows = []
        for month in range(horizon):
            cells = []
            for g in groups:
                if month < len(g["months"]):
                    band = f"{g['lower'][month]:.0f}–{g['upper'][month]:.0f}"
                    cells.append(f"{g['survival'][month]:.1f} ({band})")
                else:
                    cells.append("")
            rows.append((str(month), cells))
        title = _("Still paying after n months, % (95 % band)")
        counts = Table(_("Group"), _("Customers"), _("Churned"), _("Median months"))
        for g in groups:
            median = g["median_months"]
            counts.add_row(
                g["label"],
                str(g["customers"]),
                str(g["churned"]),
                DASH if median is None else f"{median:.1f}",
            )
        return [*_wide(title, _("Months"), [g["label"] for g in groups], rows), counts]

    # --- CSV ----------------------------------------------------------------------------

    def _csv_series(self, body: dict[str, Any]) -> list[list[str]]:
        metrics = [m for m in METRIC_NAMES if m not in FIGURE_NAMES]
        out = [["period", "start", "end", "to_date", *FIGURE_NAMES, *metrics]]
        for p in body["periods"]:
            out.append(
                [
                    *(_cell(p[k]) for k in ("period", "start", "end", "to_date")),
                    *(_cell(p["figures"][k]) for k in FIGURE_NAMES),
                    *(_cell(p["metrics"][k]) for k in metrics),
                ]
            )
        return out

    def _csv_summary(self, body: dict[str, Any]) -> list[list[str]]:
        out = [["key", "label", "unit", "value", "previous", "change", "change_kind"]]
        for tile in body["tiles"]:
            out.append([_cell(tile[k]) for k in out[0]])
        for part in ("lifetime_value", "referral"):
            for key, value in body[part].items():
                out.append([f"{part}.{key}", label_of(key), unit_of(key), _cell(value), "", "", ""])
        return out

    def _csv_channels(self, body: dict[str, Any]) -> list[list[str]]:
        names = list(ChannelOut.model_fields)
        return [names, *([_cell(item[n]) for n in names] for item in body["items"])]

    def _csv_cac(self, body: dict[str, Any]) -> list[list[str]]:
        names = list(ChannelMonthOut.model_fields)
        return [names, *([_cell(item[n]) for n in names] for item in body["items"])]

    def _csv_cohorts(self, body: dict[str, Any]) -> list[list[str]]:
        ages = max((len(i["retention"]) for i in body["items"]), default=0)
        out = [["cohort", "customers", "first_mrr", *(f"m{k}" for k in range(ages))]]
        for i in body["items"]:
            cells = [_cell(v) for v in i["retention"]]
            out.append(
                [i["cohort"], str(i["customers"]), _cell(i["first_mrr"]), *cells]
                + [""] * (ages - len(cells))
            )
        return out

    def _csv_survival(self, body: dict[str, Any]) -> list[list[str]]:
        out = [["group", "label", "month", "survival", "lower", "upper", "at_risk"]]
        for g in body["groups"]:
            for k, month in enumerate(g["months"]):
                out.append(
                    [g["group"], g["label"], str(month)]
                    + [_cell(g[n][k]) for n in ("survival", "lower", "upper", "at_risk")]
                )
        return out


def _period_name(period: str) -> str:
    return {"month": _("month"), "quarter": _("quarter"), "year": _("year")}[period]


def _cell(value: Any) -> str:
    """A JSON value as a CSV cell: money as its decimal amount, null as empty."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return str(value["amount"])
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _show(value: Any, unit: str) -> str:
    """A value for people: 1,234.50 / 93.3 % / 3.2× / 7.5 / 1,234; a dash when undefined."""
    if value is None:
        return DASH
    if isinstance(value, dict):
        return f"{Decimal(value['amount']):,.2f}"
    if unit == "percent":
        return f"{value:.1f} %"
    if unit == "ratio":
        return f"{value:.1f}×"
    if unit in ("months", "score"):
        return f"{value:.1f}"
    if unit == "money":
        return f"{Decimal(str(value)):,.2f}"
    return f"{value:,}"


def _wide(
    title: str,
    first: str,
    heads: list[str],
    rows: list[tuple[str, list[str]]],
    *,
    caption: str | None = None,
) -> list[Table]:
    """A table with many value columns, split into tables that each fit the terminal."""
    width = shutil.get_terminal_size(fallback=(120, 24)).columns
    label_width = max([len(first), *(len(label) for label, _v in rows)]) + 3
    cell_width = max([1, *(len(h) for h in heads), *(len(v) for _l, vs in rows for v in vs)]) + 3
    per_table = max(1, (width - label_width - 1) // cell_width)
    tables = []
    for offset in range(0, max(len(heads), 1), per_table):
        part = heads[offset : offset + per_table]
        table = Table(first, title=title if offset == 0 else None)
        for head in part:
            table.add_column(head, justify="right", no_wrap=True)
        for label, values in rows:
            table.add_row(label, *values[offset : offset + per_table])
        tables.append(table)
    if tables and caption:
        tables[-1].caption = caption
    return tables


def _compared(compare: dict[str, Any]) -> str:
    """ "2025-11 against 2025-10", or for to-date "2025-12-01 to 2025-12-06 against …"."""
    current, previous = compare["current"], compare["previous"]
    if current is None:
        return ""

    def span(item: dict[str, Any]) -> str:
        if compare["mode"] == "to_date":
            return f"{item['start']} – {item['end']}"
        return str(item["label"])

    if previous is None:
        return span(current)
    return _("%(current)s against %(previous)s") % {
        "current": span(current),
        "previous": span(previous),
    }
