"""Reading the audit log: one set of filters and one keyset-paged query, shared by the
``/audit/`` page, ``GET /api/v1/audit`` and ``tend audit``, so the three always agree.

Filters: ``user`` (a username: every write of that user, by session or by one of their keys;
anything else an exact actor label such as ``api:crm-sync``, ``system`` or ``stripe``),
``customer`` (an id), ``action`` (an exact action name such as ``customer.update``) and the
half-open day range ``[since, until)`` in the business time zone (``TEND_TIME_ZONE``).

Paging is by keyset on ``(at, id)``, newest first, so a page deep in a million rows costs
what the first one does: each filter has an index ending in ``at`` (``at``,
``(customer_id, at)``, ``(action, at)``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tend.accounts.models import AuditEntry, User
from tend.lib.spreadsheet import csv_writer

MAX_TEXT = 120  # a user or action filter longer than any stored label is refused
MAX_ID = 2**63 - 1
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
FILTER_FIELDS = ("user", "customer", "action", "since", "until")


class AuditFilterError(ValueError):
    """A filter value that cannot be used; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class AuditFilters:
    user: str = ""
    customer: int | None = None
    action: str = ""
    since: date | None = None  # first day included
    until: date | None = None  # first day NOT included

    def as_query(self) -> dict[str, str]:
        """The filters as query parameters (only those set)."""
        out = {
            "user": self.user,
            "customer": str(self.customer) if self.customer is not None else "",
            "action": self.action,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in out.items() if v}

    @property
    def any(self) -> bool:
        return bool(self.as_query())


