"""How text the system writes reads, in the reader's language.

Actions store a message id and its parameters (``TimelineEntry.data``,
``StageChange.reason_data``); pages render them here, so an entry written while an English
user was working reads in Chinese for a Chinese user. What a person wrote is shown as written.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, npgettext, pgettext, pgettext_lazy

from tend.customers.models import Stage, StageChange, TimelineEntry

# What an import read, as a noun inside the import summary ("… rows of customers from …").
IMPORT_KINDS = {
    "customers": gettext_lazy("customers"),
    "contacts": gettext_lazy("contacts"),
    "subscriptions": gettext_lazy("subscriptions"),
    "orders": gettext_lazy("orders"),
    "events": gettext_lazy("events"),
    "stripe_customers": gettext_lazy("Stripe customers"),
    "stripe_subscriptions": gettext_lazy("Stripe subscriptions"),
}


# Stage-change reasons the system gives, by message id (StageChange.reason_data["msg"]);
# "days_as_customer" takes a number of days and is rendered with ngettext; "lifecycle_rule"
# (written by tend.lifecycle.engine) names the rule that moved the customer.
REASONS = {
    "mrr_zero": pgettext_lazy("stage change reason", "MRR fell to zero"),
    "first_payment": pgettext_lazy("stage change reason", "First payment"),
    "came_back": pgettext_lazy("stage change reason", "Came back"),
    "expanded": pgettext_lazy("stage change reason", "Expanded"),
    "expansion_settled": pgettext_lazy("stage change reason", "Expansion settled"),
    "renewal_soon": pgettext_lazy("stage change reason", "Renewal in 30 days"),
    "renewed": pgettext_lazy("stage change reason", "Renewed"),
    "usage_fell": pgettext_lazy("stage change reason", "Usage fell by more than half"),
    "usage_recovered": pgettext_lazy("stage change reason", "Usage back to normal"),
    "repeat_purchase": pgettext_lazy("stage change reason", "Repeat purchase"),
    "trial_lost": pgettext_lazy("stage change reason", "Trial ended without a subscription"),
    "lapsed": pgettext_lazy("stage change reason", "No purchase within the activity window"),
    "import_stage": pgettext_lazy("stage change reason", "Stage set by an import"),
}


def _reason_text(data: dict[str, Any]) -> str | None:
    """A stage-change reason the system gave, as a message id and its parameters; None for
    an id this version does not know (shown as nothing rather than as an id)."""
    msg = data.get("msg")
    if msg == "days_as_customer":
        days = int(data.get("days") or 0)
        return npgettext(
            "stage change reason",
            "%(days)s day as a customer",
            "%(days)s days as a customer",
            days,
        ) % {"days": days}
    if msg == "lifecycle_rule":
        # The rule's name as it was when it moved the customer; a built-in rule's ("key") is an
        # English message id, shown in the reader's language.
        rule = str(data.get("rule") or "")
        if data.get("key"):
            rule = _(rule)
        return pgettext("stage change reason", "Lifecycle rule “%(rule)s”") % {"rule": rule}
    if msg == "playbook":
        return pgettext("stage change reason", "Playbook “%(playbook)s”") % {
            "playbook": str(data.get("playbook") or "")
        }
    text = REASONS.get(str(msg))
    return str(text) if text is not None else None


# The message ids the system writes as stage-change reasons (tests check each renders).
REASON_IDS = (*REASONS, "days_as_customer", "lifecycle_rule", "playbook")


def _when(value: Any) -> str:
    from datetime import datetime

    from django.utils import formats, timezone

    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return str(formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT"))


def playbook_result(detail: dict[str, Any]) -> str:
    """What a playbook step did (``RunStep.detail`` / a timeline entry's ``detail``: a message
    id and its parameters), in the reader's language."""
    msg = detail.get("msg")
    p = {k: v for k, v in detail.items() if k != "msg"}
    stage = _stage(str(p.get("stage", "")))
    texts: dict[str, str] = {
        "task_created": _("Task created: “%(title)s”") % {"title": p.get("title", "")},
        "email_queued": _("Email “%(subject)s” queued to %(to)s")
        % {"subject": p.get("subject", ""), "to": p.get("to", "")},
        "email_suppressed": _("Email not sent: %(to)s is unsubscribed or suppressed")
        % {"to": p.get("to", "")},
        "email_no_address": _("Email skipped: the customer has no email address"),
        "email_refused": _("Email not sent to %(to)s: %(error)s")
        % {"to": p.get("to", ""), "error": p.get("error", "")},
        "stage_set": _("Stage set to %(stage)s") % {"stage": stage},
        "stage_unchanged": _("Already in stage %(stage)s") % {"stage": stage},
        "tag_added": _("Tag added: %(tag)s") % {"tag": p.get("tag", "")},
        "tag_present": _("Already tagged %(tag)s") % {"tag": p.get("tag", "")},
        "tag_removed": _("Tag removed: %(tag)s") % {"tag": p.get("tag", "")},
        "tag_absent": _("Not tagged %(tag)s") % {"tag": p.get("tag", "")},
        "note_added": _("Timeline note added"),
        "webhook_queued": _("Webhook “%(endpoint)s” queued") % {"endpoint": p.get("endpoint", "")},
        "waiting": _("Waiting until %(when)s") % {"when": _when(p.get("until", ""))},
        "branch": _("Condition true: “then” steps")
        if p.get("arm") == "then"
        else _("Condition false: “else” steps"),
        "step_removed": _("The step was removed from the playbook; the run ended"),
        "loop_guard": ngettext(
            "Loop guard: entered this playbook %(cap)s time in 24 hours; not started again",
            "Loop guard: entered this playbook %(cap)s times in 24 hours; not started again",
            int(p.get("cap") or 0),
        )
        % {"cap": p.get("cap", 0)},
        "retrying": _("Failed; will try again at %(when)s (attempt %(attempt)s)")
        % {"when": _when(p.get("at", "")), "attempt": p.get("attempt", 1)},
        "failed": ngettext(
            "Failed after %(n)s attempt", "Failed after %(n)s attempts", int(p.get("attempts") or 1)
        )
        % {"n": p.get("attempts", 1)},
    }
    return texts.get(str(msg), str(msg or ""))


