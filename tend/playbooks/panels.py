"""The customer page's playbooks panel: this customer's runs (playbook, status, where they are)
and "Start a playbook" with the switched-on manual playbooks."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tend.lib.access import can_write
from tend.playbooks.models import Playbook, PlaybookStatus, RunStatus
from tend.playbooks.registry import triggers
from tend.playbooks.ui_queries import runs_of, step_at, step_text
from tend.web.panels import Panel, panels

PANEL_RUNS = 10


def _context(request: HttpRequest, customer: Any) -> dict[str, Any] | None:
    runs = list(runs_of(customer=customer)[: PANEL_RUNS + 1])
    manual_names = [t.name for t in triggers if t.manual]
    startable = (
        list(
            Playbook.objects.filter(status=PlaybookStatus.ACTIVE, trigger__in=manual_names)
            .order_by("name")
            .values_list("pk", "name")
        )
        if can_write(request.user)
        else []
    )
    if not runs and not startable:
        return None
    rows = []
    for run in runs[:PANEL_RUNS]:
        current = ""
        if run.status in (RunStatus.ACTIVE, RunStatus.PAUSED, RunStatus.FAILED):
            step = step_at(run.playbook.steps, run.position)
            current = step_text(step) if step else ""
        rows.append({"run": run, "current": current})
    return {"runs": rows, "more": len(runs) > PANEL_RUNS, "startable": startable}


runs_panel = Panel(
    name="playbook_runs",
    template="playbooks/_panel.html",
    context=_context,
    order=40,
    column="side",
)


def register_ui() -> None:
    """Called from PlaybooksConfig.ready()."""
    if "playbook_runs" not in panels:
        panels.register(runs_panel)
