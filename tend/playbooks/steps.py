"""A playbook's steps: validation, positions and navigation.

``Playbook.steps`` is a JSON list; each step is::

    {"id": "s1", "type": "<action name>", "config": {…}}
    {"id": "w1", "type": "wait", "config": {"days": 3}}
    {"id": "w2", "type": "wait_until", "config": {"weekday": 0, "hour": 9}}   # Monday 09:00
    {"id": "b1", "type": "branch", "config": {"condition": <condition>},
     "then": [steps…], "else": [steps…]}

Step ids are unique in the whole tree (branches included): a run's ``position`` is the path to
its next step, step ids alternating with the arm taken (``["b1", "then", "s4"]``), and the key
of anything a step creates is made from the run and the step id. ``steps_clean`` validates a
tree and returns it normalised, or raises ``StepsInvalid`` with every error as (field path,
message) — ``steps[2].config.template``, ``steps[1].then[0].type``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tend.playbooks.registry import ConfigError, actions
from tend.segments.conditions import ConditionError, condition_describe, condition_parse

# The step types the engine itself runs (everything else is an action in the registry).
WAIT = "wait"
WAIT_UNTIL = "wait_until"
BRANCH = "branch"
ENGINE_TYPES = (WAIT, WAIT_UNTIL, BRANCH)
ARMS = ("then", "else")

ID_RE = re.compile(r"[A-Za-z0-9_-]{1,20}\Z")
MAX_STEPS = 100  # in the whole tree
MAX_DEPTH = 5  # branches inside branches
MAX_WAIT_DAYS = 730

Errors = list[tuple[str, str]]


class StepsInvalid(ValueError):
    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


def _int(raw: Any, low: int, high: int) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit() and len(raw.strip()) < 10:
        raw = int(raw.strip())
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if not isinstance(raw, int) or not low <= raw <= high:
        return None
    return raw


def wait_clean(config: dict[str, Any]) -> dict[str, Any]:
    days = _int(config.get("days"), 0, MAX_WAIT_DAYS)
    if days is None:
        raise ConfigError(
            _("Give a number of days from 0 to %(max)s.") % {"max": MAX_WAIT_DAYS}, field="days"
        )
    hours = _int(config.get("hours", 0), 0, 23)
    if hours is None:
        raise ConfigError(_("Give a number of hours from 0 to 23."), field="hours")
    out: dict[str, Any] = {"days": days}
    if hours:
        out["hours"] = hours
    return out


def wait_until_clean(config: dict[str, Any]) -> dict[str, Any]:
    weekday = _int(config.get("weekday"), 0, 6)
    if weekday is None:
        raise ConfigError(_("Give a weekday from 0 (Monday) to 6 (Sunday)."), field="weekday")
    hour = _int(config.get("hour"), 0, 23)
    if hour is None:
        raise ConfigError(_("Give an hour from 0 to 23."), field="hour")
    return {"weekday": weekday, "hour": hour}


def branch_clean(config: dict[str, Any]) -> dict[str, Any]:
    try:
        condition = condition_parse(config.get("condition"))
    except ConditionError as exc:
        raise ConfigError(exc.text(), field="condition") from None
    return {"condition": condition.as_json()}


def weekday_name(day: int) -> str:
    names = [
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    ]
    return names[day] if 0 <= day < 7 else str(day)


def _engine_clean(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    if kind == WAIT:
        return wait_clean(config)
    if kind == WAIT_UNTIL:
        return wait_until_clean(config)
    return branch_clean(config)


def steps_clean(raw: Any) -> list[dict[str, Any]]:
    """The steps, validated and normalised; raises ``StepsInvalid`` with every error."""
    errors: Errors = []
    seen: set[str] = set()
    count = [0]
    out = _clean_list(raw, "steps", errors, seen, count, 0)
    if count[0] > MAX_STEPS:
        errors.append(("steps", _("A playbook has at most %(max)s steps.") % {"max": MAX_STEPS}))
    if errors:
        raise StepsInvalid(errors)
    return out


def _clean_list(
    raw: Any, path: str, errors: Errors, seen: set[str], count: list[int], depth: int
) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.append((path, _("Steps must be a list.")))
        return []
    out = []
    for i, step in enumerate(raw[: MAX_STEPS + 1]):
        count[0] += 1
        cleaned = _clean_step(step, f"{path}[{i}]", errors, seen, count, depth)
        if cleaned is not None:
            out.append(cleaned)
    return out


def _clean_step(
    raw: Any, path: str, errors: Errors, seen: set[str], count: list[int], depth: int
) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        errors.append((path, _("A step must be an object with an id, a type and a config.")))
        return None
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not ID_RE.match(step_id):
        errors.append(
            (
                f"{path}.id",
                _("A step id is 1 to 20 letters, digits, “-” or “_”."),
            )
        )
        step_id = None
    elif step_id in seen:
        errors.append((f"{path}.id", _("The step id “%(id)s” is used twice.") % {"id": step_id}))
    else:
        seen.add(step_id)
    kind = raw.get("type")
    config = raw.get("config", {})
    if config is None:
        config = {}
    if not isinstance(config, dict):
        errors.append((f"{path}.config", _("A step's config must be an object.")))
        config = {}
    if not isinstance(kind, str) or (kind not in ENGINE_TYPES and kind not in actions):
        shown = str(kind)[:40] if kind is not None else ""
        errors.append(
            (
                f"{path}.type",
                _("“%(type)s” is not a step type; types: %(types)s.")
                % {"type": shown, "types": ", ".join([*ENGINE_TYPES, *actions.names()])},
            )
        )
        return None
    try:
        if kind in ENGINE_TYPES:
            cleaned = _engine_clean(kind, config)
        else:
            cleaned = actions.get(kind).clean(config)
    except ConfigError as exc:
        field = f"{path}.config.{exc.field}" if exc.field else f"{path}.config"
        errors.append((field, exc.message))
        cleaned = {}
    step: dict[str, Any] = {"id": step_id or "", "type": kind, "config": cleaned}
    if kind == BRANCH:
        if depth >= MAX_DEPTH:
            errors.append((path, _("Branches nest at most %(max)s deep.") % {"max": MAX_DEPTH}))
            return step
        for arm in ARMS:
            step[arm] = _clean_list(raw.get(arm), f"{path}.{arm}", errors, seen, count, depth + 1)
    return step


# --- walking the tree ----------------------------------------------------------------------


def iter_steps(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every step of the tree, depth first, in order."""
    for step in steps:
        yield step
        if step.get("type") == BRANCH:
            for arm in ARMS:
                yield from iter_steps(step.get(arm) or [])


