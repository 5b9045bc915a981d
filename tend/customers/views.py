"""Customer pages: the list and one customer. Parse → authorize → act → render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Prefetch, Value
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from tend.accounts.models import User
from tend.billing.models import Plan, Subscription
from tend.customers import queries
from tend.customers.actions import (
    BULK_LIMIT,
    contact_create,
    contact_delete,
    contact_update,
    customer_add_note,
    customer_change_stage,
    customer_create,
    customer_delete,
    customer_set_tags,
    customer_update,
)
from tend.customers.consent import consent_set, email_states
from tend.customers.countries import country_name
from tend.customers.forms import (
    TRAIT_TYPES,
    BulkForm,
    ContactForm,
    CustomerFilterForm,
    CustomerForm,
    DeleteCustomerForm,
    NoteForm,
    PickerSearchForm,
    StageForm,
    TagsForm,
)
from tend.customers.list_display import list_rows
from tend.customers.models import Contact, Customer, Stage, Tag, TimelineEntry
from tend.customers.timeline import describe, detail, stage_reason
from tend.lib.access import can_write, require_write, write_view
from tend.segments.conditions import (
    Condition,
    ConditionError,
    condition_describe,
    condition_parse,
)
from tend.segments.models import Segment
from tend.web.panels import panels_render


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


@dataclass(frozen=True)
class ListChoices:
    """What the list's filter bar offers: plans, active owners, tags and saved segments."""

    plans: list[tuple[int, str]]
    owners: list[tuple[int, str]]
    tags: list[str]
    segments: list[tuple[int, str]]

    def form(self, params: Any) -> CustomerFilterForm:
        return CustomerFilterForm(
            params, plans=self.plans, owners=self.owners, tags=self.tags, segments=self.segments
        )


def list_choices() -> ListChoices:
    """The filter bar's choices in three small queries: plans, owners, and tags with saved
    segments read together (one UNION, so offering segments costs the list no query)."""
    plans = list(Plan.objects.order_by("name").values_list("id", "name"))
    owners = [
        (pk, f"{first} {last}".strip() or username)
        for pk, first, last, username in User.objects.filter(is_active=True)
        .order_by("username")
        .values_list("id", "first_name", "last_name", "username")
    ]
    # Same columns, all annotated, so both halves of the UNION line up on every database.
    tag_rows = (
        Tag.objects.order_by()
        .annotate(kind=Value(0), ref=Value(0), label=F("name"))
        .values_list("kind", "ref", "label")
    )
    segment_rows = (
        Segment.objects.order_by()
        .annotate(kind=Value(1), ref=F("id"), label=F("name"))
        .values_list("kind", "ref", "label")
    )
    rows = tag_rows.union(segment_rows, all=True).order_by("kind", "label")
    tags = [label for kind, _ref, label in rows if kind == 0]
    segments = [(ref, label) for kind, ref, label in rows if kind == 1]
    return ListChoices(plans, owners, tags, segments)


def list_context(
    request: HttpRequest, params: Any, *, bulk_form: BulkForm | None = None
) -> dict[str, Any]:
    """Everything the customers list renders for the filters in ``params`` (a QueryDict)."""
    choices = list_choices()
    form = choices.form(params)
    filters = form.filters()
    filter_error = segment_rule = ""
    try:
        condition = filters.condition()
        parsed = condition_parse(condition) if condition is not None else None
        rows = queries.customer_list(filters, parsed)
    except ConditionError as exc:
        # The chosen segment's condition no longer works (it names a deleted segment): say
        # so and list nobody, rather than every customer as if no segment were chosen.
        rows = Customer.objects.none()
        filter_error = _("This segment cannot be used as a filter: %(error)s") % {
            "error": exc.message
        }
    else:
        segment_rule = _segment_rule(parsed)
    paginator = queries.DeferredJoinPaginator(
        rows, settings.TEND_PAGE_SIZE, one_pass=bool(filters.q.strip())
    )
    page = paginator.get_page(params.get("page"))
    customers = list(page.object_list)
    sort_key = f"-{filters.sort}" if filters.descending else filters.sort
    query = params.copy()
    query.pop("page", None)
    return {
        "form": form,
        # The segment select shows once a segment is saved (docs/segments-filters.md).
        "select_fields": [
            form[name]
            for name in ("stage", "plan", "owner", "tag", "segment")
            if name != "segment" or choices.segments
        ],
        "filters": filters,
        "filter_error": filter_error,
        "segment_rule": segment_rule,
        "segment_name": dict(choices.segments).get(filters.segment or 0, ""),
        "page": page,
        "customers": customers,
        "rows": list_rows(customers, settings.TEND_CURRENCY),
        "sort_key": sort_key,
        "columns": _sort_columns(filters),
        "currency": settings.TEND_CURRENCY,
        "can_write": can_write(request.user),
        "bulk_form": bulk_form or BulkForm(owners=choices.owners),
        "bulk_selected": set(
            (bulk_form.cleaned_data.get("ids") or [])
            if bulk_form is not None and hasattr(bulk_form, "cleaned_data")
            else []
        ),
        "bulk_limit": BULK_LIMIT,
        "list_query": query.urlencode(),
        "page_query": params.urlencode(),
    }


