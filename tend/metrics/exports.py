"""Every table of the revenue dashboard as plain rows, for CSV/XLSX downloads and the CLI.

``table(name, filters)`` gives ``(headers, rows)``: headers in the active language with the
unit in brackets ("Logo churn rate (%)", "MRR (USD)"), rows of plain values — ``Decimal``
money, ``float`` rates in percent rounded to 2 decimals, ``int`` counts, ``date``, ``bool``
and ``None`` for "cannot be computed". ``build(name, filters)`` gives the same with each
column's kind, which the XLSX writer uses for number formats. Every number comes from
the series readers (``tend.metrics.kpis`` and its siblings), so a download shows what the
page shows.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tend.billing.models import Plan
from tend.customers.channels import channel_labels
from tend.lib.spreadsheet import csv_writer, xlsx_cell, xlsx_workbook
from tend.metrics.channels import by_channel
from tend.metrics.cohorts import cohorts, survival
from tend.metrics.filters import FilterError, Filters
from tend.metrics.formulas import FORMULAS
from tend.metrics.kpis import PeriodKpis, kpi_series

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

Kind = Literal["text", "date", "bool", "count", "money", "percent", "ratio", "months"]
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: Kind


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: StrPromise
    build: Callable[[Filters, date | None], Table]


def _header(label: Any, kind: Kind) -> str:
    # One string to translate, so a Chinese header reads 客户流失率（%）.
    if kind == "percent":
        return _("%(label)s (%(unit)s)") % {"label": label, "unit": "%"}
    if kind == "money":
        return _("%(label)s (%(unit)s)") % {"label": label, "unit": settings.TEND_CURRENCY}
    if kind == "months":
        return _("%(label)s (months)") % {"label": label}
    return str(label)


def _column(key: str, kind: Kind, label: Any = None) -> Column:
    if label is None:
        label = FORMULAS[key].label
    return Column(key, _header(label, kind), kind)


def value(raw: Any, kind: Kind) -> Any:
    """A cell value: rates rounded to 2 decimals, money as Decimal, counts as int."""
    if raw is None:
        return None
    if kind in ("percent", "ratio", "months"):
        return round(float(raw), 2)
    if kind == "money":
        return raw if isinstance(raw, Decimal) else Decimal(str(raw))
    if kind == "count":
        return int(raw)
    return raw


def _rows(columns: list[Column], records: Iterable[dict[str, Any]]) -> list[list[Any]]:
    return [[value(record.get(c.key), c.kind) for c in columns] for record in records]


# --- KPI series and movements ---------------------------------------------------------------


def _period_columns() -> list[Column]:
    return [
        Column("period", _("Period"), "text"),
        Column("start", _("First day"), "date"),
        Column("end", _("Last day"), "date"),
        Column("to_date", _("Runs to today"), "bool"),
    ]


def kpi_columns() -> list[Column]:
    """Every figure and metric of a period, in the order the page's table shows them."""
    return [
        *_period_columns(),
        _column("customers_start", "count", _("Paying customers at start")),
        _column("customers", "count", _("Paying customers")),
        _column("retained", "count", _("Customers retained")),
        _column("churned", "count", _("Customers churned")),
        _column("expanded", "count", _("Customers who expanded")),
        _column("acquired", "count", _("Customers acquired")),
        _column("mrr_start", "money", _("MRR at start")),
        _column("mrr", "money"),
        _column("arr", "money"),
        _column("new_mrr", "money"),
        _column("expansion_mrr", "money"),
        _column("reactivation_mrr", "money"),
        _column("contraction_mrr", "money"),
        _column("churned_mrr", "money"),
        _column("net_new_mrr", "money"),
        _column("arpa", "money"),
        _column("logo_churn", "percent"),
        _column("revenue_churn", "percent"),
        _column("crr", "percent"),
        _column("grr", "percent"),
        _column("nrr", "percent"),
        _column("cer", "percent"),
        _column("renewals_due", "count", _("Renewals due")),
        _column("renewals_done", "count", _("Renewals done")),
        _column("renewal_rate", "percent"),
        _column("acquisition_cost", "money", _("Acquisition cost")),
        _column("cac", "money"),
    ]


def kpi_record(period: PeriodKpis) -> dict[str, Any]:
    return {**period.as_dict(), "period": period.label}