def _text(field: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AuditFilterError(field, _("Give text."))
    if "\x00" in value:
        raise AuditFilterError(field, _("The value holds a NUL character; remove it."))
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise AuditFilterError(field, _("The value holds a broken character; remove it."))
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise AuditFilterError(field, _("At most %(n)d characters.") % {"n": MAX_TEXT})
    return value


def _day(field: str, value: str) -> date | None:
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise AuditFilterError(field, _("Give a date as YYYY-MM-DD, e.g. 2026-01-31.")) from None


def filters_parse(raw: Mapping[str, Any]) -> AuditFilters:
    """The filters from query parameters or options (text); AuditFilterError names a bad one."""
    user = _text("user", raw.get("user"))
    action = _text("action", raw.get("action"))
    customer_text = _text("customer", raw.get("customer"))
    customer: int | None = None
    if customer_text:
        if not customer_text.isascii() or not customer_text.isdigit():
            raise AuditFilterError("customer", _("Give a customer id: a whole number."))
        customer = int(customer_text)
        if not 1 <= customer <= MAX_ID:
            raise AuditFilterError("customer", _("Give a customer id: a whole number."))
    since = _day("since", _text("since", raw.get("since")))
    until = _day("until", _text("until", raw.get("until")))
    if since and until and until <= since:
        raise AuditFilterError(
            "until", _("“Until” must be after “since” (the range leaves out its last day).")
        )
    return AuditFilters(user=user, customer=customer, action=action, since=since, until=until)


def _start_of(day: date) -> datetime:
    """Midnight at the start of ``day`` in the business time zone."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def entries_filtered(filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Audit entries matching ``filters``, newest first."""
    qs = AuditEntry.objects.all()
    if filters.user:
        user_pk = User.objects.filter(username=filters.user).values_list("pk", flat=True).first()
        if user_pk is not None and not filters.user.startswith("api:"):
            qs = qs.filter(actor_id=user_pk)
        else:
            qs = qs.filter(actor_label=filters.user)
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.since:
        qs = qs.filter(at__gte=_start_of(filters.since))
    if filters.until:
        qs = qs.filter(at__lt=_start_of(filters.until))
    return qs.order_by("-at", "-id")


# --- keyset paging -----------------------------------------------------------------------


def cursor_encode(entry: AuditEntry) -> str:
    text = f"{entry.at.isoformat()}|{entry.pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor_decode(field: str, value: str) -> tuple[datetime, int]:
    """``(at, id)`` of a cursor; AuditFilterError for anything this module did not write."""
    problem = AuditFilterError(field, _("This cursor is not one Tend gave out; start over."))
    if not value or len(value) > 200 or not value.isascii():
        raise problem
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        at_text, _sep, pk_text = text.partition("|")
        at = datetime.fromisoformat(at_text)
        pk = int(pk_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise problem from None
    if at.tzinfo is None or not 1 <= pk <= MAX_ID:
        raise problem
    return at, pk


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    older: str | None  # cursor for the next (older) page
    newer: str | None  # cursor for the previous (newer) page


def page_of(
    qs: QuerySet[AuditEntry],
    *,
    before: str = "",
    after: str = "",
    size: int = PAGE_SIZE,
) -> AuditPage:
    """One page of ``qs`` (newest first): the newest, or those just older than ``before``,
    or just newer than ``after``. One query (plus one to learn if newer rows exist)."""
    if after:
        at, pk = cursor_decode("after", after)
        rows = list(
            qs.filter(at__gte=at)
            .exclude(at=at, id__lte=pk)
            .order_by("at", "id")[: size + 1]
            .select_related("actor")
        )
        more_newer = len(rows) > size
        entries = list(reversed(rows[:size]))
        return AuditPage(
            entries=entries,
            older=cursor_encode(entries[-1]) if entries else None,
            newer=cursor_encode(entries[0]) if entries and more_newer else None,
        )
    page_qs = qs
    if before:
        at, pk = cursor_decode("before", before)
        page_qs = qs.filter(at__lte=at).exclude(at=at, id__gte=pk)
    rows = list(page_qs.select_related("actor")[: size + 1])
    entries = rows[:size]
    return AuditPage(
        entries=entries,
        older=cursor_encode(entries[-1]) if len(rows) > size else None,
        newer=cursor_encode(entries[0]) if before and entries else None,
    )


def actions_known() -> list[str]:
    """The distinct action names stored, by a loose index scan of (action, at): one short
    index probe per distinct action, however many rows there are."""
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    sql = (
        # The table name is ours, never the caller's.
        f"WITH RECURSIVE t(action) AS ("
        f" SELECT MIN(action) FROM {table}"
        f" UNION ALL"
        f" SELECT (SELECT MIN(action) FROM {table} WHERE action > t.action)"
        f" FROM t WHERE t.action IS NOT NULL"
        f") SELECT action FROM t WHERE action IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def actors_known() -> list[tuple[str, str]]:
    """``(value, label)`` choices for the user filter: users, API keys, the system actors."""
    from tend.accounts.models import ApiKey

    out = [(u, u) for u in User.objects.order_by("username").values_list("username", flat=True)]
    out += [
        (f"api:{name}", f"api:{name}")
        for name in ApiKey.objects.order_by("name").values_list("name", flat=True).distinct()
    ]
    out += [(name, str(SYSTEM_ACTORS[name])) for name in SYSTEM_ACTORS]
    return out


SYSTEM_ACTORS = {
    "system": gettext_lazy("system (scheduled jobs, rules)"),
    "stripe": gettext_lazy("Stripe"),
    "import": gettext_lazy("imports"),
}

# --- words ---------------------------------------------------------------------------------

# Object types whose page can be linked: (URL name, which id the URL takes).
OBJECT_LINKS: dict[str, str] = {
    "customers.customer": "customers:detail",
    "segments.segment": "segments:detail",
    "playbooks.playbook": "playbooks:detail",
    "goals.goal": "goals:edit",
    "billing.plan": "billing:plan_edit",
    "ingest.import": "imports:detail",
}


def object_links(entries: list[AuditEntry]) -> dict[tuple[str, str], str]:
    """``(object_type, object_id) → URL`` for the entries' objects that still exist: one
    query per linkable type on the page."""
    wanted: dict[str, set[int]] = {}
    for e in entries:
        if e.object_type in OBJECT_LINKS and e.object_id.isdigit():
            wanted.setdefault(e.object_type, set()).add(int(e.object_id))
    out: dict[tuple[str, str], str] = {}
    for label, ids in wanted.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        for pk in model._default_manager.filter(pk__in=ids).values_list("pk", flat=True):
            try:
                out[(label, str(pk))] = reverse(OBJECT_LINKS[label], args=[pk])
            except NoReverseMatch:  # an app without that page: no link
                continue
    return out


def object_words(object_type: str) -> str:
    """``customers.customer`` → "customer" in the reader's language (the model's name)."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def customer_names(entries: list[AuditEntry]) -> dict[int, str]:
    """Names of the entries' customers that still exist (one query)."""
    from tend.customers.models import Customer

    ids = {e.customer_id for e in entries if e.customer_id is not None}
    if not ids:
        return {}
    return dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))


def _short(value: Any) -> str:
    if value is None or value == "":
        return "—"
    is_json = isinstance(value, (dict, list))
    text = json.dumps(value, ensure_ascii=False) if is_json else str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def changes_lines(changes: Any) -> list[tuple[str, str, str | None]]:
    """``(field, before, after)`` per changed field, ``after`` None for a plain value:
    ``{"stage": ["trial", "active"]}`` → ``[("stage", "trial", "active")]``."""
    if not isinstance(changes, dict):
        return [("", _short(changes), None)] if changes else []
    out: list[tuple[str, str, str | None]] = []
    for key, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            out.append((str(key), _short(value[0]), _short(value[1])))
        else:
            out.append((str(key), _short(value), None))
    return out


def who(entry: AuditEntry) -> str:
    """Who acted: the label (``api:<key>``, ``stripe``, …) or the user's name."""
    return entry.actor_label or (entry.actor.username if entry.actor else "system")


# --- CSV -----------------------------------------------------------------------------------

CSV_HEADERS = [
    "time",
    "who",
    "user",
    "action",
    "object_type",
    "object_id",
    "customer_id",
    "ip",
    "via",
    "changes",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(qs: QuerySet[AuditEntry], *, bom: bool = True) -> Iterator[str]:
    """The entries as CSV lines (time in the business time zone, ISO 8601 with its offset),
    read in chunks so a million rows stream in constant memory."""
    writer = csv_writer(_Echo(), lineterminator="\r\n")
    yield ("\ufeff" if bom else "") + writer.writerow(CSV_HEADERS)
    rows = qs.values_list(
        "at",
        "actor_label",
        "actor__username",
        "action",
        "object_type",
        "object_id",
        "customer_id",
        "ip",
        "via",
        "changes",
    )
    for at, label, username, *rest, changes in rows.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                timezone.localtime(at).isoformat(),
                label or username or "system",
                username or "",
                *["" if v is None else v for v in rest],
                json.dumps(changes, ensure_ascii=False, sort_keys=True),
            ]
        )


def csv_file_name() -> str:
    return f"audit-{timezone.localdate().isoformat()}.csv"
