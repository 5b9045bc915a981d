"""Read helpers for the customer pages: the filtered list, activity and MRR series, the timeline.

Every helper runs a fixed number of queries whatever the size of the data, so the pages stay
fast at 100,000 customers and millions of events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import CASCADE, Count, F, Model, OrderBy, Prefetch, Q, QuerySet, Sum, Window
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from tend.activity.models import DailyRollup
from tend.billing.models import MrrMovement
from tend.customers.filtering import Condition, customers_where, filter_condition
from tend.customers.models import Customer, StageChange, Tag, TimelineEntry
from tend.lib.charts import AXIS, CONFIG, LAYOUT, chart_date_formats
from tend.segments.conditions import Condition as Parsed

# Sort keys the list accepts (anything else falls back to the default) and their columns.
SORTS = {
    "name": "name",
    "mrr": "mrr",
    "signed_up": "signed_up_at",
    "last_seen": "last_seen_at",
    "stage": "stage_rank",  # lifecycle order, not the alphabet (a generated column)
}
DEFAULT_SORT = "name"
NULLABLE_SORTS = {"last_seen_at"}
NO_OWNER = "none"


@dataclass(frozen=True)
class ListFilters:
    q: str = ""
    stage: str = ""
    plan: int | None = None
    owner: int | None = None
    unowned: bool = False  # only customers nobody owns
    tag: str = ""
    segment: int | None = None  # a saved segment (tend.segments.models.Segment) id
    sort: str = DEFAULT_SORT
    descending: bool = False

    @property
    def active(self) -> bool:
        return bool(
            self.q
            or self.stage
            or self.plan
            or self.owner
            or self.unowned
            or self.tag
            or self.segment
        )

    def condition(self) -> Condition | None:
        """Every filter but the text search as one condition tree (None: no filter)."""
        return filter_condition(
            stage=self.stage,
            plans=[self.plan] if self.plan else [],
            owner=self.owner or None,
            unowned=self.unowned,
            tags_all=[self.tag] if self.tag else [],
            segment=self.segment,
        )


def customer_list(filters: ListFilters, parsed: Parsed | None = None) -> QuerySet[Customer]:
    """Customers matching ``filters`` in the requested order, ready for one page of rows.

    The search runs as before (trigram indexes); every other filter is one condition tree
    compiled by the condition language (``tend.customers.filtering``). ``parsed`` is that
    tree already parsed (``condition_parse(filters.condition())``), to parse it once.
    Raises ConditionError when the chosen segment's condition can no longer be used.
    """
    condition = parsed if parsed is not None else filters.condition()
    qs = customers_where(condition, Customer.objects.filter(search_q(filters.q)))
    column = SORTS.get(filters.sort, SORTS[DEFAULT_SORT])
    if column in NULLABLE_SORTS:
        # Never-seen customers go last both ways. NOT NULL columns get a plain ASC/DESC so
        # PostgreSQL can walk their btree index (DESC NULLS LAST would not match it).
        order = (
            F(column).desc(nulls_last=True)
            if filters.descending
            else F(column).asc(nulls_last=True)
        )
    else:
        order = F(column).desc() if filters.descending else F(column).asc()
    tiebreak = F("pk").desc() if filters.descending else F("pk").asc()
    return with_list_relations(qs.order_by(order, tiebreak))


def search_q(text: str) -> Q:
    """The list's text search: name or e-mail contains ``text``, or the external id is it
    (case-insensitive); an empty Q (everyone) for blank text. The same customers as
    ``Customer.objects.search``.

    One OR of three tests, each served on PostgreSQL by its own index (trigram GIN on
    ``UPPER(name)`` and ``UPPER(email)``, btree on ``UPPER(external_id)``; migration 0002), so a
    rare term is a BitmapOr of three index scans and a common one a single pass over the table.
    The list never lets the planner walk the name index for it (``DeferredJoinPaginator`` with
    ``one_pass``), the plan that made an OR slow before.
    """
    text = text.strip()
    if not text:
        return Q()
    return Q(name__icontains=text) | Q(email__icontains=text) | Q(external_id__iexact=text)


def with_list_relations(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    """What a row of the customers list shows besides the customer: plan, owner, tags."""
    return qs.select_related("plan", "owner").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"))
    )


# --- customer page ------------------------------------------------------------------------

ACTIVITY_DAYS = 90
TOP_EVENTS = 8


def activity_by_day(
    customer: Customer, *, days: int = ACTIVITY_DAYS, today: date | None = None
) -> list[tuple[date, int]]:
    """Events per UTC day over the last ``days`` days (today included), missing days as 0."""
    today = today or timezone.now().astimezone(UTC).date()
    start = today - timedelta(days=days - 1)
    rows = (
        DailyRollup.objects.filter(customer=customer, day__gte=start, day__lte=today)
        .values("day")
        .annotate(total=Sum("count"))
        .order_by()
    )
    totals = {_as_date(row["day"]): int(row["total"] or 0) for row in rows}
    return [
        (start + timedelta(days=i), totals.get(start + timedelta(days=i), 0)) for i in range(days)
    ]


def top_events(
    customer: Customer,
    *,
    days: int = ACTIVITY_DAYS,
    limit: int = TOP_EVENTS,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """The most frequent event names over the last ``days`` days, with their counts."""
    today = today or timezone.now().astimezone(UTC).date()
    start = today - timedelta(days=days - 1)
    return list(
        DailyRollup.objects.filter(customer=customer, day__gte=start, day__lte=today)
        .values("name")
        .annotate(total=Sum("count"))
        .order_by("-total", "name")[:limit]
    )


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value  # type: ignore[no-any-return]


def mrr_history(customer: Customer) -> list[MrrMovement]:
    """All MRR movements of a customer, oldest first."""
    return list(MrrMovement.objects.filter(customer=customer).order_by("at", "pk"))


# --- figures (plain dicts for plotly.js; building plotly objects per request is too slow) ---

# The shared chart look (tend/lib/charts.py), under the names this module always used.
_AXIS, _LAYOUT, _CONFIG = AXIS, LAYOUT, CONFIG


def activity_figure(series: list[tuple[date, int]], *, label: str) -> dict[str, Any]:
    """A bar chart of events per day; the count axis has whole-number ticks only."""
    formats = chart_date_formats()
    return {
        "data": [
            {
                "type": "bar",
                "x": [d.isoformat() for d, _n in series],
                "y": [n for _d, n in series],
                "name": label,
                "marker": {"color": "#5b8db8"},
                "hovertemplate": "%{x|" + formats["date"] + "}: %{y}<extra></extra>",
            }
        ],
        "layout": {
            **_LAYOUT,
            "xaxis": {**_AXIS, "type": "date", "tickformat": formats["day"]},
            "yaxis": {
                **_AXIS,
                "showgrid": True,
                "gridcolor": "#eef1f4",
                "rangemode": "tozero",
                "tickformat": ",d",
                # Counts are whole: with a small maximum plotly would put ticks at 0.5 steps,
                # which ",d" then printed as 0, 1, 1, 2, 2.
                **(
                    {"tick0": 0, "dtick": 1} if max((n for _d, n in series), default=0) <= 5 else {}
                ),
                "nticks": 6,
            },
        },
        "config": _CONFIG,
    }


def mrr_figure(
    movements: list[MrrMovement], *, current: Decimal, now: datetime | None = None
) -> dict[str, Any] | None:
    """A step chart of a customer's MRR from its first movement until now; None without any."""
    if not movements:
        return None
    now = now or timezone.now()
    xs = [movements[0].at.isoformat()]
    ys = [float(movements[0].mrr_before)]
    for move in movements:
        xs.append(move.at.isoformat())
        ys.append(float(move.mrr_after))
    xs.append(max(now, movements[-1].at).isoformat())
    ys.append(float(current))
    formats = chart_date_formats()
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": xs,
                "y": ys,
                "line": {"shape": "hv", "color": "#2f7d5b", "width": 2},
                "fill": "tozeroy",
                "fillcolor": "rgba(47,125,91,0.08)",
                "hovertemplate": "%{x|"
                + formats["date"]
                + "}: %{y:,.2f} "
                + settings.TEND_CURRENCY
                + "<extra></extra>",
            }
        ],
        "layout": {
            **_LAYOUT,
            "xaxis": {**_AXIS, "type": "date", "tickformat": formats["month"]},
            "yaxis": {
                **_AXIS,
                "showgrid": True,
                "gridcolor": "#eef1f4",
                "rangemode": "tozero",
                "tickformat": ",.0f",
            },
        },
        "config": _CONFIG,
    }


