"""Built-in playbooks a founder installs in one click and edits: onboarding sequence, monthly
check-in, renewal reminders, at-risk rescue, win-back offer, referral invitation, birthday
and holiday greetings.

Each entry is a trigger, a condition, steps and the keys of its email templates (the built-in
texts of tend.messaging, installed with it through ``email_template_install``). Steps name
templates by key (``{"template_key": "welcome"}``); installing puts the template's id there.
``playbook_install`` is idempotent: a playbook installed from a key is returned as it is.
Installed playbooks are drafts, named in the installer's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tend.playbooks.models import Playbook, Reentry

NOT_CHURNED = {"field": "stage", "op": "ne", "value": "churned"}


@dataclass(frozen=True)
class GalleryEntry:
    key: str
    name: str | Promise
    description: str | Promise
    trigger: str
    trigger_config: dict[str, Any]
    steps: list[dict[str, Any]]
    condition: dict[str, Any] | None = None
    reentry: str = Reentry.PER_OCCURRENCE
    reentry_days: int = 0
    templates: tuple[str, ...] = ()
    outcome: dict[str, Any] = field(default_factory=dict)

    @property
    def installed(self) -> Playbook | None:
        return Playbook.objects.filter(key=self.key).first()

    @property
    def trigger_text(self) -> str:
        """The trigger in words, in the reader's language."""
        from tend.playbooks.actions import trigger_describe

        return trigger_describe(Playbook(trigger=self.trigger, trigger_config=self.trigger_config))

    @property
    def steps_text(self) -> list[str]:
        """One line per step (emails by their template's key until installed)."""
        from django.utils.translation import gettext as _

        from tend.playbooks.steps import iter_steps, step_describe

        lines = []
        for step in iter_steps(self.steps):
            key = (step.get("config") or {}).get("template_key")
            if step.get("type") == "email" and key:
                lines.append(_("Send email “%(template)s”") % {"template": key})
            else:
                lines.append(step_describe(step))
        return lines


def _email(step_id: str, key: str, **config: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "email", "config": {"template_key": key, **config}}


def _wait(step_id: str, days: int) -> dict[str, Any]:
    return {"id": step_id, "type": "wait", "config": {"days": days}}


def _task(step_id: str, title: str, due_days: int = 1, priority: int = 2) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "task",
        "config": {"title": title, "due_days": due_days, "priority": priority, "assignee": "owner"},
    }


