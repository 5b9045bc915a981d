"""The Today page: who needs the founder today and why, with one-click actions.

The page reads only ``TodayItem`` rows (the first 50 by rank, joined with their customer, and
their count): a fixed number of queries at any number of customers. Actions work with htmx
(the item's row is swapped in place) and without JavaScript (a plain POST, then back to the
list with a message). Viewers see the list without actions; their POSTs are refused (403).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tend.jobs.models import PipelineStepRun
from tend.lib.access import can_write, write_view
from tend.lib.money import format_money
from tend.today.actions import (
    SNOOZE_CHOICES,
    today_add_note,
    today_date,
    today_handle,
    today_snooze,
)
from tend.today.models import TodayItem, ValueBasis
from tend.today.queries import TodayFilters, reason_text, signal_choices, today_items
from tend.today.sections import sections_render

PAGE_SIZE = 50
PAGE_FIELDS = [
    "day", "current", "reasons", "value_basis", "monthly_value", "risk", "money_at_stake",
    "rank", "state", "snoozed_until", "customer__name",
    "customer__health__score", "customer__health__colour",
]  # fmt: skip


def ui_text() -> dict[str, Any]:
    """The words every row repeats, translated once per page rather than once per row (a
    page of 50 rows renders in a third of the time)."""
    return {
        "handled": _("Mark handled"),
        "snooze": _("Snooze"),
        "snooze_for": _("Snooze for"),
        "note": _("Add a note"),
        "save_note": _("Save note"),
        "placeholder": _("What happened, what is next…"),
        "at_stake": _("at stake"),
        "snooze_buttons": [
            (
                days,
                ngettext("%(n)d d", "%(n)d d", days) % {"n": days},
                ngettext("Snooze for %(n)d day", "Snooze for %(n)d days", days) % {"n": days},
            )
            for days in SNOOZE_CHOICES
        ],
    }


def _formula(item: TodayItem) -> str:
    """This row's own numbers: "MRR $2,607.00 × 25% risk"."""
    values = {"value": format_money(item.monthly_value), "risk": round(item.risk * 100)}
    if item.value_basis == ValueBasis.ORDERS:
        return _("Orders %(value)s a month × %(risk)d%% risk") % values
    if item.value_basis == ValueBasis.NONE:
        return _("No revenue yet × %(risk)d%% risk") % values
    return _("MRR %(value)s × %(risk)d%% risk") % values


def _prefix(name: str, *args: int) -> str:
    return reverse(name, args=args)


def item_row(item: TodayItem, *, first: str = "") -> dict[str, Any]:
    """What the page shows of one item: its reasons as lines in the reader's language; the
    reason of signal ``first`` (the one the list is filtered by) leads."""
    reasons = (
        sorted(item.reasons, key=lambda r: r.get("signal") != first) if first else item.reasons
    )
    lines = [reason_text(reason) for reason in reasons]
    try:
        health = item.customer.health
    except ObjectDoesNotExist:  # not scored yet
        health = None
    base = f"{_prefix('today:list')}{item.pk}/"
    return {
        "item": item,
        "customer": item.customer,
        "customer_url": _prefix("customers:detail", 0).replace("/0/", f"/{item.customer_id}/"),
        "reason": lines[0] if lines else "",
        "more": lines[1:],
        "health": health,
        "health_title": _("Health score %(score)s of 100")
        % {"score": health.score if health and health.score is not None else "—"},
        "money": format_money(item.money_at_stake),
        "formula": _formula(item),
        "urls": {"snooze": f"{base}snooze/", "handled": f"{base}handled/", "note": f"{base}note/"},
    }


def _filters(request: HttpRequest) -> tuple[TodayFilters, str]:
    """The filters asked for; an unknown signal is ignored with a message naming the field."""
    mine = request.GET.get("owner", "") == "mine"
    signal = request.GET.get("signal", "")
    filters = TodayFilters(mine=mine, signal=signal)
    try:
        filters.check()
    except ValidationError:
        return TodayFilters(mine=mine), _("Signal: “%(name)s” is not a signal; showing all.") % {
            "name": signal[:60]
        }
    return filters, ""


