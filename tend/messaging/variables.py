"""The variables an email template can use, and their values for one recipient.

Every value is plain data — strings, numbers, dates, and dicts and lists of them — built here
from the customer, never the model objects themselves, so a template reaches nothing else
(tend.messaging.templating renders them in a sandbox). Text is cut to ``MAX_TEXT`` characters
and lists to ``MAX_LIST`` items, so a trait holding a huge value cannot blow up an email.

The catalog (``variable_catalog``) is what the editor and docs/email-templates.md show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import NoReverseMatch
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tend.lib.links import site_url
from tend.lib.money import format_money

if TYPE_CHECKING:
    from tend.customers.models import Contact, Customer

MAX_TEXT = 1_000
MAX_LIST = 100
MAX_DEPTH = 3
OPEN = "open"  # a variable whose fields are free (traits, step extras)

# Countries whose customers get Simplified Chinese when they set no language of their own.
CHINESE_COUNTRIES = frozenset({"CN", "TW", "HK", "SG"})


@dataclass(frozen=True)
class VariableDoc:
    name: str
    meaning: str | Promise
    example: str


CUSTOMER_FIELDS = {
    "name": _("The customer's name."),
    "email": _("The customer's email address."),
    "plan": _("The plan's name (empty without a plan)."),
    "mrr": _("Monthly recurring revenue, written as money (“$49.00”)."),
    "stage": _("The lifecycle stage, in the email's language."),
    "owner": _("The name of the customer's owner on your team."),
    "country": _("The country code (ISO 3166-1), e.g. CN."),
    "signed_up": _("The day they signed up (a date)."),
    "renewal_date": _("When the current subscription renews (a date; empty without one)."),
    "traits": _('Their traits: customer.traits.seats, customer.traits["company size"].'),
}
CONTACT_FIELDS = {
    "name": _("The contact's full name (the primary contact unless the step names one)."),
    "first_name": _("The first word of the contact's name."),
    "email": _("The contact's email address."),
    "title": _("The contact's job title."),
}
BUSINESS_FIELDS = {
    "name": _("Your business's name (TEND_BUSINESS_NAME, else your Tend address)."),
    "url": _("Your Tend address."),
}
# Variables a playbook step passes (the step's settings fill them in).
STEP_VARIABLES = {
    "coupon": _("The coupon code the step gives (win-back offers)."),
    "holiday": _("The holiday's name (holiday greetings)."),
    "days_left": _("Days until the renewal date (renewal reminders); a number."),
}
CATALOG_FIELDS: dict[str, Any] = {
    "customer": CUSTOMER_FIELDS,
    "contact": CONTACT_FIELDS,
    "business": BUSINESS_FIELDS,
    "sender": None,
    "unsubscribe_url": None,
    "today": None,
    **dict.fromkeys(STEP_VARIABLES),
}
EXAMPLES = {
    "customer.name": "Acme",
    "customer.email": "billing@acme.example",
    "customer.plan": "Pro",
    "customer.mrr": "$49.00",
    "customer.stage": "Established",
    "customer.owner": "Olivia Chen",
    "customer.country": "CN",
    "customer.signed_up": "March 3, 2026",
    "customer.renewal_date": "January 31, 2027",
    "customer.traits": "{{ customer.traits.seats }}",
    "contact.name": "Pat Lee",
    "contact.first_name": "Pat",
    "contact.email": "pat@acme.example",
    "contact.title": "CTO",
    "business.name": "Tend",
    "business.url": "https://tend.example",
    "sender": "Olivia Chen",
    "unsubscribe_url": "https://tend.example/unsubscribe/…",
    "today": "December 6, 2026",
    "coupon": "WINBACK20",
    "holiday": "Spring Festival",
    "days_left": "30",
}


def variable_catalog() -> list[VariableDoc]:
    """Every variable with what it means and an example, in the reader's language."""
    docs: list[VariableDoc] = []
    for group, fields in (
        ("customer", CUSTOMER_FIELDS),
        ("contact", CONTACT_FIELDS),
        ("business", BUSINESS_FIELDS),
    ):
        for field, meaning in fields.items():
            name = f"{group}.{field}"
            docs.append(VariableDoc(name, meaning, EXAMPLES[name]))
    docs.append(
        VariableDoc(
            "sender", _("Your name: the customer's owner, who signs the email."), EXAMPLES["sender"]
        )
    )
    docs.append(
        VariableDoc(
            "unsubscribe_url",
            _("A signed one-click unsubscribe link for this recipient."),
            EXAMPLES["unsubscribe_url"],
        )
    )
    docs.append(VariableDoc("today", _("Today's date."), EXAMPLES["today"]))
    for name, meaning in STEP_VARIABLES.items():
        docs.append(VariableDoc(name, meaning, EXAMPLES[name]))
    return docs