def step_at(steps: list[dict[str, Any]], position: list[str]) -> dict[str, Any] | None:
    """The step a position points at (None when the tree no longer has it)."""
    items = steps
    step = None
    for i in range(0, len(position), 2):
        step = next((s for s in items if s.get("id") == position[i]), None)
        if step is None:
            return None
        if i + 1 < len(position):
            arm = position[i + 1]
            if arm not in ARMS or step.get("type") != BRANCH:
                return None
            items = step.get(arm) or []
    return step


def first_position(steps: list[dict[str, Any]]) -> list[str]:
    return [steps[0]["id"]] if steps else []


def enter_arm(steps: list[dict[str, Any]], position: list[str], arm: str) -> list[str]:
    """The position after a branch at ``position`` took ``arm``."""
    branch = step_at(steps, position)
    inner = (branch or {}).get(arm) or []
    if inner:
        return [*position, arm, inner[0]["id"]]
    return next_position(steps, position)


def next_position(steps: list[dict[str, Any]], position: list[str]) -> list[str]:
    """The position after the step at ``position`` (leaving branches as their arms end);
    [] at the end of the playbook."""
    path = list(position)
    while path:
        parent = path[:-1]
        items = (step_at(steps, parent[:-1]) or {}).get(parent[-1]) or [] if parent else steps
        ids = [s.get("id") for s in items]
        if path[-1] in ids:
            i = ids.index(path[-1])
            if i + 1 < len(items):
                return [*parent, items[i + 1]["id"]]
        path = parent[:-1]  # leave the arm: continue after the branch step
    return []


# --- words ---------------------------------------------------------------------------------


def step_describe(step: dict[str, Any]) -> str:
    """One line for a step in the reader's language ("Wait 3 days", "Send email “Welcome”")."""
    kind = step.get("type", "")
    config = step.get("config") or {}
    if kind == WAIT:
        days = int(config.get("days") or 0)
        hours = int(config.get("hours") or 0)
        text = ngettext("Wait %(n)s day", "Wait %(n)s days", days) % {"n": days}
        if hours:
            text += " " + ngettext("and %(n)s hour", "and %(n)s hours", hours) % {"n": hours}
        return text
    if kind == WAIT_UNTIL:
        return _("Wait until %(weekday)s %(hour)02d:00") % {
            "weekday": weekday_name(int(config.get("weekday") or 0)),
            "hour": int(config.get("hour") or 0),
        }
    if kind == BRANCH:
        try:
            text = condition_describe(config.get("condition"))
        except ConditionError as exc:
            text = exc.text()
        return _("If %(condition)s") % {"condition": text}
    if kind in actions:
        try:
            return actions.get(kind).describe(config)
        except Exception:
            return str(actions.get(kind).label)
    return _("Unknown step “%(type)s”") % {"type": kind}