def _kpis(filters: Filters, today: date | None) -> Table:
    columns = kpi_columns()
    records = [kpi_record(p) for p in kpi_series(filters, today=today)]
    return Table("kpis", str(TABLES["kpis"].title), columns, _rows(columns, records))


def movement_columns() -> list[Column]:
    """MRR at start + movements (losses negative, as in the ledger) = MRR at end."""
    return [
        *_period_columns(),
        _column("mrr_start", "money", _("MRR at start")),
        _column("new", "money", _("New")),
        _column("expansion", "money", _("Expansion")),
        _column("reactivation", "money", _("Reactivation")),
        _column("contraction", "money", _("Contraction (−)")),
        _column("churn", "money", _("Churn (−)")),
        _column("net_new_mrr", "money"),
        _column("mrr_end", "money", _("MRR at end")),
    ]


def _movements(filters: Filters, today: date | None) -> Table:
    columns = movement_columns()
    records = [kpi_record(p) for p in kpi_series(filters, today=today)]
    return Table("movements", str(TABLES["movements"].title), columns, _rows(columns, records))


# --- cohorts ------------------------------------------------------------------------------


def _cohorts(filters: Filters, today: date | None, *, basis: str) -> Table:
    rows = cohorts(filters, today=today)
    width = max((len(r.logo) for r in rows), default=0)
    columns = [
        Column("cohort", _("Cohort (first paid month)"), "text"),
        _column("customers", "count", _("Customers")),
        _column("first_mrr", "money", _("First month MRR")),
        *[
            Column(f"m{k}", _header(_("Month %(k)d") % {"k": k}, "percent"), "percent")
            for k in range(width)
        ],
    ]
    out = []
    for row in rows:
        cells = row.logo if basis == "logo" else row.revenue
        padded = [*cells, *([None] * (width - len(cells)))]
        out.append(
            [
                f"{row.cohort:%Y-%m}",
                row.customers,
                row.first_mrr,
                *[value(v, "percent") for v in padded],
            ]
        )
    name = f"cohorts_{basis}"
    return Table(name, str(TABLES[name].title), columns, out)


# --- channels -----------------------------------------------------------------------------


def channel_columns() -> list[Column]:
    return [
        Column("channel", _("Channel code"), "text"),
        Column("label", _("Channel"), "text"),
        # The same names as the dashboard's channel table, which defines them under it.
        _column("acquired", "count", _("Acquired in range")),
        _column("acquisition_cost", "money", _("Acquisition cost")),
        _column("cac", "money"),
        _column("customers", "count", _("Paying at end")),
        _column("mrr", "money"),
        _column("arpa", "money"),
        _column("monthly_churn", "percent", _("Monthly logo churn")),
        _column("ltv", "money", FORMULAS["clv_simple"].label),
        _column("ltv_cac", "ratio"),
        _column("payback_months", "months", FORMULAS["cac_payback"].label),
    ]


def channel_records(filters: Filters, today: date | None = None) -> list[dict[str, Any]]:
    labels = channel_labels()
    return [
        {**row.__dict__, "label": str(labels.get(row.channel, row.channel))}
        for row in by_channel(filters, today=today)
    ]


def _channels(filters: Filters, today: date | None) -> Table:
    columns = channel_columns()
    records = channel_records(filters, today)
    return Table("channels", str(TABLES["channels"].title), columns, _rows(columns, records))


# --- survival -----------------------------------------------------------------------------