@require_GET
def today_list(request: HttpRequest) -> HttpResponse:
    """The ranked list, highest money at stake first (top 50 and how many in all)."""
    filters, problem = _filters(request)
    on = today_date()
    qs = today_items(on=on, user=request.user, filters=filters)
    # Only what a row shows: the page reads 50 rows of three tables, not their every column.
    page = qs.select_related(None).select_related("customer", "customer__health")
    items = list(page.only(*PAGE_FIELDS)[:PAGE_SIZE])
    count = len(items) if len(items) < PAGE_SIZE else qs.count()
    last_run = None
    if not items:
        last_run = PipelineStepRun.objects.filter(step="today").order_by("-started_at").first()
    return render(
        request,
        "today/list.html",
        {
            "rows": [item_row(item, first=filters.signal) for item in items],
            "count": count,
            "page_size": PAGE_SIZE,
            "filters": filters,
            "filtered": filters.mine or bool(filters.signal),
            "problem": problem,
            "signal_choices": signal_choices(),
            "ui": ui_text(),
            "can_write": can_write(request.user),
            "computed_on": items[0].day if items else None,
            "last_run": last_run,
            "query": request.GET.urlencode(),
            "sections": sections_render(request),
        },
    )


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the list with the filters the form came from (never to another site)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("today:list")


def _answer(
    request: HttpRequest, item: TodayItem, *, done: str, error: str = "", keep: bool = False
) -> HttpResponse:
    """htmx: the item's row (``keep``: still on the list) or a one-line "done" row; status 422
    with the error in the row when the input was refused. Without htmx: back with a message."""
    if request.htmx:  # type: ignore[attr-defined]
        if keep:
            item = TodayItem.objects.select_related("customer", "customer__health").get(pk=item.pk)
        return render(
            request,
            "today/_item.html",
            {
                "row": item_row(item),
                "done": "" if keep else done,
                "notice": done if keep else "",
                "error": error,
                "can_write": can_write(request.user),
                "ui": ui_text(),
                "next": request.POST.get("next", ""),
            },
            status=422 if error else 200,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return _back(request)


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        labels = {"days": _("Days"), "body": _("Note"), "item": _("Item")}
        return " ".join(
            f"{labels.get(field, field)}: {' '.join(texts)}"
            for field, texts in exc.message_dict.items()
        )
    return " ".join(exc.messages)


def _item(pk: int) -> TodayItem:
    return get_object_or_404(TodayItem.objects.select_related("customer"), pk=pk)


@require_POST
@write_view
def today_snooze_view(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(pk)
    raw = request.POST.get("days", "")
    try:
        days = int(raw) if raw.strip().isdigit() and len(raw) < 6 else None
        if days is None:
            raise ValidationError({"days": _("Give a whole number of days.")}, code="invalid")
        item = today_snooze(item=item, days=days, by=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        return _answer(request, item, done="", error=_error_text(exc), keep=True)
    done = _("%(customer)s snoozed until %(day)s.") % {
        "customer": item.customer.name,
        "day": date_format(item.snoozed_until) if item.snoozed_until else "",
    }
    return _answer(request, item, done=done)


@require_POST
@write_view
def today_handled_view(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(pk)
    try:
        item = today_handle(item=item, by=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        return _answer(request, item, done="", error=_error_text(exc), keep=True)
    done = _("%(customer)s marked handled. It comes back only if a new reason appears.") % {
        "customer": item.customer.name
    }
    return _answer(request, item, done=done)


@require_POST
@write_view
def today_note_view(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(pk)
    try:
        today_add_note(item=item, body=request.POST.get("body", ""), by=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        return _answer(request, item, done="", error=_error_text(exc), keep=True)
    done = _("Note added to %(customer)s’s timeline.") % {"customer": item.customer.name}
    if not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, done)
        return _back(request)
    return _answer(request, item, done=done, keep=True)
