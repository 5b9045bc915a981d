"""The exchange rates page: every stored rate, and a form to set one (owners and members)."""

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

from tend.billing.actions import exchange_rate_delete, exchange_rate_set
from tend.billing.currency import RateBook, reporting_currency
from tend.billing.forms import ExchangeRateForm
from tend.billing.models import ExchangeRate, Subscription
from tend.lib.access import can_write, write_view


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
