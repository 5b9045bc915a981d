"""How machine-written timeline entries read, in the reader's language.

Actions store a message id and its parameters in ``TimelineEntry.data``; the page renders
them here, so an entry written in English reads in Chinese for a Chinese user.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from tend.customers.models import Stage, TimelineEntry


def _stage(value: str) -> str:
    try:
        return str(Stage(value).label)
    except ValueError:
        return value or "—"


def describe(entry: TimelineEntry) -> str:
    """One sentence for a timeline entry; people's own notes are shown as they wrote them."""
    data: dict[str, Any] = entry.data or {}
    msg = data.get("msg")
    if msg == "customer_created":
        return _("Customer record created")
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
            "before": data.get("before", "0"),
            "after": data.get("after", "0"),
            "currency": data.get("currency", ""),
        }
    if msg == "order_placed":
        return _("Order of %(amount)s %(currency)s") % {
            "amount": data.get("amount", ""),
            "currency": data.get("currency", ""),
        }
    if msg == "stripe_invoice_paid":
        return _("Invoice %(number)s paid: %(amount)s %(currency)s") % {
            "number": data.get("number") or data.get("invoice") or "—",
            "amount": data.get("amount", ""),
            "currency": data.get("currency", ""),
        }
    if msg == "stripe_payment_failed":
        return _("Payment failed: %(amount)s %(currency)s (attempt %(attempt)s)") % {
            "amount": data.get("amount", ""),
            "currency": data.get("currency", ""),
            "attempt": data.get("attempt_count") or 1,
        }
    if msg in ("stripe_refund", "order_refunded"):
        template = (
            _("Refund: %(amount)s %(currency)s")
            if data.get("full")
            else _("Partial refund: %(amount)s %(currency)s")
        )
        return template % {"amount": data.get("amount", ""), "currency": data.get("currency", "")}
    if msg == "contact_added":
        return _("Contact added: %(name)s") % {"name": data.get("name", "")}
    if msg == "tags_changed":
        return _("Tags set to: %(tags)s") % {"tags": ", ".join(data.get("tags", [])) or "—"}
    if msg == "tags_bulk":
        parts = []
        if data.get("added"):
            parts.append(_("Tags added: %(tags)s") % {"tags": ", ".join(data["added"])})
        if data.get("removed"):
            parts.append(_("Tags removed: %(tags)s") % {"tags": ", ".join(data["removed"])})
        return "; ".join(parts) or _("Tags unchanged")
    if msg == "owner_set":
        if data.get("owner"):
            return _("Owner set to %(owner)s") % {"owner": data["owner"]}
        return _("Owner removed")
    return entry.title or entry.body


def stage_reason(change: Any) -> str:
    """Why a customer moved to its stage, in the reader's language (as written if a person
    wrote it)."""
    return str(getattr(change, "reason", "") or "")
