from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig


def _owners_changed(changes: Sequence[Any]) -> None:
    from tend.today.actions import today_owners_refresh

    today_owners_refresh(customer_ids={change.customer_id for change in changes})


class TodayConfig(AppConfig):
    name = "tend.today"
    label = "today"
    verbose_name = "Today"

    def ready(self) -> None:
        from tend.today import privacy

        privacy.register()
        from tend.changes.consumers import Consumer, consumers

        # An owner changed: "My customers" on Today follows within one change-react run.
        consumers.register(
            Consumer(
                name="today-owner",
                kinds=("owner",),
                handle=_owners_changed,
            )
        )
