"""Export everything Tend holds about one customer, and erase a customer or one contact.

Both walk the privacy registry (``tend.privacy.registry``): every app answers for its own
rows, and a new app that holds personal data registers an entry instead of being edited in
here. docs/privacy.md says what each entry exports and what an erasure does to it.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.accounts.audit_context import current_origin
from tend.accounts.models import User
from tend.customers.models import Contact, Customer
from tend.lib.spreadsheet import csv_writer
from tend.privacy.models import Erasure, ErasureKind
from tend.privacy.registry import ANONYMISE, DELETE, KEEP, PrivacyEntry, entries
from tend.privacy.scrub import ErasureContext, email_hash

REFERENCE_LENGTH = 200
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _refuse(field: str, message: str, code: str) -> ValidationError:
    """A refusal naming ``field`` with ``code`` (the REST API reports both)."""
    return ValidationError({field: ValidationError(message, code=code)})


def clean_text(value: Any, *, field: str, limit: int) -> str:
    """A typed field as text: NUL characters and lone surrogates refused (as everywhere in
    Tend's input), with an error naming the field."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _refuse(field, _("Enter text."), "not_text")
    if len(value) > limit:
        raise _refuse(field, _("At most %(limit)d characters.") % {"limit": limit}, "too_long")
    if "\x00" in value:
        raise _refuse(field, _("Remove the NUL characters."), "null_character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse(field, _("The text is not valid Unicode."), "surrogate") from None
    return value.strip()


def clean_reference(value: Any) -> str:
    """The founder's note on an erasure: plain text, and no email address in it (the record
    of an erasure must not hold the data it erased)."""
    reference = clean_text(value, field="reference", limit=REFERENCE_LENGTH)
    if _EMAIL.search(reference):
        raise _refuse(
            "reference",
            _("Leave email addresses out of the reference (a ticket number will do)."),
            "personal_data",
        )
    return reference


def confirmation_matches(typed: Any, name: str) -> bool:
    """Whether the typed confirmation is the name (spaces around and case ignored)."""
    return isinstance(typed, str) and typed.strip().casefold() == name.strip().casefold()


def check_confirmation(typed: Any, name: str) -> None:
    clean_text(typed, field="confirm", limit=1000)
    if not confirmation_matches(typed, name):
        raise _refuse(
            "confirm",
            _("Type the name exactly as shown to confirm: %(name)s") % {"name": name},
            "confirm",
        )


def on_erase_label(entry: PrivacyEntry) -> str:
    return {
        DELETE: _("removed"),
        ANONYMISE: _("anonymised (kept without personal data)"),
        KEEP: _("kept (numbers and dates only)"),
    }.get(entry.on_erase, entry.on_erase)


# --- export --------------------------------------------------------------------------------


def _json(rows: list[dict[str, Any]]) -> str:
    """A JSON list with one row per line (readable, and the C encoder: no ``indent``)."""
    if not rows:
        return "[]\n"
    lines = ",\n".join(json.dumps(row, ensure_ascii=False, default=str) for row in rows)
    return f"[\n{lines}\n]\n"


def _csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV through the formula-safe writer: a name like ``=HYPERLINK(…)`` that a
    customer typed stays text when the export is opened in a spreadsheet."""
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
            for value in (row.get(column, "") for column in columns)
        )
    return out.getvalue()


def customer_export(*, customer: Customer, by: User | None, label: str = "") -> bytes:
    """Everything Tend holds about ``customer`` as a ZIP: ``<entry>.json`` and ``<entry>.csv``
    per registry entry, and a README.txt saying what each file holds, when and by whom it was
    exported. Writes a ``privacy.export`` audit row."""
    at = timezone.now()
    who = label or (by.username if by is not None else "system")
    buffer = io.BytesIO()
    readme = [
        _("Everything Tend holds about customer #%(id)s.") % {"id": customer.pk},
        _("Exported %(at)s (UTC) by %(who)s.")
        % {"at": at.strftime("%Y-%m-%d %H:%M:%S"), "who": who},
        "",
        _(
            "Each part comes as JSON (<name>.json, a list of rows) and CSV (<name>.csv, "
            "one row per line)."
        ),
        "",
    ]
    counts: dict[str, int] = {}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in sorted(entries(), key=lambda e: e.name):
            rows = list(entry.export(customer))
            counts[entry.name] = len(rows)
            archive.writestr(f"{entry.name}.json", _json(rows))
            archive.writestr(f"{entry.name}.csv", _csv(rows))
            readme.append(f"{entry.name}.json / {entry.name}.csv ({len(rows)})")
            readme.append(f"    {entry.description}")
            readme.append("    " + _("On erasure: %(what)s.") % {"what": on_erase_label(entry)})
        archive.writestr("README.txt", "\n".join(readme) + "\n")
    audit_record(
        by=by,
        label=label,
        action="privacy.export",
        obj=customer,
        changes={"files": len(counts) * 2 + 1, "rows": sum(counts.values())},
    )
    return buffer.getvalue()


def export_filename(customer: Customer) -> str:
    return f"tend-customer-{customer.pk}-{timezone.now():%Y%m%d-%H%M%S}.zip"


# --- erasure -------------------------------------------------------------------------------


def erase_preview(customer: Customer) -> list[tuple[PrivacyEntry, int]]:
    """Each entry with how many rows it holds for ``customer`` (the erase page's table)."""
    out = []
    for entry in entries():
        count = (
            entry.count(customer) if entry.count is not None else len(list(entry.export(customer)))
        )
        out.append((entry, count))
    return out


def _leave_hashed_suppressions(emails: list[str]) -> None:
    """The addresses are gone; their sha256 stays on the suppression list so the person is
    never emailed again (tend.customers.consent checks this form on every send)."""
    from django.apps import apps

    suppression = apps.get_model("messaging", "Suppression")
    for email in emails:
        suppression.objects.get_or_create(
            email=email_hash(email), defaults={"reason": "manual", "note": "erased"}
        )


def _erasure_row(
    *, kind: str, subject_id: int, by: User | None, label: str, reference: str
) -> Erasure:
    return Erasure.objects.create(
        kind=kind,
        subject_id=subject_id,
        by=by if by is not None and by.pk else None,
        actor_label=label or (by.username if by is not None else "system"),
        ip=current_origin().ip,
        reference=reference,
    )


@transaction.atomic
def customer_erase(
    *,
    customer: Customer,
    by: User | None,
    label: str = "",
    reference: str = "",
    suppress: bool = True,
) -> Erasure:
    """Erase ``customer`` in one transaction: every registry entry removes or anonymises its
    rows (in ``order``), the customer row becomes an anonymised shell that billing keeps
    pointing at, the audit log keeps who did what and when but not what it said, the
    addresses stay only as hashes on the suppression list (``suppress=False``: not, for
    ``customer_delete`` of a customer added by mistake). Returns the Erasure record."""
    reference = clean_reference(reference)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    erasure = _erasure_row(
        kind=ErasureKind.CUSTOMER, subject_id=customer.pk, by=by, label=label, reference=reference
    )
    ctx = ErasureContext.for_customer(customer, erasure)
    emails = list(ctx.emails)
    counts = {entry.name: int(entry.erase(customer, ctx)) for entry in entries()}
    return _erasure_close(
        erasure, counts, emails if suppress else [], by=by, label=label, customer_id=customer.pk
    )


@transaction.atomic
def contact_erase(
    *, contact: Contact, by: User | None, label: str = "", reference: str = ""
) -> Erasure:
    """Erase one contact: the entries that hold something per contact remove or scrub it,
    the contact row goes, its address stays only as a hash on the suppression list."""
    reference = clean_reference(reference)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    erasure = _erasure_row(
        kind=ErasureKind.CONTACT, subject_id=contact.pk, by=by, label=label, reference=reference
    )
    ctx = ErasureContext.for_contact(contact, erasure)
    emails = list(ctx.emails)
    counts = {
        entry.name: int(entry.erase_contact(contact, ctx))
        for entry in entries()
        if entry.erase_contact is not None
    }
    return _erasure_close(
        erasure, counts, emails, by=by, label=label, customer_id=contact.customer_id
    )


def _erasure_close(
    erasure: Erasure,
    counts: dict[str, int],
    emails: list[str],
    *,
    by: User | None,
    label: str,
    customer_id: int,
) -> Erasure:
    """Leave ``emails`` hashed on the suppression list, record the counts on the erasure and
    its audit row (counts only: nothing erased)."""
    _leave_hashed_suppressions(emails)
    erasure.counts = counts
    erasure.save(update_fields=["counts"])
    audit_record(
        by=by,
        label=label,
        action="privacy.erase",
        obj=erasure,
        changes={"kind": erasure.kind, "rows": sum(counts.values())},
        customer_id=customer_id,
    )
    return erasure


def is_erased(customer: Customer) -> bool:
    return Erasure.objects.filter(kind=ErasureKind.CUSTOMER, subject_id=customer.pk).exists()