def playbook_gallery() -> list[GalleryEntry]:
    return [
        GalleryEntry(
            key="onboarding",
            name=_("Onboarding sequence"),
            description=_(
                "When a customer enters onboarding: a welcome email, tips on day 3 and day 7, "
                "and a task for the owner to check in after the first week."
            ),
            trigger="stage_entered",
            trigger_config={"stage": "onboarding"},
            steps=[
                _email("welcome", "welcome"),
                _wait("wait3", 3),
                _email("day3", "onboarding-day-3"),
                _wait("wait7", 4),
                _email("day7", "onboarding-day-7"),
                _task("call", str(_("Check in after the first week")), due_days=2),
            ],
            templates=("welcome", "onboarding-day-3", "onboarding-day-7"),
            outcome={"kind": "retention", "days": 90},
        ),
        GalleryEntry(
            key="monthly-check-in",
            name=_("Monthly check-in"),
            description=_("On the 1st of every month: a short check-in email to every customer."),
            trigger="recurring",
            trigger_config={"every": "month", "day": 1},
            condition={
                "field": "stage",
                "op": "in",
                "value": ["onboarding", "adopting", "established", "expansion"],
            },
            steps=[_email("checkin", "monthly-check-in")],
            templates=("monthly-check-in",),
            outcome={"kind": "retention", "days": 60},
        ),
        GalleryEntry(
            key="renewal-reminders",
            name=_("Renewal reminders"),
            description=_(
                "60, 30 and 7 days before a subscription renews: a reminder email with the "
                "date and the plan."
            ),
            trigger="renewal",
            trigger_config={"days_before": [60, 30, 7]},
            condition=NOT_CHURNED,
            steps=[_email("remind", "renewal-reminder")],
            templates=("renewal-reminder",),
            outcome={"kind": "retention", "days": 90},
        ),
        GalleryEntry(
            key="at-risk-rescue",
            name=_("At-risk rescue"),
            description=_(
                "When health turns red: an offer of help by email and an urgent task for the "
                "owner to call."
            ),
            trigger="health_colour",
            trigger_config={"colour": "red"},
            condition=NOT_CHURNED,
            steps=[
                _email("offer", "at-risk-rescue"),
                _task("call", str(_("Call: health turned red")), due_days=1, priority=3),
            ],
            reentry=Reentry.AFTER_DAYS,
            reentry_days=30,
            templates=("at-risk-rescue",),
            outcome={"kind": "retention", "days": 60},
        ),
        GalleryEntry(
            key="win-back",
            name=_("Win-back offer"),
            description=_(
                "30 days after a customer churns: a win-back email with the coupon code "
                "WINBACK20 (change it to yours)."
            ),
            trigger="stage_entered",
            trigger_config={"stage": "churned"},
            steps=[_wait("wait", 30), _email("offer", "win-back", coupon="WINBACK20")],
            reentry=Reentry.ONCE,
            templates=("win-back",),
            outcome={"kind": "mrr", "days": 60},
        ),
        GalleryEntry(
            key="referral-invitation",
            name=_("Referral invitation"),
            description=_(
                "When a customer's health turns green: ask for an introduction to someone "
                "who would benefit (at most twice a year)."
            ),
            trigger="health_colour",
            trigger_config={"colour": "green"},
            condition=NOT_CHURNED,
            steps=[_email("invite", "referral-invitation")],
            reentry=Reentry.AFTER_DAYS,
            reentry_days=180,
            templates=("referral-invitation",),
        ),
        GalleryEntry(
            key="birthday",
            name=_("Birthday greeting"),
            description=_("On the customer's birthday: a short greeting."),
            trigger="birthday",
            trigger_config={"days_before": 0},
            condition=NOT_CHURNED,
            steps=[_email("greet", "birthday")],
            templates=("birthday",),
        ),
        GalleryEntry(
            key="holiday-greeting",
            name=_("Holiday greeting"),
            description=_(
                "On the first day of the Spring Festival (China's calendar): warm wishes. "
                "Change the country and the holiday to yours, or use the customer's country."
            ),
            trigger="holiday",
            trigger_config={"country": "CN", "holiday": "Spring Festival", "days_before": 0},
            condition=NOT_CHURNED,
            steps=[_email("greet", "holiday-greeting")],
            templates=("holiday-greeting",),
        ),
    ]


class GalleryError(KeyError):
    pass


def gallery_entry(key: str) -> GalleryEntry:
    for entry in playbook_gallery():
        if entry.key == key:
            return entry
    raise GalleryError(key)


def _with_templates(steps: list[dict[str, Any]], ids: dict[str, int]) -> list[dict[str, Any]]:
    out = []
    for step in steps:
        step = {**step, "config": dict(step.get("config") or {})}
        key = step["config"].pop("template_key", None)
        if key is not None:
            step["config"]["template"] = ids[key]
        for arm in ("then", "else"):
            if arm in step:
                step[arm] = _with_templates(step[arm], ids)
        out.append(step)
    return out


@transaction.atomic
def playbook_install(*, key: str, by: Any, label: str = "") -> Playbook:
    """Install the built-in playbook ``key`` (and its email templates) as a draft; the one
    installed before is returned when there is one. Unknown key: ``PlaybookError``."""
    from tend.playbooks.actions import PlaybookError, playbook_create

    try:
        entry = gallery_entry(key)
    except GalleryError:
        keys = ", ".join(e.key for e in playbook_gallery())
        raise PlaybookError(
            [
                (
                    "key",
                    str(_("No built-in playbook “%(key)s”; keys: %(keys)s."))
                    % {"key": str(key)[:60], "keys": keys},
                )
            ]
        ) from None
    existing = Playbook.objects.filter(key=entry.key).order_by("pk").first()
    if existing is not None:
        return existing
    from tend.messaging.templating import email_template_install

    ids = {
        name: email_template_install(key=name, by=by, label=label).pk for name in entry.templates
    }
    name = str(entry.name)
    n = 2
    while Playbook.objects.filter(name=name).exists():
        name = f"{entry.name} ({n})"
        n += 1
    return playbook_create(
        by=by,
        label=label,
        name=name,
        description=str(entry.description),
        key=entry.key,
        trigger=entry.trigger,
        trigger_config=dict(entry.trigger_config),
        condition=entry.condition,
        steps=_with_templates(entry.steps, ids),
        reentry=entry.reentry,
        reentry_days=entry.reentry_days,
        outcome=dict(entry.outcome),
    )