# The message ids of playbook steps (tests check each renders).
PLAYBOOK_RESULT_IDS = (
    "task_created",
    "email_queued",
    "email_suppressed",
    "email_no_address",
    "email_refused",
    "stage_set",
    "stage_unchanged",
    "tag_added",
    "tag_present",
    "tag_removed",
    "tag_absent",
    "note_added",
    "webhook_queued",
    "waiting",
    "branch",
    "step_removed",
    "loop_guard",
    "retrying",
    "failed",
)


def stage_reason(change: StageChange) -> str:
    """Why a customer moved to this stage, in the reader's language: a reason the system gave
    (``reason_data``) is translated, one a person wrote is returned as written ("" if none)."""
    if change.reason_data:
        text = _reason_text(change.reason_data)
        if text is not None:
            return text
    return change.reason


def detail(entry: TimelineEntry) -> str:
    """The smaller second line under a machine entry: the reason of a stage change, the MRR
    change of an import, or what a person wrote with it."""
    data: dict[str, Any] = entry.data or {}
    if data.get("msg") == "stage_changed" and isinstance(data.get("reason"), dict):
        text = _reason_text(data["reason"])
        if text is not None:
            return text
    if data.get("msg") == "playbook_note":
        return str(data.get("text") or "")
    if data.get("msg") == "playbook_step" and data.get("error"):
        return str(data["error"])
    if data.get("msg") == "email_bounced" and data.get("reply"):
        return str(data["reply"])
    if data.get("msg") == "imported" and isinstance(data.get("mrr"), dict):
        mrr = data["mrr"]
        return _("MRR %(before)s → %(after)s %(currency)s") % {
            "before": _amount(mrr.get("before", "0")),
            "after": _amount(mrr.get("after", "0")),
            "currency": mrr.get("currency", ""),
        }
    return entry.body


def _stage(value: str) -> str:
    try:
        return str(Stage(value).label)
    except ValueError:
        return value or "—"


def _consent(value: str) -> str:
    from tend.customers.models import MarketingConsent

    try:
        return str(MarketingConsent(value).label)
    except ValueError:
        return value or "—"


