"""A contact's marketing-email consent and unsubscribe state, in one place.

``email_allowed(address)`` is the one check every customer-facing (outreach) send asks: the
outbox when an email is queued and again just before it goes (tend.messaging.outbox,
tend.messaging.sending). An address may not be emailed when

- it is on the suppression list (unsubscribed, bounced, complained, added by hand), as the
  plain lower-cased address or as ``sha256:<hex of the lower-cased address>``, the form an
  erasure leaves behind so an erased person stays unsubscribed without Tend keeping the address;
- for marketing, any contact with that address withdrew consent, or (with
  ``TEND_MARKETING_CONSENT=required``) none of them agreed.

``consent_set`` changes one contact's consent (audit row, timeline entry); an unsubscribe
withdraws it on every contact with the address (``consent_withdraw_address``). Emails to
Tend's own users (digests, goal alerts) are not outreach and do not ask.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.customers.actions import timeline_add
from tend.customers.models import Contact, MarketingConsent, TimelineKind

SOURCE_LENGTH = 40
# Where a change came from (Contact.consent_source), as the pages name it.
SOURCES = {
    "form": gettext_lazy("changed on the contact's page"),
    "api": gettext_lazy("changed through the API"),
    "import": gettext_lazy("imported"),
    "cli": gettext_lazy("changed on the command line"),
    "unsubscribe": gettext_lazy("unsubscribe link"),
}

# Reasons a send is held (stored on the message, shown in the send log).
REASON_SUPPRESSED = "the address is on the suppression list"
REASON_WITHDRAWN = "the contact withdrew consent to marketing emails"
REASON_NOT_GRANTED = "the contact has not agreed to marketing emails (consent required)"
REASON_NO_ADDRESS = "no email address"


def email_normal(address: str) -> str:
    return str(address or "").strip().lower()


def email_hash(address: str) -> str:
    """The suppression list's form of an erased address: ``sha256:`` + hex digest of it
    lower-cased."""
    digest = hashlib.sha256(email_normal(address).encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest}"


def suppression_reason(address: str) -> str | None:
    """The suppression list's reason for ``address`` (plain or hashed), or None."""
    from tend.messaging.models import Suppression

    email = email_normal(address)
    if not email:
        return None
    row = (
        Suppression.objects.filter(email__in=[email, email_hash(email)])
        .values_list("reason", flat=True)
        .first()
    )
    return row


def email_allowed(address: str, *, marketing: bool = True) -> tuple[bool, str]:
    """Whether a customer-facing email may go to ``address``, and why not ("" when it may).
    ``marketing=False`` (a service email to a customer) asks only the suppression list."""
    email = email_normal(address)
    if not email:
        return False, REASON_NO_ADDRESS
    if suppression_reason(email) is not None:
        return False, REASON_SUPPRESSED
    if not marketing:
        return True, ""
    states = set(
        Contact.objects.filter(email__iexact=email).values_list("marketing_consent", flat=True)
    )
    if MarketingConsent.WITHDRAWN in states:
        return False, REASON_WITHDRAWN
    if settings.TEND_MARKETING_CONSENT == "required" and MarketingConsent.GRANTED not in states:
        return False, REASON_NOT_GRANTED
    return True, ""


def consent_state(value: object, *, field: str = "marketing_consent") -> str:
    """``value`` as a consent state, or a ValidationError naming ``field`` and the values
    allowed. Takes the stored values and a few spellings (yes/no, opted in/out, 同意…)."""
    text = " ".join(str(value).split()).lower().replace("-", "_").replace(" ", "_")
    state = SPELLINGS.get(text)
    if state is None:
        raise ValidationError(
            {
                field: _("“%(value)s” is not a consent state; use %(allowed)s.")
                % {"value": str(value)[:60], "allowed": ", ".join(MarketingConsent.values)}
            }
        )
    return state


SPELLINGS: dict[str, str] = {
    **{v: v for v in MarketingConsent.values},
    "granted": MarketingConsent.GRANTED,
    "yes": MarketingConsent.GRANTED,
    "true": MarketingConsent.GRANTED,
    "opted_in": MarketingConsent.GRANTED,
    "opt_in": MarketingConsent.GRANTED,
    "agreed": MarketingConsent.GRANTED,
    "subscribed": MarketingConsent.GRANTED,
    "同意": MarketingConsent.GRANTED,
    "已同意": MarketingConsent.GRANTED,
    "withdrawn": MarketingConsent.WITHDRAWN,
    "no": MarketingConsent.WITHDRAWN,
    "false": MarketingConsent.WITHDRAWN,
    "opted_out": MarketingConsent.WITHDRAWN,
    "opt_out": MarketingConsent.WITHDRAWN,
    "unsubscribed": MarketingConsent.WITHDRAWN,
    "撤回": MarketingConsent.WITHDRAWN,
    "已撤回": MarketingConsent.WITHDRAWN,
    "退订": MarketingConsent.WITHDRAWN,
    "已退订": MarketingConsent.WITHDRAWN,
    "unknown": MarketingConsent.UNKNOWN,
    "not_asked": MarketingConsent.UNKNOWN,
    "未询问": MarketingConsent.UNKNOWN,
    "未知": MarketingConsent.UNKNOWN,
}


