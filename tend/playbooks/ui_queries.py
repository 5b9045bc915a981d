"""Reads of the playbook pages and REST API: the list with run counts, a playbook's runs and
per-step funnel, the steps in words. Every one a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tend.customers.timeline import playbook_result
from tend.messaging.templating import builtin_templates
from tend.playbooks import actions as engine_actions
from tend.playbooks import steps as engine_steps
from tend.playbooks.models import Playbook, PlaybookRun, RunStatus, RunStep, StepOutcome


def playbooks_with_counts() -> QuerySet[Playbook]:
    """Every playbook with its runs active / finished / failed and its last start: one query."""
    return Playbook.objects.annotate(
        runs_active=Count("runs", filter=Q(runs__status=RunStatus.ACTIVE)),
        runs_paused=Count("runs", filter=Q(runs__status=RunStatus.PAUSED)),
        runs_done=Count("runs", filter=Q(runs__status=RunStatus.DONE)),
        runs_failed=Count("runs", filter=Q(runs__status=RunStatus.FAILED)),
        runs_control=Count("runs", filter=Q(runs__status=RunStatus.CONTROL)),
        last_run_at=Max("runs__started_at"),
    ).order_by("name")


def runs_of(playbook: Playbook | None = None, **filters: Any) -> QuerySet[PlaybookRun]:
    """Runs, newest first, with what their rows show (customer, playbook) in the same query."""
    qs = PlaybookRun.objects.select_related("customer", "playbook")
    if playbook is not None:
        qs = qs.filter(playbook=playbook)
    return qs.filter(**filters).order_by("-started_at", "-pk")


def trigger_text(playbook: Playbook) -> str:
    """The trigger in the reader's language."""
    return str(engine_actions.trigger_describe(playbook))


def step_text(step: dict[str, Any]) -> str:
    """A step in the reader's language."""
    return str(engine_steps.step_describe(step))


@dataclass
class StepRow:
    """One step of the outline: its id, depth (0 top level), the path it sits on and its words."""

    id: str
    type: str
    depth: int
    path: str  # "" for the top level, "then" / "else" inside a branch
    text: str
    reached: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    waiting: int = 0
    done_pct: int = 0  # shares of ``reached``, multiples of 5, for the funnel's bar
    failed_pct: int = 0
    skipped_pct: int = 0
    waiting_pct: int = 0


def steps_outline(steps: Any, depth: int = 0, path: str = "") -> list[StepRow]:
    """The steps in order, branches' then/else lists right after their branch."""
    rows: list[StepRow] = []
    if not isinstance(steps, list):
        return rows
    for step in steps:
        if not isinstance(step, dict):
            continue
        rows.append(
            StepRow(
                id=str(step.get("id", "")),
                type=str(step.get("type", "")),
                depth=depth,
                path=path,
                text=step_text(step),
            )
        )
        if step.get("type") == "branch" and depth < 10:
            rows.extend(steps_outline(step.get("then"), depth + 1, "then"))
            rows.extend(steps_outline(step.get("else"), depth + 1, "else"))
    return rows


def step_funnel(playbook: Playbook) -> list[StepRow]:
    """The outline with, per step, how many runs reached it, finished it, failed on it or
    skipped it (one query)."""
    rows = steps_outline(playbook.steps)
    counts = (
        RunStep.objects.filter(run__playbook=playbook)
        .values("step_id")
        .annotate(
            reached=Count("run_id", distinct=True),
            done=Count("run_id", distinct=True, filter=Q(outcome=StepOutcome.DONE)),
            failed=Count("run_id", distinct=True, filter=Q(outcome=StepOutcome.FAILED)),
            skipped=Count("run_id", distinct=True, filter=Q(outcome=StepOutcome.SKIPPED)),
            waiting=Count("run_id", distinct=True, filter=Q(outcome=StepOutcome.WAITING)),
        )
    )
    by_id = {c["step_id"]: c for c in counts}
    for row in rows:
        c = by_id.get(row.id)
        if c:
            row.reached, row.done, row.failed, row.skipped = (
                c["reached"],
                c["done"],
                c["failed"],
                c["skipped"],
            )
            # A wait that has not ended yet: reached, neither done nor failed.
            row.waiting = max(0, c["waiting"] - row.done - row.failed)
    return rows


def step_at(steps: Any, position: list[str] | None) -> dict[str, Any] | None:
    """The step a run's ``position`` points at, or None (the tree no longer has it)."""
    if not isinstance(steps, list) or not isinstance(position, list):
        return None
    return engine_steps.step_at(steps, [str(p) for p in position])


def outcome_text(entry: RunStep) -> str:
    """What a step did for a run, in the reader's language (the error is shown apart)."""
    if not isinstance(entry.detail, dict) or not entry.detail.get("msg"):
        return ""
    return playbook_result(entry.detail)


@dataclass
class GalleryCard:
    """A built-in playbook as the gallery shows it."""

    key: str
    name: str
    description: str
    trigger: str
    trigger_text: str
    steps_text: list[str]
    installed_id: int | None


def gallery_cards() -> list[GalleryCard]:
    """The built-in playbooks with their trigger and steps in words (an email by the name of
    the built-in template it will install, in the reader's language)."""
    installed = dict(Playbook.objects.exclude(key="").values_list("key", "pk"))
    zh = (get_language() or "").startswith("zh")
    template_names = {
        t["key"]: str(t.get("name_zh_hans") if zh and t.get("name_zh_hans") else t["name"])
        for t in builtin_templates()
    }
    cards = []
    for entry in engine_actions.playbook_gallery():
        sketch = Playbook(trigger=entry.trigger, trigger_config=dict(entry.trigger_config or {}))
        lines = []
        for step in engine_steps.iter_steps(list(entry.steps or [])):
            key = (step.get("config") or {}).get("template_key")
            if step.get("type") == "email" and key:
                name = template_names.get(key, key)
                lines.append(_("Send email “%(template)s”") % {"template": name})
            else:
                lines.append(step_text(step))
        cards.append(
            GalleryCard(
                key=entry.key,
                name=str(entry.name),
                description=str(entry.description),
                trigger=entry.trigger,
                trigger_text=trigger_text(sketch),
                steps_text=lines,
                installed_id=installed.get(entry.key),
            )
        )
    return cards