def _segment_rule(parsed: Condition | None) -> str:
    """The chosen segment's condition in words ("MRR is at least 200"), read from the tree
    already parsed for the list (no query of its own); "" without a segment."""
    for node in parsed.children if parsed is not None else ():
        if node.kind == "test" and node.field is not None and node.field.name == "segment":
            return condition_describe(node.segments[0][1])
    return ""


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
    states = email_states(contacts[:CONTACTS_SHOWN])
    for contact in contacts:
        contact.email_state = states.get(contact.pk)  # type: ignore[attr-defined]
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
        "stage_reason": _current_stage_reason(customer),
        "country_name": country_name(customer.country),
        "note_form": note_form or NoteForm(),
        "stage_form": stage_form or StageForm(initial={"stage": customer.stage}),
        "tags_form": tags_form or TagsForm(initial={"tags": ", ".join(tag_names)}),
        "stages": Stage.choices,
        "currency": settings.TEND_CURRENCY,
        # Panels other apps supply (health, lifecycle…), through the registry in tend.web.
        "main_panels": panels_render(request, customer, column="main"),
        "side_panels": panels_render(request, customer, column="side"),
    }
    return render(request, "customers/detail.html", context, status=status)


def _current_stage_reason(customer: Customer) -> str:
    change = queries.latest_stage_change(customer)
    return stage_reason(change) if change is not None else ""


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


# --- Creating, editing and deleting customers and contacts ---------------------------------


def _writer(request: HttpRequest) -> User:
    """The signed-in member or owner; a viewer gets 403 even for the form pages."""
    return require_write(request.user)