# --- values -----------------------------------------------------------------------------


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data a template may read: str, int, float, Decimal, bool, date, and
    dicts (string keys) and lists of them; text and lists cut short, deeper nesting dropped."""
    if value is None or isinstance(value, (bool, int, float, Decimal, date)):
        return value
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {str(k)[:200]: plain(v, depth + 1) for k, v in list(value.items())[:MAX_LIST]}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in list(value)[:MAX_LIST]]
    return str(value)[:MAX_TEXT]


def _language_code(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    code = value.strip().lower().replace("_", "-")
    if code.startswith("zh") or code in {"chinese", "中文", "简体中文"}:
        return "zh-hans"
    if code.startswith("en") or code == "english":
        return "en"
    return None


def email_language(customer: Customer, contact: Contact | None = None) -> str:
    """The recipient's language: the contact's or the customer's ``language`` trait, else
    Simplified Chinese for customers in CN, TW, HK and SG, else TEND_LANGUAGE."""
    for traits in (getattr(contact, "traits", None), customer.traits):
        if isinstance(traits, dict):
            code = _language_code(traits.get("language"))
            if code:
                return code
    if (customer.country or "").upper() in CHINESE_COUNTRIES:
        return "zh-hans"
    return "zh-hans" if str(settings.LANGUAGE_CODE).startswith("zh") else "en"


def primary_contact(customer: Customer) -> Contact | None:
    return customer.contacts.order_by("-is_primary", "pk").first()


def recipient(customer: Customer, contact: Contact | None) -> tuple[str, Contact | None]:
    """Where the email goes and the contact it speaks to: the contact given (its address, else
    the customer's), else the customer's address with its primary contact."""
    if contact is not None:
        return (contact.email or customer.email or ""), contact
    person = primary_contact(customer)
    return (customer.email or (person.email if person else "") or ""), person


def business_name() -> str:
    """TEND_BUSINESS_NAME, else the host of the Tend address."""
    name = str(getattr(settings, "TEND_BUSINESS_NAME", "") or "").strip()
    if name:
        return name
    return urlsplit(site_url()).netloc or site_url()


def _person_name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or user.username)


def renewal_date(customer: Customer) -> date | None:
    """When the customer's current subscription's period ends: the live subscription ending
    soonest from now, else the last one that ended."""
    from tend.billing.models import Subscription, SubscriptionStatus

    subs = Subscription.objects.filter(customer=customer, current_period_end__isnull=False)
    live = subs.filter(
        status__in=[
            SubscriptionStatus.ACTIVE,
            SubscriptionStatus.TRIALING,
            SubscriptionStatus.PAST_DUE,
        ]
    )
    now = timezone.now()
    found = (
        live.filter(current_period_end__gte=now).order_by("current_period_end").first()
        or live.order_by("-current_period_end").first()
    )
    if found is None or found.current_period_end is None:
        return None
    return timezone.localtime(found.current_period_end).date()


def _unsubscribe_url(to: str) -> str:
    if not to:
        return ""
    from tend.messaging.unsubscribe import unsubscribe_url

    try:
        return unsubscribe_url(to)
    except NoReverseMatch:  # the unsubscribe page is not installed (only in partial builds)
        return ""


def email_variables(
    *,
    customer: Customer,
    contact: Contact | None,
    extra: dict[str, Any],
    language: str,
    to: str = "",
) -> dict[str, Any]:
    """The values of every catalog variable for this recipient, in ``language``; ``extra``
    (the step's variables) adds to them and may replace the step variables."""
    from tend.customers.models import Stage

    with translation.override(language):
        stage = str(Stage(customer.stage).label) if customer.stage in Stage.values else ""
    owner = _person_name(customer.owner) if customer.owner_id else ""
    renews = renewal_date(customer)
    business = {"name": business_name(), "url": site_url()}
    contact_name = (contact.name if contact else "") or ""
    values: dict[str, Any] = {
        "customer": {
            "name": customer.name,
            "email": customer.email,
            "plan": customer.plan.name if customer.plan_id and customer.plan else "",
            "mrr": format_money(customer.mrr, language=language),
            "stage": stage,
            "owner": owner,
            "country": customer.country,
            "signed_up": timezone.localtime(customer.signed_up_at).date()
            if customer.signed_up_at
            else None,
            "renewal_date": renews,
            "traits": customer.traits if isinstance(customer.traits, dict) else {},
        },
        "contact": {
            "name": contact_name,
            "first_name": contact_name.split()[0] if contact_name.split() else "",
            "email": contact.email if contact else "",
            "title": contact.title if contact else "",
        },
        "business": business,
        "sender": owner or business["name"],
        "unsubscribe_url": _unsubscribe_url(to),
        "today": timezone.localdate(),
    }
    if renews is not None:
        values["days_left"] = (renews - timezone.localdate()).days
    for key, value in (extra or {}).items():
        if isinstance(key, str) and key.isidentifier() and not key.startswith("_"):
            values[key] = value
    return {key: plain(value) for key, value in values.items()}