def survival_groups(filters: Filters, *, by: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(group, readable label, curve) per Kaplan–Meier curve, biggest group first.

    The group is ``all``, a plan code or a channel, as in the API.
    """
    curves = survival(filters, by=by)
    plans: dict[str, tuple[str, str]] = {}
    if by == "plan":
        ids = [int(k) for k in curves if k.isdigit()]
        rows = Plan.objects.filter(pk__in=ids).values_list("pk", "code", "name")
        plans = {str(pk): (code, name) for pk, code, name in rows}
    channels = channel_labels()
    out = []
    for key, curve in curves.items():
        group = key or by
        if by == "all":
            group, label = "all", _("All customers")
        elif by == "plan":
            group, label = plans.get(key, (key, _("No plan")))
        else:
            label = str(channels.get(key) or key or _("Unknown"))
        out.append((group, label, curve))
    return out


def survival_columns() -> list[Column]:
    return [
        Column("group", _("Group code"), "text"),
        Column("label", _("Group"), "text"),
        _column("month", "count", _("Months since first payment")),
        _column("at_risk", "count", _("Customers at risk")),
        _column("survival", "percent", _("Still paying")),
        _column("lower", "percent", _("95% band, lower")),
        _column("upper", "percent", _("95% band, upper")),
    ]


def _survival(filters: Filters, today: date | None, *, by: str) -> Table:
    columns = survival_columns()
    records = []
    for group, label, curve in survival_groups(filters, by=by):
        for i, month in enumerate(curve["months"]):
            records.append(
                {
                    "group": group,
                    "label": label,
                    "month": month,
                    "at_risk": curve["at_risk"][i],
                    "survival": curve["survival"][i],
                    "lower": curve["lower"][i],
                    "upper": curve["upper"][i],
                }
            )
    name = "survival" if by == "all" else f"survival_{by}"
    return Table(name, str(TABLES[name].title), columns, _rows(columns, records))


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("kpis", gettext_lazy("KPIs per period"), _kpis),
        TableSpec("movements", gettext_lazy("MRR movements"), _movements),
        TableSpec(
            "cohorts_logo",
            gettext_lazy("Cohort logo retention"),
            lambda f, t: _cohorts(f, t, basis="logo"),
        ),
        TableSpec(
            "cohorts_revenue",
            gettext_lazy("Cohort revenue retention"),
            lambda f, t: _cohorts(f, t, basis="revenue"),
        ),
        TableSpec("channels", gettext_lazy("CAC and LTV by channel"), _channels),
        TableSpec(
            "survival",
            gettext_lazy("Survival, all customers"),
            lambda f, t: _survival(f, t, by="all"),
        ),
        TableSpec(
            "survival_plan",
            gettext_lazy("Survival by plan"),
            lambda f, t: _survival(f, t, by="plan"),
        ),
        TableSpec(
            "survival_channel",
            gettext_lazy("Survival by channel"),
            lambda f, t: _survival(f, t, by="channel"),
        ),
    )
}


def build(name: str, filters: Filters, *, today: date | None = None) -> Table:
    """The table ``name`` (a key of ``TABLES``) for ``filters``; FilterError names "table"."""
    spec = TABLES.get(name)
    if spec is None:
        raise FilterError("table", f"unknown table {name!r}; one of {', '.join(TABLES)}")
    return spec.build(filters, today)


def table(
    name: str, filters: Filters, *, today: date | None = None
) -> tuple[list[str], list[list[Any]]]:
    """(headers, rows) of the table ``name`` for ``filters``."""
    built = build(name, filters, today=today)
    return built.headers, built.rows


# --- file formats -------------------------------------------------------------------------


def _csv_cell(cell: Any) -> Any:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, date):
        return cell.isoformat()
    return cell


def to_csv(built: Table) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read Chinese headers right;
    no cell can become a formula (``tend.lib.spreadsheet``)."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow(built.headers)
    for row in built.rows:
        writer.writerow([_csv_cell(c) for c in row])
    return out.getvalue().encode("utf-8-sig")


NUMBER_FORMATS: dict[str, str] = {
    "money": "#,##0.00",
    "percent": "0.00",
    "ratio": "0.00",
    "months": "0.0",
    "count": "#,##0",
    "date": "yyyy-mm-dd",
}
WIDTHS: dict[str, int] = {"text": 16, "date": 12, "bool": 10}


def to_xlsx(built: Table) -> bytes:
    """A write-only workbook: one sheet, bold header row, numbers stored as numbers, text
    stored as text (never a formula, ``tend.lib.spreadsheet``)."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = xlsx_workbook()
    sheet = book.create_sheet(title=built.name[:31])
    sheet.freeze_panes = "B2"
    for i, column in enumerate(built.columns, start=1):
        width = max(WIDTHS.get(column.kind, 12), min(len(column.header) + 2, 40))
        sheet.column_dimensions[get_column_letter(i)].width = width
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    header = []
    for column in built.columns:
        cell = xlsx_cell(sheet, column.header)
        cell.font = bold
        cell.alignment = wrap
        header.append(cell)
    sheet.append(header)
    formats = [NUMBER_FORMATS.get(c.kind) for c in built.columns]
    for row in built.rows:
        cells = []
        for raw, fmt in zip(row, formats, strict=True):
            cell = xlsx_cell(sheet, raw)
            if fmt is not None and raw is not None:
                cell.number_format = fmt
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
