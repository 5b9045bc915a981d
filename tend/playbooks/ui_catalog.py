"""What the playbook editor (static/playbooks/editor.js) and ``GET /playbooks/catalog`` know
about triggers and actions, in the reader's language: each registry entry's name, label and
settings (``Setting`` rows when the entry declares them; otherwise the editor offers its
settings as JSON), and the things a setting can pick from (templates, tags, stages, segments,
webhook endpoints).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from tend.accounts.models import Role, User
from tend.customers.models import Stage, Tag
from tend.messaging.models import EmailTemplate, WebhookEndpoint
from tend.playbooks.registry import actions, triggers
from tend.segments.models import Segment

MAX_CHOICES = 500  # of each kind of thing a setting picks from


def _setting(setting: Any) -> dict[str, Any]:
    def get(name: str, default: Any = None) -> Any:
        if isinstance(setting, dict):
            return setting.get(name, default)
        return getattr(setting, name, default)

    choices = get("choices") or ()
    return {
        "name": str(get("name", "")),
        "label": str(get("label", "") or get("name", "")),
        "kind": str(get("kind", "text")),
        "required": bool(get("required", True)),
        "choices": [{"value": v, "label": str(label)} for v, label in choices],
        "min": get("min"),
        "max": get("max"),
        "help": str(get("help", "") or ""),
        "default": get("default"),
    }


def _entry(entry: Any, kind: str) -> dict[str, Any]:
    return {
        "name": entry.name,
        "label": str(entry.label),
        "settings": [_setting(s) for s in (getattr(entry, "settings", ()) or ())],
        **({"manual": bool(entry.manual)} if kind == "trigger" else {}),
    }


def trigger_catalog() -> list[dict[str, Any]]:
    return [_entry(t, "trigger") for t in sorted(triggers, key=lambda t: (t.order, t.name))]


def engine_step_types() -> list[dict[str, Any]]:
    """The step types the engine runs itself (not in the actions registry): waits and branch."""
    return [
        {
            "name": "wait",
            "label": _("Wait a number of days"),
            "settings": [
                _setting({"name": "days", "label": _("Days"), "kind": "int", "min": 0, "max": 730}),
                _setting(
                    {
                        "name": "hours",
                        "label": _("and hours"),
                        "kind": "int",
                        "min": 0,
                        "max": 23,
                        "required": False,
                    }
                ),
            ],
        },
        {
            "name": "wait_until",
            "label": _("Wait until a weekday and hour"),
            "settings": [
                _setting(
                    {
                        "name": "weekday",
                        "label": _("Weekday"),
                        "kind": "weekday",
                        "help": _("In the business's time zone."),
                    }
                ),
                _setting({"name": "hour", "label": _("Hour"), "kind": "hour"}),
            ],
        },
        {
            "name": "branch",
            "label": _("Branch on a condition"),
            "settings": [
                _setting({"name": "condition", "label": _("If"), "kind": "condition"}),
            ],
        },
    ]


def action_catalog() -> list[dict[str, Any]]:
    """The engine's own step types, then every registered action."""
    registered = [_entry(a, "action") for a in sorted(actions, key=lambda a: (a.order, a.name))]
    own = {e["name"] for e in registered}
    return [e for e in engine_step_types() if e["name"] not in own] + registered


def pick_lists() -> dict[str, list[dict[str, Any]]]:
    """What settings of each kind choose from (value + label); six queries."""
    weekdays = [
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    ]
    return {
        "template": [
            {"value": pk, "label": name}
            for pk, name in EmailTemplate.objects.order_by("name").values_list("pk", "name")[
                :MAX_CHOICES
            ]
        ],
        "tag": [
            {"value": name, "label": name}
            for name in Tag.objects.order_by("name").values_list("name", flat=True)[:MAX_CHOICES]
        ],
        "stage": [{"value": v, "label": str(label)} for v, label in Stage.choices],
        "segment": [
            {"value": pk, "label": name}
            for pk, name in Segment.objects.order_by("name").values_list("pk", "name")[:MAX_CHOICES]
        ],
        "endpoint": [
            {"value": pk, "label": name}
            for pk, name in WebhookEndpoint.objects.filter(archived_at__isnull=True)
            .order_by("name")
            .values_list("pk", "name")[:MAX_CHOICES]
        ],
        "user": [{"value": "owner", "label": _("The customer's owner")}]
        + [
            {"value": pk, "label": name}
            for pk, name in User.objects.filter(is_active=True, role__in=[Role.OWNER, Role.MEMBER])
            .order_by("username")
            .values_list("pk", "username")[:MAX_CHOICES]
        ],
        "weekday": [{"value": i, "label": str(day)} for i, day in enumerate(weekdays)],
        "hour": [{"value": h, "label": f"{h:02d}:00"} for h in range(24)],
    }


def editor_texts() -> dict[str, str]:
    """Every text editor.js writes into the page."""
    return {
        "add_step": _("Add step"),
        "add_then": _("Add a step to “then”"),
        "add_else": _("Add a step to “otherwise”"),
        "then": _("Then"),
        "else": pgettext("branch", "Otherwise"),
        "if": pgettext("branch", "If"),
        "remove": _("Remove"),
        "up": _("Move up"),
        "down": _("Move down"),
        "step": _("Step %(n)s"),
        "choose": _("Choose…"),
        "settings_json": _("Settings (JSON)"),
        "bad_json": _("Not valid JSON yet: %(error)s"),
        "no_steps": _("No steps yet: add the first one."),
        "no_branch_steps": _("No steps: nothing happens on this path."),
        "nested_branch": _(
            "A branch inside a branch is edited as JSON below (the editor shows one level)."
        ),
        "none_to_pick": _("Nothing to choose from yet."),
        "step_type": _("Action"),
    }


def editor_context() -> dict[str, Any]:
    return {
        "triggers": trigger_catalog(),
        "actions": action_catalog(),
        "picks": pick_lists(),
        "texts": editor_texts(),
    }