def _amount(value: Any) -> str:
    """An amount as the timeline shows it: "6,162.00" (the currency code follows it)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{number:,.2f}" if number.is_finite() else str(value)


def describe(entry: TimelineEntry) -> str:
    """One sentence for a timeline entry; people's own notes are shown as they wrote them."""
    data: dict[str, Any] = entry.data or {}
    msg = data.get("msg")
    if msg == "customer_created":
        return _("Customer record created")
    if msg == "playbook_step":
        raw = data.get("detail")
        detail: dict[str, Any] = raw if isinstance(raw, dict) else {}
        return _("Playbook “%(playbook)s”: %(result)s") % {
            "playbook": data.get("playbook", ""),
            "result": playbook_result(detail),
        }
    if msg == "playbook_note":
        return _("Note from playbook “%(playbook)s”") % {"playbook": data.get("playbook", "")}
    if msg == "playbook_done":
        return _("Playbook “%(playbook)s” finished") % {"playbook": data.get("playbook", "")}
    if msg == "playbook_canceled":
        return _("Playbook “%(playbook)s” canceled") % {"playbook": data.get("playbook", "")}
    if msg == "stage_changed":
        return _("Stage changed from %(old)s to %(new)s") % {
            "old": _stage(data.get("from", "")),
            "new": _stage(data.get("to", "")),
        }
    if msg == "mrr_changed":
        kinds = {
            "new": _("New subscription: MRR %(before)s → %(after)s %(currency)s"),
            "expansion": _("Expansion: MRR %(before)s → %(after)s %(currency)s"),
            "contraction": _("Contraction: MRR %(before)s → %(after)s %(currency)s"),
            "churn": _("Churned: MRR %(before)s → %(after)s %(currency)s"),
            "reactivation": _("Reactivated: MRR %(before)s → %(after)s %(currency)s"),
        }
        template = kinds.get(data.get("kind", ""), _("MRR %(before)s → %(after)s %(currency)s"))
        return template % {
            "before": _amount(data.get("before", "0")),
            "after": _amount(data.get("after", "0")),
            "currency": data.get("currency", ""),
        }
    if msg == "order_placed":
        return _("Order of %(amount)s %(currency)s") % {
            "amount": _amount(data.get("amount", "")),
            "currency": data.get("currency", ""),
        }
    if msg == "stripe_invoice_paid":
        return _("Invoice %(number)s paid: %(amount)s %(currency)s") % {
            "number": data.get("number") or data.get("invoice") or "—",
            "amount": _amount(data.get("amount", "")),
            "currency": data.get("currency", ""),
        }
    if msg == "stripe_payment_failed":
        return _("Payment failed: %(amount)s %(currency)s (attempt %(attempt)s)") % {
            "amount": _amount(data.get("amount", "")),
            "currency": data.get("currency", ""),
            "attempt": data.get("attempt_count") or 1,
        }
    if msg in ("stripe_refund", "order_refunded"):
        template = (
            _("Refund: %(amount)s %(currency)s")
            if data.get("full")
            else _("Partial refund: %(amount)s %(currency)s")
        )
        return template % {
            "amount": _amount(data.get("amount", "")),
            "currency": data.get("currency", ""),
        }
    if msg == "imported" and "file" in data:
        rows = int(data.get("rows") or 0)
        kind = data.get("kind", "")
        noun = IMPORT_KINDS.get(kind)
        return ngettext(
            "Imported %(rows)s row of %(kind)s from %(file)s",
            "Imported %(rows)s rows of %(kind)s from %(file)s",
            rows,
        ) % {"rows": rows, "kind": str(noun) if noun else kind, "file": data["file"]}
    if msg == "contact_added":
        return _("Contact added: %(name)s") % {"name": data.get("name", "")}
    if msg == "contact_removed":
        return _("Contact removed: %(name)s") % {"name": data.get("name", "")}
    if msg == "tags_changed":
        return _("Tags set to: %(tags)s") % {"tags": ", ".join(data.get("tags", [])) or "—"}
    if msg == "tags_bulk":
        parts = []
        if data.get("added"):
            parts.append(_("Tags added: %(tags)s") % {"tags": ", ".join(data["added"])})
        if data.get("removed"):
            parts.append(_("Tags removed: %(tags)s") % {"tags": ", ".join(data["removed"])})
        return "; ".join(parts) or _("Tags unchanged")
    if msg == "consent_changed":  # tend.customers.consent
        return _("Marketing emails for %(name)s: %(state)s") % {
            "name": data.get("name", ""),
            "state": _consent(str(data.get("state", ""))),
        }
    if msg == "email_unsubscribed":  # tend.messaging: the recipient's unsubscribe link
        return _("%(email)s unsubscribed from emails") % {"email": data.get("email", "")}
    if msg == "email_bounced":  # tend.messaging: the recipient's server refused the address
        return _("Email to %(email)s bounced; the address is suppressed") % {
            "email": data.get("email", "")
        }
    if isinstance(msg, str) and msg.startswith("task_"):
        text = _task_text(msg, data)
        if text is not None:
            return text
    if msg == "owner_set":
        if data.get("owner"):
            return _("Owner set to %(owner)s") % {"owner": data["owner"]}
        return _("Owner removed")
    return entry.title or entry.body


def _task_text(msg: str, data: dict[str, Any]) -> str | None:
    """A task's entry (written by tend.tasks.actions), or None for an id this version does
    not know."""
    values = {
        "title": data.get("title", ""),
        "day": data.get("until") or "",
        "person": data.get("assignee") or "",
    }
    if msg == "task_reassigned" and not values["person"]:
        return pgettext("timeline", "Task unassigned: %(title)s") % values
    if msg == "task_created" and data.get("source") == "playbook":
        return pgettext("timeline", "Task created by a playbook: %(title)s") % values
    text = TASK_MESSAGES.get(msg)
    return str(text) % values if text is not None else None


# The message ids tend.tasks writes on the timeline (tests check each renders).
TASK_MESSAGES = {
    "task_created": pgettext_lazy("timeline", "Task created: %(title)s"),
    "task_done": pgettext_lazy("timeline", "Task done: %(title)s"),
    "task_snoozed": pgettext_lazy("timeline", "Task snoozed until %(day)s: %(title)s"),
    "task_reassigned": pgettext_lazy("timeline", "Task assigned to %(person)s: %(title)s"),
    "task_reopened": pgettext_lazy("timeline", "Task reopened: %(title)s"),
    "task_canceled": pgettext_lazy("timeline", "Task canceled: %(title)s"),
    "task_updated": pgettext_lazy("timeline", "Task changed: %(title)s"),
}
