"""Customer pages: the list and one customer. Parse → authorize → act → render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import F, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from tend.accounts.models import User
from tend.billing.models import Plan, Subscription
from tend.customers import queries
from tend.customers.actions import (
    BULK_LIMIT,
    customer_add_note,
    customer_change_stage,
    customer_set_tags,
)
from tend.customers.forms import BulkForm, CustomerFilterForm, NoteForm, StageForm, TagsForm
from tend.customers.models import Customer, Stage, Tag, TimelineEntry
from tend.customers.timeline import describe, detail
from tend.lib.access import can_write, write_view


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# Detail page lists are capped so a customer with thousands of contacts still renders fast.
CONTACTS_SHOWN = 25
SUBSCRIPTIONS_SHOWN = 25
MOVEMENTS_SHOWN = 12


@require_GET
def customer_list(request: HtmxHttpRequest) -> HttpResponse:
    """All customers: search, filter, sort and page; htmx asks for the table alone."""
    context = list_context(request, request.GET)
    if request.htmx and request.htmx.target == "customer-table":
        return render(request, "customers/_table.html", context)
    return render(request, "customers/list.html", context)


def list_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]], list[str]]:
    """Plans, active owners and tags for the list's filters (three small queries)."""
    plans = list(Plan.objects.order_by("name").values_list("id", "name"))
    owners = [
        (pk, f"{first} {last}".strip() or username)
        for pk, first, last, username in User.objects.filter(is_active=True)
        .order_by("username")
        .values_list("id", "first_name", "last_name", "username")
    ]
    tags = list(Tag.objects.order_by("name").values_list("name", flat=True))
    return plans, owners, tags


def list_context(
    request: HttpRequest, params: Any, *, bulk_form: BulkForm | None = None
) -> dict[str, Any]:
    """Everything the customers list renders for the filters in ``params`` (a QueryDict)."""
    plans, owners, tags = list_choices()
    form = CustomerFilterForm(params, plans=plans, owners=owners, tags=tags)
    filters = form.filters()
    paginator = queries.DeferredJoinPaginator(
        queries.customer_list(filters), settings.TEND_PAGE_SIZE
    )
    page = paginator.get_page(params.get("page"))
    sort_key = f"-{filters.sort}" if filters.descending else filters.sort
    query = params.copy()
    query.pop("page", None)
    return {
        "form": form,
        "select_fields": [form[name] for name in ("stage", "plan", "owner", "tag")],
        "filters": filters,
        "page": page,
        "customers": list(page.object_list),
        "sort_key": sort_key,
        "columns": _sort_columns(filters),
        "currency": settings.TEND_CURRENCY,
        "can_write": can_write(request.user),
        "bulk_form": bulk_form or BulkForm(owners=owners),
        "bulk_selected": set(
            (bulk_form.cleaned_data.get("ids") or [])
            if bulk_form is not None and hasattr(bulk_form, "cleaned_data")
            else []
        ),
        "bulk_limit": BULK_LIMIT,
        "list_query": query.urlencode(),
        "page_query": params.urlencode(),
    }


def _sort_columns(filters: queries.ListFilters) -> dict[str, dict[str, Any]]:
    """For each sortable column: the sort value its header link sets, and its current arrow."""
    columns: dict[str, dict[str, Any]] = {}
    for key in queries.SORTS:
        current = filters.sort == key
        # Numbers and dates are most useful biggest/newest first on the first click.
        first_desc = key in {"mrr", "signed_up", "last_seen"}
        if current:
            next_sort = key if filters.descending else f"-{key}"
        else:
            next_sort = f"-{key}" if first_desc else key
        arrow = ("↓" if filters.descending else "↑") if current else ""
        aria = ("descending" if filters.descending else "ascending") if current else "none"
        columns[key] = {"sort": next_sort, "arrow": arrow, "aria": aria}
    return columns


def _customer(pk: int) -> Customer:
    return get_object_or_404(
        Customer.objects.select_related("plan", "owner", "referred_by").prefetch_related(
            Prefetch("tags", queryset=Tag.objects.order_by("name"))
        ),
        pk=pk,
    )


def _timeline_rows(entries: list[TimelineEntry]) -> list[dict[str, Any]]:
    """Entries with their sentence in the reader's language (machine entries) or the note."""
    rows = []
    for entry in entries:
        machine = bool((entry.data or {}).get("msg"))
        rows.append(
            {"entry": entry, "machine": machine, "text": describe(entry), "detail": detail(entry)}
        )
    return rows


