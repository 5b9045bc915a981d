"""Reading the Today list: the same ranked rows for the page, the REST API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tend.today.models import TodayItem, TodayItemQuerySet
from tend.today.signals import signals


@dataclass(frozen=True)
class TodayFilters:
    """``mine``: only customers the user owns; ``signal``: only items with that reason."""

    mine: bool = False
    signal: str = ""

    def check(self) -> None:
        if self.signal and self.signal not in signals:
            # A well-formed name of nothing registered: "unknown", like an unknown plan id.
            raise ValidationError(
                {
                    "signal": ValidationError(
                        _("Unknown signal “%(name)s”; signals: %(names)s."),
                        code="unknown",
                        params={"name": self.signal, "names": ", ".join(sorted(signals.names()))},
                    )
                }
            )


def today_items(
    *, on: date, user: Any = None, filters: TodayFilters | None = None
) -> TodayItemQuerySet:
    """Items showing on ``on``, ranked by money at stake, with each customer (and its health
    and owner) joined in the same query: a page of them is one query, their count another.
    ``mine`` reads the owner copied on the item (kept current by the "today-owner" change
    consumer), so no filter joins the customers."""
    filters = filters or TodayFilters()
    filters.check()
    qs = TodayItem.objects.showing(on=on).ranked()
    if filters.mine:
        qs = qs.filter(owner_id=getattr(user, "pk", None))
    if filters.signal:
        qs = qs.filter(signals__contains=f" {filters.signal} ")
    return qs.select_related("customer", "customer__health", "customer__owner")


def reason_text(reason: dict[str, Any]) -> str:
    """One reason in the reader's language, by the signal that found it."""
    name = str(reason.get("signal", ""))
    if name in signals:
        params = reason.get("params")
        return signals.get(name).describe(params if isinstance(params, dict) else {})
    return _("A reason from “%(name)s”, which is no longer installed") % {"name": name}


def reason_lines(item: TodayItem) -> list[str]:
    return [reason_text(reason) for reason in item.reasons]


def signal_choices() -> list[tuple[str, str]]:
    """(name, label) of every registered signal, in their order (for the filter)."""
    return [(s.name, str(s.label)) for s in sorted(signals, key=lambda s: (s.order, s.name))]
