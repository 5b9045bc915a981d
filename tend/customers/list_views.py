"""The customers list's bulk actions and its CSV/XLSX export. Parse → authorize → act → render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tend.accounts.models import User
from tend.customers import exports, queries
from tend.customers.actions import (
    BULK_LIMIT,
    BulkTooLarge,
    customers_bulk_change_stage,
    customers_bulk_set_owner,
    customers_bulk_tag,
)
from tend.customers.forms import BulkForm
from tend.customers.models import Customer, Stage
from tend.customers.queries import NO_OWNER
from tend.customers.views import list_choices, list_context
from tend.lib.access import write_view
from tend.segments.conditions import ConditionError


def _filtered(params: QueryDict) -> Any:
    """The customers the list shows for ``params``, in its order (filters and sort)."""
    return queries.customer_list(list_choices().form(params).filters())


def _back(query: str) -> HttpResponse:
    return redirect(reverse("customers:list") + (f"?{query}" if query else ""))


@require_POST
@write_view
def customer_bulk(request: HttpRequest) -> HttpResponse:
    """Tag, untag, assign or move the selected customers (or all that match the filters)."""
    query = str(request.POST.get("query", ""))[:4000]
    params = QueryDict(query)
    form = BulkForm(request.POST, owners=list_choices().owners)
    if form.is_valid():
        data = form.cleaned_data
        if data["all_matching"]:
            try:
                selection = _filtered(params)
            except ConditionError as exc:
                form.add_error(None, exc.message)
                context = list_context(request, params, bulk_form=form)
                return render(request, "customers/list.html", context, status=422)
            selected = selection.count()
        else:
            selection = Customer.objects.filter(pk__in=data["ids"][: BULK_LIMIT + 1])
            selected = len(data["ids"])
        if selected > BULK_LIMIT:
            form.add_error(
                None,
                _(
                    "A bulk action changes at most %(limit)s customers at once; "
                    "%(count)s are selected. Narrow the filters and repeat."
                )
                % {"limit": f"{BULK_LIMIT:,}", "count": f"{selected:,}"},
            )
        else:
            try:
                text = _apply(request.user, data, selection)  # type: ignore[arg-type]
            except BulkTooLarge:  # rows added between the count and the action
                form.add_error(None, _("Too many customers selected; narrow the filters."))
            else:
                messages.success(request, text)
                return _back(query)
    context = list_context(request, params, bulk_form=form)
    return render(request, "customers/list.html", context, status=422)


def _apply(by: User, data: dict[str, Any], selection: Any) -> str:
    action = data["action"]
    label = by.username
    if action == "add_tag":
        n = len(customers_bulk_tag(customers=selection, add=[data["tag"]], by=by, label=label))
        return ngettext(
            "Added the tag “%(tag)s” to %(count)s customer.",
            "Added the tag “%(tag)s” to %(count)s customers.",
            n,
        ) % {"tag": data["tag"], "count": n}
    if action == "remove_tag":
        n = len(customers_bulk_tag(customers=selection, remove=[data["tag"]], by=by, label=label))
        return ngettext(
            "Removed the tag “%(tag)s” from %(count)s customer.",
            "Removed the tag “%(tag)s” from %(count)s customers.",
            n,
        ) % {"tag": data["tag"], "count": n}
    if action == "set_owner":
        owner = None
        if data["owner"] != NO_OWNER:
            owner = User.objects.get(pk=int(data["owner"]))
        n = len(customers_bulk_set_owner(customers=selection, owner=owner, by=by, label=label))
        return ngettext(
            "Changed the owner of %(count)s customer.",
            "Changed the owner of %(count)s customers.",
            n,
        ) % {"count": n}
    n = len(
        customers_bulk_change_stage(
            customers=selection, stage=data["stage"], reason=data["reason"], by=by, label=label
        )
    )
    return ngettext(
        "Moved %(count)s customer to the stage %(stage)s.",
        "Moved %(count)s customers to the stage %(stage)s.",
        n,
    ) % {"count": n, "stage": Stage(data["stage"]).label}


def _unusable(exc: ConditionError) -> HttpResponse:
    message = _("This segment cannot be used as a filter: %(error)s") % {"error": exc.message}
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


@require_GET
def customer_export_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered, sorted list as CSV, streamed row by row."""
    try:
        rows = _filtered(request.GET)
    except ConditionError as exc:
        return _unusable(exc)
    response = StreamingHttpResponse(
        exports.csv_lines(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{exports.file_name("csv")}"'
    return response


@require_GET
def customer_export_xlsx(request: HttpRequest) -> HttpResponse | FileResponse:
    """The filtered, sorted list as an XLSX workbook."""
    try:
        rows = _filtered(request.GET)
    except ConditionError as exc:
        return _unusable(exc)
    return FileResponse(
        exports.xlsx_file(rows),
        as_attachment=True,
        filename=exports.file_name("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
