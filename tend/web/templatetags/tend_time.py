"""Relative times that read one way in every list: "3 days ago", "3 天前"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter, naturaltime
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(value: Any) -> Any:
    """humanize's ``naturaltime`` with one unit: "4 days ago", not "4 days, 14 hours ago".

    A column of "1 month ago / 4 days, 14 hours ago / 2 hours ago" reads unevenly; the exact
    time is in the cell's title. The words are humanize's, overridden for zh_Hans in Tend's
    catalog (tend/web/humanize_msgids.py).
    """
    if not isinstance(value, datetime):
        return naturaltime(value)
    now = timezone.now()
    if value >= now or (now - value).days == 0:
        return naturaltime(value)
    delta = timesince(value, now, time_strings=NaturalTimeFormatter.past_substrings, depth=1)
    return NaturalTimeFormatter.time_strings["past-day"] % {"delta": delta}
