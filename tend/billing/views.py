"""The plans page (every plan, with the customers and subscriptions on it; owners and members
create, edit, archive and restore) and the exchange rates page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tend.billing.actions import (
    PLAN_FIELDS,
    exchange_rate_delete,
    exchange_rate_set,
    plan_archive,
    plan_create,
    plan_restore,
    plan_update,
)
from tend.billing.currency import RateBook, reporting_currency
from tend.billing.forms import ExchangeRateForm, PlanForm
from tend.billing.models import MRR_STATUSES, ExchangeRate, Plan, Subscription
from tend.lib.access import can_write, require_write, write_view


def _rows(rates: list[ExchangeRate]) -> list[dict[str, Any]]:
    rows = []
    for i, rate in enumerate(rates):
        later = rates[i - 1] if i > 0 and rates[i - 1].currency == rate.currency else None
        rows.append(
            {"rate": rate, "until": later.valid_from - timedelta(days=1) if later else None}
        )
    return rows


def _in_use(book: RateBook) -> list[dict[str, Any]]:
    """Currencies of subscriptions counting MRR now, other than the reporting one."""
    today = datetime.now(UTC).date()
    used = (
        Subscription.objects.counting_mrr()
        .exclude(currency=reporting_currency())
        .values("currency")
        .annotate(n=Count("pk"))
        .order_by("currency")
    )
    return [
        {
            "currency": row["currency"],
            "count": row["n"],
            "covered": book.covers(row["currency"], today),
        }
        for row in used
    ]


@require_http_methods(["GET", "POST"])
@write_view
def rate_list(request: HttpRequest) -> HttpResponse:
    """The rates, newest first per currency; owners and members set one with the form."""
    status = 200
    if request.method == "POST":
        form = ExchangeRateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                rate = exchange_rate_set(
                    currency=data["currency"],
                    rate=data["rate"],
                    valid_from=data["valid_from"],
                    by=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                form.add_action_errors(exc)
            else:
                messages.success(
                    request,
                    _("1 %(currency)s = %(rate)s %(reporting)s from %(day)s.")
                    % {
                        "currency": rate.currency,
                        "rate": rate.rate_text,
                        "reporting": reporting_currency(),
                        "day": rate.valid_from.isoformat(),
                    },
                )
                return redirect("billing:rates")
        status = 422
    else:
        form = ExchangeRateForm(initial={"valid_from": datetime.now(UTC).date()})
    rates = list(
        ExchangeRate.objects.select_related("created_by").order_by("currency", "-valid_from")
    )
    book = RateBook((r.currency, r.valid_from, r.rate) for r in rates)
    return render(
        request,
        "billing/rates.html",
        {
            "form": form,
            "rows": _rows(rates),
            "in_use": _in_use(book),
            "reporting": reporting_currency(),
            "can_write": can_write(request.user),
        },
        status=status,
    )


@require_POST
@write_view
def rate_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one rate; MRR already recorded keeps its value."""
    rate = get_object_or_404(ExchangeRate, pk=pk)
    exchange_rate_delete(rate=rate, by=request.user)  # type: ignore[arg-type]
    messages.success(
        request,
        _("Deleted the %(currency)s rate from %(day)s.")
        % {"currency": rate.currency, "day": rate.valid_from.isoformat()},
    )
    return redirect("billing:rates")


# --- plans ----------------------------------------------------------------------------------


def _plan_rows() -> list[dict[str, Any]]:
    """Every plan, offered ones first, with its counts: four queries whatever the numbers.

    Customers: distinct customers with a live subscription (active or past due) on the plan.
    Subscriptions: live ones, and all ever made on the plan.
    """
    subs = Subscription.objects.filter(plan__isnull=False).order_by().values_list("plan")
    live_subs = subs.filter(status__in=MRR_STATUSES)
    customers = dict(live_subs.annotate(n=Count("customer", distinct=True)))
    every = dict(subs.annotate(n=Count("pk")))
    live = dict(live_subs.annotate(n=Count("pk")))
    return [
        {
            "plan": plan,
            "customers": customers.get(plan.pk, 0),
            "subscriptions": every.get(plan.pk, 0),
            "live": live.get(plan.pk, 0),
        }
        for plan in Plan.objects.order_by("-is_active", "price", "name", "pk")
    ]


def _plans_page(
    request: HttpRequest, form: PlanForm | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "billing/plans.html",
        {
            "rows": _plan_rows(),
            "form": form
            or PlanForm(initial={"currency": reporting_currency(), "interval": "month"}),
            "reporting": reporting_currency(),
            "can_write": can_write(request.user),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@write_view
def plan_list(request: HttpRequest) -> HttpResponse:
    """Every plan; owners and members add one with the form."""
    if request.method != "POST":
        return _plans_page(request)
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            plan = plan_create(**form.cleaned_data, by=require_write(request.user))
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            messages.success(request, _("Added the plan “%(name)s”.") % {"name": plan.name})
            return redirect("billing:plans")
    return _plans_page(request, form, status=422)


@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a plan; subscriptions already on it keep their own price and MRR."""
    me = require_write(request.user)
    plan = get_object_or_404(Plan, pk=pk)
    status = 200
    if request.method == "POST":
        form = PlanForm(request.POST)
        if form.is_valid():
            try:
                plan = plan_update(plan=plan, by=me, **form.cleaned_data)
            except ValidationError as exc:
                form.add_action_errors(exc)
            else:
                messages.success(request, _("Saved the plan “%(name)s”.") % {"name": plan.name})
                return redirect("billing:plans")
        status = 422
    else:
        form = PlanForm(initial={f: getattr(plan, f) for f in PLAN_FIELDS})
    return render(request, "billing/plan_edit.html", {"plan": plan, "form": form}, status=status)


@require_POST
@write_view
def plan_archive_view(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_archive(plan=get_object_or_404(Plan, pk=pk), by=request.user)  # type: ignore[arg-type]
    messages.success(
        request,
        _(
            "“%(name)s” is archived: it is no longer offered for new customers and "
            "subscriptions. Those already on it keep it."
        )
        % {"name": plan.name},
    )
    return redirect("billing:plans")


@require_POST
@write_view
def plan_restore_view(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_restore(plan=get_object_or_404(Plan, pk=pk), by=request.user)  # type: ignore[arg-type]
    messages.success(request, _("“%(name)s” is offered again.") % {"name": plan.name})
    return redirect("billing:plans")
