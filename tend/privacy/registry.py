"""What each app holds about a customer, and how to export and erase it.

Every app whose models hold personal data registers a ``PrivacyEntry`` in
``AppConfig.ready()`` (``tend/<app>/privacy.py``). ``tend.privacy.actions`` walks the registry
for an export (one file per entry in the ZIP) and for an erasure; it never imports the apps.
``test_every_personal_model_is_in_the_registry`` fails when a model with a foreign key to a
customer or a contact is named by no entry, so a new app cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tend.lib.registry import Registry

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from tend.customers.models import Contact, Customer
    from tend.privacy.scrub import ErasureContext

# What an erasure does to an entry's rows (shown on the erase page, in the README and docs).
DELETE = "delete"  # the rows are removed
ANONYMISE = "anonymise"  # the rows stay, their names, addresses, ids and free text are cleared
KEEP = "keep"  # numbers, dates and codes only: kept with the anonymised customer shell


@dataclass(frozen=True)
class PrivacyEntry:
    # The file stem in the export ZIP ("billing-orders"); unique.
    name: str
    # One sentence for the export's README: what the file holds (translatable).
    description: str | Promise
    # Labels of the models this entry answers for ("billing.Order"): the registry test checks
    # that every model with a customer or contact foreign key appears in some entry.
    models: tuple[str, ...]
    # The rows to export for one customer: plain JSON-able dicts (one CSV column per key).
    export: Callable[[Customer], Iterable[dict[str, Any]]]
    # Remove or anonymise what this entry holds about the customer, inside the erasure's
    # transaction, in ``order``; returns rows removed or anonymised. ``ctx`` carries the
    # Erasure row and the customer's personal values (names, addresses, ids) gathered before
    # any entry ran, for scrubbing free text and JSON.
    erase: Callable[[Customer, ErasureContext], int]
    # The same for one contact (None: the entry holds nothing per contact).
    erase_contact: Callable[[Contact, ErasureContext], int] | None = None
    # How many rows the entry holds for one customer (the erase page's preview).
    count: Callable[[Customer], int] | None = None
    # DELETE, ANONYMISE or KEEP: what an erasure does to the rows (preview, README, docs).
    on_erase: str = DELETE
    # Erasure runs entries in this order (lower first); the customer's own row is last.
    order: int = 100
    # Kept for accounting: anonymised, never deleted (docs/privacy.md says which).
    kept_for_accounting: bool = False
    notes: dict[str, Any] = field(default_factory=dict)


privacy: Registry[PrivacyEntry] = Registry("privacy entry")


def entries() -> list[PrivacyEntry]:
    """Every registered entry in erasure order (then by name)."""
    return sorted(privacy, key=lambda e: (e.order, e.name))
