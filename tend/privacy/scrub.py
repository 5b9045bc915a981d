"""Helpers the apps' privacy entries share: rows as plain dicts for the export, and the
erasure's context with the personal values to scrub from free text and JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models

from tend.privacy.models import Erasure

ERASED = "[erased]"


def plain(value: Any) -> Any:
    """A JSON-able copy of a field value (dates as ISO 8601, decimals as strings)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return str(value)


def model_rows(
    queryset: models.QuerySet[Any], *, exclude: Iterable[str] = ()
) -> Iterator[dict[str, Any]]:
    """Every row of ``queryset`` as {column: plain value}, foreign keys as their ids, in id
    order, read in chunks (a customer may have many events)."""
    skip = set(exclude)
    names = [
        f.attname
        for f in queryset.model._meta.concrete_fields
        if f.name not in skip and f.attname not in skip
    ]
    for row in queryset.order_by("pk").values(*names).iterator(chunk_size=2000):
        yield {key: plain(value) for key, value in row.items()}


def customer_rows(model: type[models.Model]) -> dict[str, Any]:
    """``export`` and ``count`` of a PrivacyEntry whose model has a ``customer`` key: every
    row of the customer's, as ``model_rows`` gives them, and how many there are."""
    manager = model._default_manager
    return {
        "export": lambda c: model_rows(manager.filter(customer=c)),
        "count": lambda c: manager.filter(customer=c).count(),
    }


def email_hash(email: str) -> str:
    """The suppression-list form of an erased address, ``sha256:<hex of the lower-cased
    address>``: the one definition is tend.customers.consent's, which every send checks."""
    from tend.customers.consent import email_hash as consent_hash

    return consent_hash(email)


@dataclass
class ErasureContext:
    """What every entry's ``erase`` needs: the Erasure row being written and the personal
    values of the subject, gathered before any entry ran (contacts are gone by the end)."""

    erasure: Erasure | None
    # Names, addresses, phone numbers, external and tracking ids of the customer (and its
    # contacts) or of the one contact: replaced by "[erased]" wherever they appear in text.
    terms: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    # Stripe and billing ids (cus_…, sub_…) whose webhook records should forget them.
    external_ids: list[str] = field(default_factory=list)
    # The subject's contacts' ids (the customer's, or the one contact's).
    contact_ids: list[int] = field(default_factory=list)
    _pattern: re.Pattern[str] | None = None

    @classmethod
    def for_customer(cls, customer: Any, erasure: Erasure | None = None) -> ErasureContext:
        """The personal values of a customer and of all its contacts."""
        ctx = cls(erasure=erasure)
        ctx._take(customer)
        for contact in customer.contacts.all():
            ctx._take(contact)
            ctx.contact_ids.append(contact.pk)
        return ctx

    @classmethod
    def for_contact(cls, contact: Any, erasure: Erasure | None = None) -> ErasureContext:
        ctx = cls(erasure=erasure)
        ctx._take(contact)
        ctx.contact_ids.append(contact.pk)
        return ctx

    def _take(self, person: Any) -> None:
        self.add(person.name, person.email, person.phone, person.external_id or "")
        if person.email and person.email.strip().lower() not in self.emails:
            self.emails.append(person.email.strip().lower())
        if person.external_id:
            self.external_ids.append(person.external_id)

    def lookup_terms(self) -> list[str]:
        """The terms as they may appear in stored text and JSON (non-ASCII JSON is stored
        escaped on SQLite), for ``icontains`` filters."""
        out: list[str] = []
        for term in self.terms:
            out.append(term)
            escaped = json.dumps(term)[1:-1]
            if escaped != term:
                out.append(escaped)
        return out

    def add(self, *values: Any) -> None:
        for value in values:
            if isinstance(value, str):
                value = value.strip()
                # One- and two-letter names would blank unrelated text; they stay (and the
                # fields that hold them are cleared whole anyway).
                if len(value) >= 3 and value not in self.terms:
                    self.terms.append(value)
                    self._pattern = None

    @property
    def pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.terms:
            longest_first = sorted(self.terms, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(t) for t in longest_first), re.IGNORECASE)
        return self._pattern

    def scrub(self, value: Any) -> Any:
        """``value`` (text, or JSON of any depth) with every personal term replaced."""
        if isinstance(value, str):
            pattern = self.pattern
            return pattern.sub(ERASED, value) if pattern is not None else value
        if isinstance(value, dict):
            return {self.scrub(str(k)): self.scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value

    def mentions(self, value: Any) -> bool:
        return self.scrub(value) != value


def scrub_rows(ctx: ErasureContext, queryset: models.QuerySet[Any], fields: Iterable[str]) -> int:
    """Scrub ``fields`` (text or JSON) of every row of ``queryset``; returns rows changed."""
    names = list(fields)
    limits = {
        name: getattr(queryset.model._meta.get_field(name), "max_length", None) for name in names
    }
    changed = 0
    for obj in queryset.only("pk", *names).iterator(chunk_size=500):
        dirty = False
        for name in names:
            old = getattr(obj, name)
            new = ctx.scrub(old)
            limit = limits[name]
            if isinstance(new, str) and limit:
                new = new[:limit]
            if new != old:
                setattr(obj, name, new)
                dirty = True
        if dirty:
            obj.save(update_fields=names)
            changed += 1
    return changed
