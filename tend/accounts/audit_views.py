"""The owner-only audit log page (``/audit/``) and its CSV download."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from tend.accounts.audit_queries import (
    AuditFilterError,
    AuditFilters,
    actions_known,
    actors_known,
    changes_lines,
    csv_file_name,
    csv_lines,
    customer_names,
    entries_filtered,
    filters_parse,
    object_links,
    object_words,
    page_of,
    who,
)
from tend.accounts.audit_words import action_words
from tend.lib.access import require_manage


def _field_name(field: str) -> str:
    return {
        "user": pgettext("audit filter", "Who"),
        "customer": pgettext("audit filter", "Customer"),
        "action": pgettext("audit filter", "Action"),
        "since": pgettext("audit filter", "From"),
        "until": pgettext("audit filter", "Until"),
    }.get(field, pgettext("audit filter", "Page"))


def _cursor_param(request: HttpRequest, name: str) -> str:
    value = request.GET.get(name, "")
    if "\x00" in value or len(value) > 200:
        raise AuditFilterError(name, _("This cursor is not one Tend gave out; start over."))
    return value


@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """Newest first, filtered by user, customer, action and days; 50 a page (keyset)."""
    require_manage(request.user)
    error: AuditFilterError | None = None
    filters = AuditFilters()
    page = None
    try:
        filters = filters_parse(request.GET)
        before = _cursor_param(request, "before")
        after = _cursor_param(request, "after")
        page = page_of(entries_filtered(filters), before=before, after=after)
    except AuditFilterError as exc:
        error = exc
    rows: list[dict[str, Any]] = []
    if page is not None:
        links = object_links(page.entries)
        names = customer_names(page.entries)
        for entry in page.entries:
            rows.append(
                {
                    "entry": entry,
                    "who": who(entry),
                    "words": action_words(entry.action),
                    "object_url": links.get((entry.object_type, entry.object_id)),
                    "object_words": object_words(entry.object_type),
                    "customer_name": names.get(entry.customer_id)
                    if entry.customer_id is not None
                    else None,
                    "changes": changes_lines(entry.changes),
                }
            )
    actions = actions_known()
    if filters.action and filters.action not in actions:
        actions.append(filters.action)
    query = filters.as_query()
    context = {
        "csv_url": "?" + urlencode(query) if query else "",
        "older_url": "?" + urlencode({**query, "before": page.older})
        if page and page.older
        else "",
        "newer_url": "?" + urlencode({**query, "after": page.newer}) if page and page.newer else "",
        "newest_url": "?" + urlencode(query),
        "TIME_ZONE": settings.TIME_ZONE,
        "filters": filters,
        "query": filters.as_query(),
        "rows": rows,
        "page": page,
        "error": error,
        "error_field": _field_name(error.field) if error else "",
        "actions": [(a, action_words(a)) for a in actions],
        "actors": actors_known(),
        "customer_name": (
            customer_names_for(filters.customer) if filters.customer is not None else None
        ),
    }
    return render(request, "audit/log.html", context, status=400 if error else 200)


def customer_names_for(pk: int) -> str | None:
    from tend.customers.models import Customer

    return Customer.objects.filter(pk=pk).values_list("name", flat=True).first()


@require_GET
def audit_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered entries as CSV, streamed (every matching row, not just one page)."""
    require_manage(request.user)
    try:
        filters = filters_parse(request.GET)
    except AuditFilterError as exc:
        return HttpResponse(
            f"{_field_name(exc.field)}: {exc.message}\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = StreamingHttpResponse(
        csv_lines(entries_filtered(filters)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{csv_file_name()}"'
    return response