def _apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Put an action's model errors on the form's fields (all of them, not the first)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = {"referred_by_id": "referred_by", "signed_up_at": "signed_up"}.get(
                field, field
            )
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _render_customer_form(
    request: HttpRequest, form: CustomerForm, *, customer: Customer | None, status: int = 200
) -> HttpResponse:
    referrer = (
        form.cleaned_data.get("referred_by")
        if form.is_bound and hasattr(form, "cleaned_data")
        else None
    )
    if referrer is None and not form.is_bound and customer is not None:
        referrer = customer.referred_by
    if referrer is None and form.is_bound and not form.errors.get("referred_by"):
        raw = form.data.get("referred_by")
        if raw and str(raw).isdigit():
            referrer = Customer.objects.filter(pk=int(raw)).only("pk", "name").first()
    context = {
        "form": form,
        "customer": customer,
        "referrer": referrer,
        "trait_rows": form.trait_rows(),
        "kept_traits": form.kept_traits(),
        "trait_types": TRAIT_TYPES,
        "currency": settings.TEND_CURRENCY,
    }
    return render(request, "customers/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def customer_create_view(request: HttpRequest) -> HttpResponse:
    """A new customer, every field on one page."""
    user = _writer(request)
    if request.method != "POST":
        return _render_customer_form(request, CustomerForm(), customer=None)
    form = CustomerForm(request.POST)
    if form.is_valid():
        fields = form.action_fields()
        try:
            customer = customer_create(by=user, tags=form.cleaned_data["tags"], **fields)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            return redirect("customers:detail", pk=customer.pk)
    return _render_customer_form(request, form, customer=None, status=422)


@require_http_methods(["GET", "POST"])
def customer_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Change any field of a customer; nothing is saved unless every field is valid."""
    user = _writer(request)
    customer = _customer(pk)
    if request.method != "POST":
        return _render_customer_form(request, CustomerForm(instance=customer), customer=customer)
    form = CustomerForm(request.POST, instance=customer)
    if form.is_valid():
        try:
            with transaction.atomic():
                customer_update(
                    customer=customer,
                    by=user,
                    tags=form.cleaned_data["tags"],
                    **form.action_fields(),
                )
        except ValidationError as error:
            customer = _customer(pk)  # the failed update changed the instance in memory
            form.instance = customer
            _apply_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("customers:detail", pk=customer.pk)
    return _render_customer_form(request, form, customer=customer, status=422)


@require_http_methods(["GET", "POST"])
def customer_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Say exactly what deleting the customer erases; delete once its name is typed."""
    user = _writer(request)
    customer = _customer(pk)
    form = DeleteCustomerForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        name = customer.name
        customer_delete(customer=customer, by=user)
        messages.success(
            request, _("Customer %(name)s and everything attached to it deleted.") % {"name": name}
        )
        return redirect("customers:list")
    context = {
        "customer": customer,
        "form": form,
        "erased": queries.erasure_counts(customer),
        "referrals": queries.referral_count(customer),
    }
    return render(request, "customers/delete.html", context, status=422 if form.is_bound else 200)


@require_GET
def customer_search(request: HttpRequest) -> HttpResponse:
    """Customers matching ``q`` as choices for the "referred by" picker (htmx fragment)."""
    form = PickerSearchForm(request.GET)
    results: list[Customer] = []
    if form.is_valid() and form.cleaned_data["q"]:
        results = queries.search_for_picker(
            form.cleaned_data["q"], exclude=form.cleaned_data.get("exclude")
        )
    return render(
        request,
        "customers/_picker_results.html",
        {"results": results, "searched": form.is_valid() and bool(form.cleaned_data["q"])},
    )


def _contact(customer: Customer, contact_pk: int) -> Contact:
    return get_object_or_404(Contact, pk=contact_pk, customer=customer)


def _contact_form_page(
    request: HttpRequest,
    customer: Customer,
    form: ContactForm,
    *,
    contact: Contact | None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "customers/contact_form.html",
        {"customer": customer, "contact": contact, "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def contact_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a person to the customer."""
    user = _writer(request)
    customer = _customer(pk)
    if request.method != "POST":
        return _contact_form_page(request, customer, ContactForm(), contact=None)
    form = ContactForm(request.POST)
    if form.is_valid():
        fields = dict(form.cleaned_data)
        consent = fields.pop("marketing_consent", "")
        try:
            with transaction.atomic():
                contact = contact_create(customer=customer, by=user, **fields)
                if consent:
                    consent_set(contact=contact, state=consent, source="form", by=user)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Contact added."))
            return _back_to(customer, "contacts")
    return _contact_form_page(request, customer, form, contact=None, status=422)


@require_http_methods(["GET", "POST"])
def contact_edit_view(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    """Change a contact's name, title, email, phone or whether it is the primary one."""
    user = _writer(request)
    customer = _customer(pk)
    contact = _contact(customer, contact_pk)
    if request.method != "POST":
        initial = {
            f: getattr(contact, f)
            for f in ("name", "title", "email", "phone", "is_primary", "marketing_consent")
        }
        return _contact_form_page(request, customer, ContactForm(initial=initial), contact=contact)
    form = ContactForm(request.POST)
    if form.is_valid():
        fields = dict(form.cleaned_data)
        if not fields["is_primary"]:
            fields.pop("is_primary")  # unticking does not leave the customer without a primary
        consent = fields.pop("marketing_consent", "")
        try:
            with transaction.atomic():
                contact_update(contact=contact, by=user, **fields)
                if consent:
                    consent_set(contact=contact, state=consent, source="form", by=user)
        except ValidationError as error:
            contact = _contact(customer, contact_pk)
            _apply_errors(form, error)
        else:
            messages.success(request, _("Contact saved."))
            return _back_to(customer, "contacts")
    return _contact_form_page(request, customer, form, contact=contact, status=422)


@require_http_methods(["GET", "POST"])
def contact_delete_view(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    """Ask, then remove a contact; its events stay with the customer."""
    user = _writer(request)
    customer = _customer(pk)
    contact = _contact(customer, contact_pk)
    if request.method == "POST":
        name = contact.name
        contact_delete(contact=contact, by=user)
        messages.success(request, _("Contact %(name)s removed.") % {"name": name})
        return _back_to(customer, "contacts")
    return render(
        request, "customers/contact_delete.html", {"customer": customer, "contact": contact}
    )


@require_POST
def contact_primary_view(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    """Make this contact the customer's primary one (one click)."""
    user = _writer(request)
    customer = _customer(pk)
    contact = _contact(customer, contact_pk)
    contact_update(contact=contact, by=user, is_primary=True)
    messages.success(request, _("%(name)s is now the primary contact.") % {"name": contact.name})
    return _back_to(customer, "contacts")