def _render_detail(
    request: HttpRequest,
    customer: Customer,
    *,
    note_form: NoteForm | None = None,
    stage_form: StageForm | None = None,
    tags_form: TagsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    contacts = list(customer.contacts.all()[: CONTACTS_SHOWN + 1])
    subscriptions = list(
        Subscription.objects.filter(customer=customer)
        .select_related("plan")
        .order_by(F("canceled_at").asc(nulls_first=True), "-started_at", "-pk")[
            : SUBSCRIPTIONS_SHOWN + 1
        ]
    )
    movements = queries.mrr_history(customer)
    activity = queries.activity_by_day(customer)
    entries, next_cursor = queries.timeline_page(customer, before=request.GET.get("before"))
    tag_names = [t.name for t in customer.tags.all()]
    context = {
        "customer": customer,
        "tag_names": tag_names,
        "contacts": contacts[:CONTACTS_SHOWN],
        "more_contacts": len(contacts) > CONTACTS_SHOWN,
        "subscriptions": subscriptions[:SUBSCRIPTIONS_SHOWN],
        "more_subscriptions": len(subscriptions) > SUBSCRIPTIONS_SHOWN,
        "movements": list(reversed(movements))[:MOVEMENTS_SHOWN],
        "more_movements": max(0, len(movements) - MOVEMENTS_SHOWN),
        "mrr_figure": queries.mrr_figure(movements, current=customer.mrr),
        "activity_total": sum(n for _day, n in activity),
        "activity_days": queries.ACTIVITY_DAYS,
        "activity_figure": queries.activity_figure(activity, label=_("Events")),
        "top_events": queries.top_events(customer),
        "timeline": _timeline_rows(entries),
        "next_cursor": next_cursor,
        "timeline_paged": bool(request.GET.get("before")),
        "can_write": can_write(request.user),
        "note_form": note_form or NoteForm(),
        "stage_form": stage_form or StageForm(initial={"stage": customer.stage}),
        "tags_form": tags_form or TagsForm(initial={"tags": ", ".join(tag_names)}),
        "stages": Stage.choices,
        "currency": settings.TEND_CURRENCY,
    }
    return render(request, "customers/detail.html", context, status=status)


@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One customer: profile, revenue, activity, and the timeline with notes."""
    return _render_detail(request, _customer(pk))


@require_GET
def customer_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of a customer's timeline (htmx "load more")."""
    customer = get_object_or_404(Customer.objects.only("pk"), pk=pk)
    entries, next_cursor = queries.timeline_page(customer, before=request.GET.get("before"))
    return render(
        request,
        "customers/_timeline_entries.html",
        {"customer": customer, "timeline": _timeline_rows(entries), "next_cursor": next_cursor},
    )


def _back_to(customer: Customer, anchor: str) -> HttpResponse:
    return redirect(reverse("customers:detail", args=[customer.pk]) + f"#{anchor}")


@require_POST
@write_view
def customer_note_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a note, call, email or meeting on the customer's timeline."""
    customer = _customer(pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, customer, note_form=form, status=422)
    customer_add_note(
        customer=customer,
        by=request.user,  # type: ignore[arg-type]
        kind=form.cleaned_data["kind"],
        body=form.cleaned_data["body"],
    )
    messages.success(request, _("Saved to the timeline."))
    return _back_to(customer, "timeline")


@require_POST
@write_view
def customer_stage_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the customer to another lifecycle stage by hand."""
    customer = _customer(pk)
    form = StageForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, customer, stage_form=form, status=422)
    old = customer.stage
    customer_change_stage(
        customer=customer,
        stage=form.cleaned_data["stage"],
        by=request.user,  # type: ignore[arg-type]
        reason=form.cleaned_data["reason"],
    )
    if customer.stage != old:
        messages.success(
            request, _("Stage changed to %(stage)s.") % {"stage": customer.get_stage_display()}
        )
    return _back_to(customer, "top")


@require_POST
@write_view
def customer_tags_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace the customer's tags; new tag names are created."""
    customer = _customer(pk)
    form = TagsForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, customer, tags_form=form, status=422)
    customer_set_tags(
        customer=customer,
        tags=form.cleaned_data["tags"],
        by=request.user,  # type: ignore[arg-type]
    )
    messages.success(request, _("Tags saved."))
    return redirect("customers:detail", pk=customer.pk)
