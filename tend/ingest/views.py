from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from tend.ingest.queries import data_quality as data_quality_query
from tend.lib.access import require_write
from tend.privacy.retention import retention_overview

PERIODS = (7, 30, 90)


@require_safe
def data_quality(request: HttpRequest) -> HttpResponse:
    """What arrived from each source and what was refused, for owners and members."""
    require_write(request.user)
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    if days not in PERIODS:
        days = 30
    return render(
        request,
        "ingest/data_quality.html",
        {
            "report": data_quality_query(days=days),
            "periods": PERIODS,
            "retention": retention_overview(),
        },
    )