def _hold_queued(email: str, reason: str) -> int:
    """Outreach emails to ``email`` still waiting to go: held (suppressed) with ``reason``."""
    from tend.messaging.models import Channel, Message, MessageStatus

    return Message.objects.filter(
        channel=Channel.EMAIL, outreach=True, status=MessageStatus.QUEUED, to__iexact=email
    ).update(status=MessageStatus.SUPPRESSED, last_error=reason)


@transaction.atomic
def consent_set(
    *,
    contact: Contact,
    state: str,
    source: str,
    by: User | None,
    label: str = "",
    at: datetime | None = None,
) -> bool:
    """Set ``contact``'s marketing consent; True when it changed (an audit row and a timeline
    entry then say who, when and from where). A withdrawal also holds the outreach emails to
    its address still queued."""
    state = consent_state(state)
    if contact.marketing_consent == state:
        return False
    old = contact.marketing_consent
    contact.marketing_consent = state
    contact.consent_changed_at = at or timezone.now()
    contact.consent_source = str(source).replace("\x00", "")[:SOURCE_LENGTH]
    contact.save(update_fields=["marketing_consent", "consent_changed_at", "consent_source"])
    audit_record(
        by=by,
        label=label,
        action="contact.consent",
        obj=contact,
        changes={"marketing_consent": (old, state), "source": contact.consent_source},
    )
    timeline_add(
        customer=contact.customer,
        kind=TimelineKind.SYSTEM,
        by=by,
        data={
            "msg": "consent_changed",
            "name": contact.name,
            "state": state,
            "source": contact.consent_source,
        },
    )
    if state == MarketingConsent.WITHDRAWN and contact.email:
        _hold_queued(contact.email, REASON_WITHDRAWN)
    return True


def consent_withdraw_address(
    *, email: str, source: str, by: User | None = None, label: str = ""
) -> int:
    """Withdraw consent on every contact with ``email`` (an unsubscribe); returns how many
    changed."""
    email = email_normal(email)
    if not email:
        return 0
    changed = 0
    contacts = Contact.objects.filter(email__iexact=email).select_related("customer")
    for contact in contacts.exclude(marketing_consent=MarketingConsent.WITHDRAWN).order_by("pk"):
        changed += consent_set(
            contact=contact, state=MarketingConsent.WITHDRAWN, source=source, by=by, label=label
        )
    return changed


@dataclass(frozen=True)
class EmailState:
    """What the customer page shows per contact: consent, and whether the address is
    suppressed (and why)."""

    consent: str
    consent_label: str
    changed_at: datetime | None
    source: str
    suppressed: str | None  # the suppression reason's label, or None
    allowed: bool


def email_states(contacts: list[Contact]) -> dict[int, EmailState]:
    """The email state of each contact, in two queries whatever their number."""
    from tend.messaging.models import Suppression, SuppressionReason

    emails = {email_normal(c.email) for c in contacts if c.email}
    keys = emails | {email_hash(e) for e in emails}
    reasons = dict(Suppression.objects.filter(email__in=keys).values_list("email", "reason"))
    withdrawn = set()
    if emails:
        withdrawn = {
            email_normal(e)
            for e in Contact.objects.filter(
                email__in=[c.email for c in contacts if c.email],
                marketing_consent=MarketingConsent.WITHDRAWN,
            ).values_list("email", flat=True)
        }
    out: dict[int, EmailState] = {}
    for c in contacts:
        email = email_normal(c.email)
        reason = reasons.get(email) or reasons.get(email_hash(email)) if email else None
        label = str(SuppressionReason(reason).label) if reason in SuppressionReason.values else None
        allowed = bool(email) and reason is None and email not in withdrawn
        if allowed and settings.TEND_MARKETING_CONSENT == "required":
            allowed = c.marketing_consent == MarketingConsent.GRANTED
        out[c.pk] = EmailState(
            consent=c.marketing_consent,
            consent_label=str(MarketingConsent(c.marketing_consent).label),
            changed_at=c.consent_changed_at,
            source=str(SOURCES.get(c.consent_source, c.consent_source)),
            suppressed=label,
            allowed=allowed,
        )
    return out