# --- timeline ------------------------------------------------------------------------------

TIMELINE_PAGE = 30
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timeline_cursor(entry: TimelineEntry) -> str:
    """An opaque, exact position in a timeline: microseconds since the epoch and the id."""
    micros = (entry.at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{entry.pk}"


def parse_cursor(raw: str | None) -> tuple[datetime, int] | None:
    """The (time, id) of a cursor from ``timeline_cursor``; None when missing or malformed."""
    if not raw:
        return None
    micros, sep, pk = raw.partition("_")
    if not sep:
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except (ValueError, OverflowError):
        return None


def timeline_page(
    customer: Customer, *, before: str | None = None, size: int = TIMELINE_PAGE
) -> tuple[list[TimelineEntry], str | None]:
    """One page of a customer's timeline, newest first, and the cursor of the next page.

    Keyset paging on (at, id) uses the (customer, -at) index and stays correct while new
    entries arrive.
    """
    qs = TimelineEntry.objects.filter(customer=customer).select_related("author")
    cursor = parse_cursor(before)
    if cursor is not None:
        at, pk = cursor
        qs = qs.filter(Q(at__lt=at) | Q(at=at, pk__lt=pk))
    entries = list(qs.order_by("-at", "-pk")[: size + 1])
    more = len(entries) > size
    entries = entries[:size]
    return entries, (timeline_cursor(entries[-1]) if more and entries else None)


LAST_PAGE = "last"  # ?page=last: the last page, whatever the number of matches


class _PastTheEnd(EmptyPage):
    """A page after the last match, found without counting the matches."""


class DeferredJoinPaginator(Paginator):
    """Finds one page's ids first, then loads just those rows with their joins and prefetches.

    With a plain OFFSET the database joins plan and owner for every row it skips: page 1,000
    of 100,000 customers took 95 ms on PostgreSQL that way against about 25 ms like this.
    The rows are loaded by id alone, so a search does not run a third time.

    ``one_pass=True`` (a text search) finds the page's ids and the number of matches in one
    query: the matching customers once, counted with ``COUNT(*) OVER ()`` in a sub-select and
    sorted outside it (``_ids_and_count``). A search has to find every match to count it; this
    way it does so once instead of twice (count, then ids).

    A search the planner expects to match ``TEND_LIST_EXACT_COUNT_UNDER`` customers or more
    (PostgreSQL) is not counted: counting 74,000 matches of "co" reads all 100,000 rows. Its
    page is a plain ``ORDER BY … LIMIT`` (the database walks the sort index and stops after
    the page) and ``count`` is the planner's estimate, rounded (``estimated`` is True; the
    templates say "about"). Pages in the second half of the estimated matches are found and
    counted exactly, as above (walking the index that far costs more than one pass). The last
    page (``?page=last``, the pager's "Last" link while the count is an estimate) and any page
    past the end are one query too: the matches counted and sorted the other way round, the
    first rows of it reversed; the count shown there is exact.
    """

    def __init__(self, object_list: Any, per_page: int, *, one_pass: bool = False) -> None:
        super().__init__(object_list, per_page)
        self.one_pass = one_pass
        self.estimated = False  # count is the planner's estimate, not the number of matches

    def get_page(self, number: Any) -> Page:
        if number == LAST_PAGE:  # the pager's "Last" link when the count is an estimate
            if self.one_pass and not self.orphans:
                return self._last_page()
            number = self.num_pages
        if not self.one_pass:
            return super().get_page(number)
        # As Paginator.get_page, without counting before the page is asked for.
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except _PastTheEnd:
            return self._last_page()
        except EmptyPage:
            return self.page(self.num_pages)

    def page(self, number: Any) -> Page:
        if self.one_pass and not self.orphans and "count" not in self.__dict__:
            estimate = self._estimate()
            if estimate is not None and estimate >= settings.TEND_LIST_EXACT_COUNT_UNDER:
                found_page = self._estimated_page(number, estimate)
                if found_page is not None:
                    return found_page
                # A page deep into the matches: exact, as walking the index there costs more.
            found = self._ids_and_count(number)
            if found is not None:
                ids, total, number = found
                self.__dict__["count"] = total  # Paginator.count is a cached_property
                return Page(self._rows(ids), number, self)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(
            self.object_list.select_related(None)  # type: ignore[attr-defined]
            .prefetch_related(None)
            .values_list("pk", flat=True)[bottom:top]
        )
        return Page(self._rows(ids), number, self)

    def _plain(self) -> QuerySet[Customer]:
        return self.object_list.select_related(None).prefetch_related(None)  # type: ignore[attr-defined, no-any-return]

    def _estimate(self) -> int | None:
        """The planner's row estimate for the matches (``EXPLAIN``, no row read); None when
        the database has no planner estimates to give (SQLite: it always counts exactly)."""
        qs = self._plain()
        connection = connections[qs.db]
        if connection.vendor != "postgresql":
            return None
        sql, params = qs.order_by().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str | bytes):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])

    def _estimated_page(self, number: Any, estimate: int) -> Page | None:
        """Page ``number`` without counting the matches, by a plain ``ORDER BY … LIMIT``
        (the database walks the sort index and stops after the page). None for a page in the
        second half of the estimated matches, which the caller finds and counts exactly (one
        pass over the table costs less than walking the index that far); ``_PastTheEnd``
        past the last match."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        bottom = (number - 1) * self.per_page
        if bottom >= round_estimate(estimate) // 2:
            return None
        # One row more than the page tells whether a next page exists.
        ids = list(self._plain().values_list("pk", flat=True)[bottom : bottom + self.per_page + 1])
        if not ids and number > 1:
            raise _PastTheEnd(self.error_messages["no_results"])
        if len(ids) <= self.per_page:
            # The last page: the number of matches is known exactly.
            self.__dict__["count"] = bottom + len(ids)
        else:
            self.estimated = True
            ids = ids[: self.per_page]
            # Never fewer pages than the ones seen to exist: "Next" stays while rows follow.
            self.__dict__["count"] = max(round_estimate(estimate), bottom + self.per_page + 1)
        return Page(self._rows(ids), number, self)

    @staticmethod
    def _rows(ids: list[int]) -> list[Customer]:
        rows = {row.pk: row for row in with_list_relations(Customer.objects.filter(pk__in=ids))}
        return [rows[pk] for pk in ids if pk in rows]

    def _last_page(self) -> Page:
        """The last page of the matches and their exact number in one query; past the end,
        and the "Last" link when the count shown was an estimate."""
        found = self._ids_and_count(LAST_PAGE)
        if found is None:  # the order is not plain columns: count, then page
            return self.page(self.num_pages)
        ids, total, number = found
        self.__dict__["count"] = total
        return Page(self._rows(ids), number, self)

    def _ids_and_count(self, number: Any) -> tuple[list[int], int, int] | None:
        """(ids of page ``number``, number of matches, page number) in one query; None when
        the order is not plain columns, and the caller counts and pages as usual.
        ``_PastTheEnd`` when the page is past the end of the matches (no row carries the
        count). ``LAST_PAGE`` for the last page: the matches sorted the other way round, the
        first ones of them reversed.

        The sub-select has no ORDER BY, so the database finds the matches the cheapest way
        (index scans for a rare term, one table scan for a common one) instead of walking an
        index in the sort order and filtering every row of it; the outer query sorts the
        matches keeping only the page (a top-N sort)."""
        from_end = number == LAST_PAGE
        if from_end:
            number = 1
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        qs = self._plain()
        keys: dict[str, F] = {}
        order_sql: list[str] = []
        for i, item in enumerate(qs.query.order_by):
            if not (isinstance(item, OrderBy) and isinstance(item.expression, F)):
                return None
            keys[f"sort_{i}"] = item.expression
            descending, nulls_last, nulls_first = item.descending, item.nulls_last, item.nulls_first
            if from_end:  # the exact reverse, NULLs included
                descending, nulls_last, nulls_first = not descending, nulls_first, nulls_last
            nulls = " NULLS LAST" if nulls_last else " NULLS FIRST" if nulls_first else ""
            order_sql.append(f"m.sort_{i} {'DESC' if descending else 'ASC'}{nulls}")
        matches = (
            qs.order_by()
            .annotate(row_id=F("pk"), matched=Window(Count("*")), **keys)
            .values_list("row_id", "matched", *keys)
        )
        inner, params = matches.query.sql_with_params()
        sql = (
            f"SELECT m.row_id, m.matched FROM ({inner}) m "
            f"ORDER BY {', '.join(order_sql)} LIMIT %s OFFSET %s"
        )
        with connections[qs.db].cursor() as cursor:
            cursor.execute(sql, [*params, self.per_page, (number - 1) * self.per_page])
            found = cursor.fetchall()
        if not found:
            # Nothing on page 1: nothing matches.
            if number == 1:
                return [], 0, 1
            raise _PastTheEnd(self.error_messages["no_results"])
        total = int(found[0][1])
        if from_end:
            last = max(1, -(-total // self.per_page))
            size = total - (last - 1) * self.per_page
            return [row[0] for row in found[:size]][::-1], total, last
        return [row[0] for row in found], total, number


def round_estimate(n: int) -> int:
    """An estimate to two significant figures (80,023 → 80,000; 1,234 → 1,200)."""
    if n < 100:
        return n
    step = 10 ** (len(str(n)) - 2)
    return int(round(n / step) * step)


# What the "delete customer" page names for each model that goes with a customer; any model
# not listed here (a new app's) is still counted, under its own verbose name.
_ERASED_LABELS = {
    "customers.contact": _("Contacts"),
    "customers.stagechange": _("Lifecycle stage changes"),
    "customers.timelineentry": _("Timeline entries (notes, calls, emails, meetings…)"),
    "activity.event": _("Product events"),
    "activity.dailyrollup": _("Daily activity totals"),
    "billing.subscription": _("Subscriptions"),
    "billing.mrrmovement": _("MRR movements"),
    "billing.order": _("Orders"),
    "metrics.customermonth": _("Monthly metric rows"),
    "metrics.customerlife": _("Lifetime metric rows"),
    "tracking.identity": _("Tracking identities"),
    "tracking.pendingevent": _("Events waiting to be processed"),
    "webhooks.stripecustomer": _("Links to Stripe customers"),
}


def _cascades(model: type[Model]) -> list[tuple[type[Model], str]]:
    """(model, field name) of every relation whose rows are deleted with a ``model`` row."""
    found: list[tuple[type[Model], str]] = []
    for field in model._meta.get_fields(include_hidden=True):
        if not (
            field.auto_created and not field.concrete and (field.one_to_many or field.one_to_one)
        ):
            continue
        related = field.related_model
        if not (isinstance(related, type) and issubclass(related, Model)):
            continue
        if related._meta.auto_created:  # a many-to-many link table
            continue
        if getattr(field, "on_delete", None) is CASCADE:
            found.append((related, field.field.name))  # type: ignore[union-attr]
    return found


def erasure_counts(customer: Customer) -> list[tuple[str, int]]:
    """What deleting ``customer`` erases with it: (what, how many) for every non-empty kind of
    row, found by following the cascading relations (one COUNT per related model)."""
    counts: list[tuple[str, int]] = []
    stack: list[tuple[type[Model], str]] = [(model, name) for model, name in _cascades(Customer)]
    seen: set[tuple[type[Model], str]] = set()
    while stack:
        model, path = stack.pop(0)
        if (model, path) in seen or path.count("__") > 3:
            continue
        seen.add((model, path))
        n = model._default_manager.filter(**{path: customer.pk}).count()
        if not n:
            continue
        label = _ERASED_LABELS.get(model._meta.label_lower) or capfirst(
            str(model._meta.verbose_name_plural)
        )
        counts.append((str(label), n))
        stack.extend((child, f"{name}__{path}") for child, name in _cascades(model))
    return counts


def referral_count(customer: Customer) -> int:
    """Customers this one referred (they stay; only the link goes)."""
    return Customer.objects.filter(referred_by=customer).count()


def latest_stage_change(customer: Customer) -> StageChange | None:
    """The move that brought the customer to its current stage (one query)."""
    return (
        StageChange.objects.filter(customer=customer, to_stage=customer.stage)
        .order_by("-at", "-pk")
        .first()
    )


def search_for_picker(text: str, *, exclude: int | None = None, limit: int = 8) -> list[Customer]:
    """Customers matching ``text`` for a picker (name, email or external id), names first."""
    qs = Customer.objects.search(text).only("pk", "name", "email", "external_id")
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return list(qs.order_by("name", "pk")[:limit])
