"""One writer per kind of import: validate a batch of rows, then upsert the good ones in bulk.

Writers never write in a dry run; they still look things up (customers, plans, existing ids)
so a dry run reports exactly what the real run would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Model

from tend.accounts.actions import audit_record_bulk
from tend.accounts.models import User
from tend.billing.ledger import monthly_amount
from tend.billing.models import Interval, Order, OrderStatus, Plan, Subscription, SubscriptionStatus
from tend.changes.actions import change_key, changes_record_bulk
from tend.changes.models import ChangeKind
from tend.customers.actions import (
    customers_change_stage_bulk,
    customers_create_bulk,
    customers_update_bulk,
)
from tend.customers.models import AcquisitionChannel, Contact, Customer, MarketingConsent, Stage
from tend.ingest.imports.reading import Cleaner, Problem
from tend.ingest.imports.values import REASONS as VALUE_REASONS
from tend.ingest.imports.values import ValueMap, new_plan_code
from tend.lib.db import chunks, insert_objects
from tend.lib.updates import update_rows

Row = tuple[int, list[Any]]
# (row number, field, reason code, offending value, the row's cells)
Reject = tuple[int, str, str, str, list[Any]]

LOOKUP_CHUNK = 500
TRAIT_LENGTH = 1_000  # characters of a value kept as a trait
# Rule fields whose value read another way ("Monthly" → month) is noted on the summary.
NOTED_CHOICES = frozenset({"status", "interval", "stage", "kind", "channel"})


def max_length(model: type[Model], name: str) -> int:
    """The most characters ``model.name`` holds, as its field says (0: no limit)."""
    return int(getattr(model._meta.get_field(name), "max_length", None) or 0)


class Writer:
    batch_size = 2_000
    model: type[Model]
    # Report every problem of a refused row (True), or stop at the first one.
    collect_all = False
    # Import field → the model field its cleaned text is stored in: a longer cell is refused
    # (``too_long``) before anything is written, whatever the kind, so no row can fail a batch.
    texts: dict[str, tuple[type[Model], str]] = {}

    def __init__(
        self,
        *,
        index: dict[str, int],
        cleaner: Cleaner,
        dry_run: bool,
        now: datetime,
        columns: int = 0,
    ) -> None:
        self.index = index
        self.columns = columns  # cells in the header row; a row with more filled is refused
        self.limits = {f: max_length(m, name) for f, (m, name) in self.texts.items()}
        self.clean = cleaner
        self.dry_run = dry_run
        self.now = now
        self.created = 0
        self.updated = 0
        self.unchanged = 0
        self.duplicates = 0
        self.affected: dict[int, int] = {}  # customer id → rows of this file
        self.seen: set[str] = set()
        self._customers: dict[str, int] = {}
        # How values of rule fields are read (``imports.values``); set by ``configure``.
        self.values = ValueMap(kind="")
        # Who the rows are written for: the audit rows of the customers' bulk actions.
        self.by: User | None = None
        self.label = "import"
        self.traits: list[tuple[str, int]] = []  # (header, column) kept as traits
        # Row number → the further problems of a refused row: [(field, reason, value)].
        self.more: dict[int, list[tuple[str, str, str]]] = {}
        self._found: list[tuple[str, Problem]] | None = None
        self._ids: list[str] = []

    def configure(self, *, values: ValueMap, by: Any, traits: list[tuple[str, int]]) -> None:
        self.values = values
        self.by = by
        self.traits = traits

    def cell(self, row: list[Any], field: str) -> Any:
        i = self.index.get(field)
        if i is None or i >= len(row):
            return None
        return row[i]

    def has(self, field: str) -> bool:
        return field in self.index

    def required_text(self, row: list[Any], field: str, max_length: int = 0) -> str:
        limit = max_length or self.limits.get(field, 0)
        value = self.field(field, self.clean.text, self.cell(row, field), max_length=limit)
        if not value:
            self.problem(field, Problem("missing_value"))
            return ""
        return value

    def problem(self, field: str, problem: Problem) -> None:
        """Refuse the row for ``problem``; a writer that reports every problem of a row notes
        it (once per field) and goes on reading the row."""
        if self._found is None:
            raise _At(field, problem)
        if all(f != field for f, _p in self._found):
            self._found.append((field, problem))

    def choose(self, row: list[Any], field: str) -> str | None:
        """The value of a rule field (plan, channel, country…) as Tend's own, read through the
        import's value map; None for an empty cell, or with the problem noted."""
        text = self.field(field, self.clean.text, self.cell(row, field))
        if not text:
            return None
        value, how = self.values.read(field, text)
        if how in ("choice", "auto"):
            self.clean.note(field, "mapped_value")
        elif how == "as_is" and value != text and field in NOTED_CHOICES:
            self.clean.note(field, "read_choice")
        if value is None:
            self.problem(field, Problem(VALUE_REASONS[(self.values.kind, field)], text))
        return value

    def trait_values(self, row: list[Any]) -> dict[str, str]:
        """The columns kept as traits: {header: text} for the cells that hold something."""
        traits: dict[str, str] = {}
        for header, i in self.traits:
            value = row[i] if i < len(row) else None
            if value is None or value == "":
                continue
            text = self.field(header, self.clean.text, value, max_length=TRAIT_LENGTH)
            if text:
                traits[header[:100]] = text
        return traits

    def write(self, rows: list[Row]) -> list[Reject]:
        raise NotImplementedError

    def finish(self) -> None:
        """Work that must wait until every row is in (rollups, statistics)."""

    def close(self) -> None:
        """Wait for what ``finish`` left running (statistics on another connection)."""

    def customer_ids(self, refs: Iterable[str]) -> dict[str, int]:
        """External id → customer id for these references, cached across batches."""
        # A reference with a NUL is refused on its own; PostgreSQL could not even look it up.
        missing = sorted({r for r in refs if r and r not in self._customers and "\x00" not in r})
        for chunk in chunks(missing):
            found = Customer.objects.filter(external_id__in=chunk).values_list("external_id", "pk")
            self._customers.update((ext or "", pk) for ext, pk in found)
        return self._customers

    def touch(self, customer_id: int, rows: int = 1) -> None:
        self.affected[customer_id] = self.affected.get(customer_id, 0) + rows

    def parse(
        self, rows: list[Row], fn: Any
    ) -> tuple[list[tuple[int, dict[str, Any]]], list[Reject]]:
        good: list[tuple[int, dict[str, Any]]] = []
        rejects: list[Reject] = []
        for number, row in rows:
            if not any(v is not None and v != "" for v in row):
                continue  # a blank line holds nothing to import or to refuse
            if not self.collect_all:
                try:
                    self.screen(row)
                    good.append((number, fn(row)))
                except _At as exc:
                    rejects.append((number, exc.field, exc.problem.reason, exc.problem.value, row))
                continue
            found: list[tuple[str, Problem]] = []
            self._found, self._ids = found, []
            try:
                self.screen(row)
                rec = fn(row)
            except _At as exc:
                self.problem(exc.field, exc.problem)
            finally:
                self._found = None
            if not found:
                self.seen.update(self._ids)
                good.append((number, rec))
                continue
            (field, first), *others = found
            rejects.append((number, field, first.reason, first.value, row))
            if others:
                self.more[number] = [(f, p.reason, p.value) for f, p in others]
        return good, rejects

    def screen(self, row: list[Any]) -> None:
        """Refuse a row that no database could store as it is: more filled cells than the
        header has columns (a value with an unquoted delimiter shifts the rest), a NUL byte
        in a mapped cell, or text longer than its column."""
        if self.columns and len(row) > self.columns:
            extra = [str(v) for v in row[self.columns :] if v is not None and v != ""]
            if extra:
                raise _At("", Problem("extra_cells", ", ".join(extra)))
        for field, i in self.index.items():
            value = row[i] if i < len(row) else None
            if not isinstance(value, str):
                continue
            if "\x00" in value:
                self.problem(field, Problem("nul_byte", value))
                continue
            limit = self.limits.get(field)
            if limit and len(value) > limit and len(" ".join(value.split())) > limit:
                self.problem(field, Problem("too_long", value))

    def field(self, field: str, fn: Any, *args: Any, **kw: Any) -> Any:
        if self._found is not None and any(f == field for f, _p in self._found):
            return None  # refused already (a NUL, too long): said once
        try:
            return fn(field, *args, **kw)
        except Problem as problem:
            self.problem(field, problem)
            return None

    def unique(self, field: str, value: str) -> None:
        if not value:
            return
        if value in self.seen:
            self.problem(field, Problem("duplicate_in_file", value))
        elif self._found is not None:
            self._ids.append(value)  # taken once the row is accepted
        else:
            self.seen.add(value)

    def customer_ref(self, row: list[Any]) -> str:
        return self.required_text(row, "customer", max_length(Customer, "external_id"))

    def resolve(
        self, good: list[tuple[int, dict[str, Any]]], rows: dict[int, list[Any]]
    ) -> tuple[list[tuple[int, dict[str, Any]]], list[Reject]]:
        """Swap each record's customer reference for the customer id; unknown ones are refused."""
        ids = self.customer_ids(rec["customer"] for _n, rec in good)
        kept, rejects = [], []
        for number, rec in good:
            pk = ids.get(rec["customer"])
            if pk is None:
                rejects.append(
                    (number, "customer", "unknown_customer", rec["customer"], rows[number])
                )
            else:
                rec["customer_id"] = pk
                kept.append((number, rec))
        return kept, rejects

    def apply_changes(
        self,
        new: list[tuple[int, Subscription]],
        changes: list[tuple[int, Subscription, dict[str, Any]]],
        rows: dict[int, list[Any]],
    ) -> tuple[list[Subscription], list[Subscription], set[str], list[Reject]]:
        """Refuse the subscription rows whose MRR has no exchange rate to be counted with,
        then apply the accepted changes to the stored subscriptions (in memory).

        Returns (new subscriptions, changed subscriptions, changed fields, refused rows); the
        refusals name the row's ``currency`` column, the currency and the day (see
        ``billing.bulk.rate_gaps``), so the row can be sent again once a rate is added.
        """
        from tend.billing.bulk import rate_gaps

        pending: list[tuple[int, Subscription]] = list(new)
        for number, sub, diff in changes:
            # The subscription as this row would leave it, without touching the stored one yet.
            after = Subscription(**{f.attname: getattr(sub, f.attname) for f in sub._meta.fields})
            for k, v in diff.items():
                setattr(after, k, v)
            pending.append((number, after))
        gaps = rate_gaps(pending=pending, now=self.now).rows
        refused: list[Reject] = [
            (number, "currency", "no_exchange_rate", error.value, rows[number])
            for number, error in sorted(gaps.items())
        ]
        fields: set[str] = set()
        changed: list[Subscription] = []
        for number, sub, diff in changes:
            if number in gaps:
                continue
            for k, v in diff.items():
                setattr(sub, k, v)
            sub.updated_at = self.now
            fields.update(diff)
            changed.append(sub)
        return [sub for number, sub in new if number not in gaps], changed, fields, refused


def subscriptions_changes_record(
    *,
    created: list[Subscription],
    changed: list[Subscription],
    fields: list[str],
    at: datetime,
) -> None:
    """The outbox rows of a batch of subscriptions written in bulk (an import's), the same
    rows ``subscription_create``/``subscription_update`` write one at a time."""
    from tend.billing.actions import subscription_change_data

    changes_record_bulk(
        [
            *(
                (
                    s.customer_id,
                    ChangeKind.SUBSCRIPTION,
                    f"subscription:{s.pk}:created",
                    subscription_change_data(s, "created", []),
                    s.started_at or at,
                )
                for s in created
            ),
            *(
                (
                    s.customer_id,
                    ChangeKind.SUBSCRIPTION,
                    change_key(
                        ChangeKind.SUBSCRIPTION,
                        s.customer_id,
                        s.pk,
                        at.isoformat(),
                        {name: getattr(s, name) for name in fields},
                    ),
                    subscription_change_data(s, "updated", fields),
                    at,
                )
                for s in changed
            ),
        ]
    )


class SavesSubscriptions(Writer):
    """Shared by the subscription writers (generic and Stripe export)."""

    mrr_changes: dict[int, tuple[Decimal, Decimal]]

    def save_subscriptions(
        self, created: list[Subscription], changed: list[Subscription], fields: Iterable[str]
    ) -> None:
        """Write a batch's new and changed subscriptions, then bring the ledger in step."""
        if created:
            insert_objects(Subscription, created)  # COPY on PostgreSQL
        if changed:
            update_rows(Subscription, [*sorted(fields), "updated_at"], changed)
        subscriptions_changes_record(
            created=created, changed=changed, fields=sorted(fields), at=self.now
        )
        ids = {s.customer_id for s in [*created, *changed]}
        for sub in [*created, *changed]:
            self.touch(sub.customer_id)
        from tend.billing.bulk import customers_mrr_sync_bulk

        # A rule churns at zero MRR, not the person importing: no ``by``, as before.
        synced = customers_mrr_sync_bulk(customer_ids=sorted(ids), now=self.now, label=self.label)
        for pk, (before, after) in synced.items():
            self.mrr_changes[pk] = (self.mrr_changes.get(pk, (before, after))[0], after)
        if ids:
            # The revenue dashboards follow the ledger, as after ``customer_mrr_sync``.
            from tend.metrics.tasks import metrics_refresh_soon

            transaction.on_commit(metrics_refresh_soon)


def fits(model: type[Model], name: str, value: Decimal) -> bool:
    """Whether ``value`` fits the decimal column ``model.name`` (max_digits, decimal_places)."""
    column = model._meta.get_field(name)
    whole = int(getattr(column, "max_digits", 0) or 0) - int(
        getattr(column, "decimal_places", 0) or 0
    )
    return not whole or abs(value) < Decimal(10) ** whole


class _At(Exception):
    def __init__(self, field: str, problem: Problem) -> None:
        super().__init__(field)
        self.field = field
        self.problem = problem


def _choice(
    field: str,
    clean: Cleaner,
    value: Any,
    choices: dict[str, str],
    default: str,
    reason: str = "bad_choice",
) -> str:
    text = clean.text(field, value)
    if not text:
        return default
    key = text.lower().replace("-", "_").replace(" ", "_")
    if key in choices:
        if choices[key] != text:
            clean.note(field, "read_choice")
        return choices[key]
    raise Problem(reason, text)


class Plans:
    def __init__(self) -> None:
        self.by_code: dict[str, Plan] = {p.code: p for p in Plan.objects.all()}

    def find(
        self,
        writer: Writer,
        row: list[Any],
        *,
        price: Decimal | None = None,
        interval: str = "",
        currency: str = "",
    ) -> Plan | None:
        """The row's plan, by code or name through the value map. A value with no plan is
        refused, or, when the import creates missing plans, becomes a plan named as written
        (code slugified) with the row's price and interval, else 0 per month."""
        before = len(writer._found or ())
        code = writer.choose(row, "plan")
        if code is not None:
            plan = self.by_code.get(code) or Plan.objects.filter(code=code).first()
            if plan is None:  # mapped to a plan deleted since
                writer.problem("plan", Problem("unknown_plan", code))
            return plan
        found = writer._found or []
        if not writer.values.create_plans or len(found) == before:
            return None
        if found[-1][1].reason != "unknown_plan":
            return None
        name = str(found.pop()[1].value)  # the unknown plan: created instead
        code = new_plan_code(name)
        plan = self.by_code.get(code)
        if plan is None:
            plan = Plan(
                code=code,
                name=name[:120],
                price=price if price is not None else Decimal("0"),
                interval=interval or Interval.MONTH,
                currency=(currency or settings.TEND_CURRENCY).upper(),
            )
            if not writer.dry_run:
                from tend.billing.actions import plan_upsert

                plan = plan_upsert(
                    code=plan.code,
                    name=plan.name,
                    price=plan.price,
                    interval=plan.interval,
                    currency=plan.currency,
                    by=writer.by,
                    label="import",
                )
            self.by_code[code] = plan
            writer.values.forget("plan")
        writer.clean.note("plan", f"new_plan {plan.code}")
        return plan


# --- customers ----------------------------------------------------------------------------


def channel_find(writer: Writer, row: list[Any]) -> str | None:
    """The row's acquisition channel as one of the founder's channels (``AcquisitionChannel``)
    through the value map; a value with none is refused, or becomes a channel when the
    import creates missing channels."""
    before = len(writer._found or ())
    code = writer.choose(row, "channel")
    if code is not None or not writer.values.create_channels:
        return code
    found = writer._found or []
    if len(found) == before or found[-1][1].reason != "unknown_channel":
        return None
    from tend.customers.channels import channel_code_for, channel_create

    name = str(found.pop()[1].value)[:80]
    code = channel_code_for(name) or "channel_" + new_plan_code(name)[-10:]
    if not writer.dry_run and not AcquisitionChannel.objects.filter(code=code).exists():
        channel_create(code=code, name=name, by=writer.by, label="import")
        writer.values.forget("channel")
    writer.clean.note("channel", f"new_channel {code}")
    return code


class CustomerWriter(Writer):
    model = Customer
    texts = {f: (Customer, f) for f in ("external_id", "name", "email", "phone", "industry")}
    collect_all = True

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.plans = Plans()
        self._owners: dict[str, int] | None = None

    @property
    def owners(self) -> dict[str, int]:
        if self._owners is None:
            from tend.accounts.models import User

            self._owners = dict(User.objects.values_list("username", "pk"))
        return self._owners

    def _record(self, row: list[Any]) -> dict[str, Any]:
        rec: dict[str, Any] = {}
        ext = self.required_text(row, "external_id")
        rec["name"] = self.required_text(row, "name")
        for name in ("phone", "industry"):
            if self.has(name):
                rec[name] = self.field(
                    name, self.clean.text, self.cell(row, name), max_length=self.limits[name]
                )
        if self.has("email"):
            rec["email"] = self.field("email", self.clean.email, self.cell(row, "email"))
        if self.has("size"):
            rec["size"] = self.field("size", self.clean.integer, self.cell(row, "size"))
        if self.has("country"):
            rec["country"] = self.choose(row, "country")
        if self.has("plan"):
            plan = self.plans.find(self, row)
            rec["plan_id"] = plan.pk if plan else None
        if self.has("channel"):
            rec["channel"] = channel_find(self, row)
        if self.has("stage"):
            rec["stage"] = self.choose(row, "stage")
        if self.has("kind"):
            rec["kind"] = self.choose(row, "kind")
        if self.has("owner"):
            owner = self.choose(row, "owner")
            rec["owner_id"] = self.owners.get(owner) if owner else None
        if self.has("birthday"):
            born = self.field("birthday", self.clean.moment, self.cell(row, "birthday"))
            rec["birthday"] = born.date() if born else None
        traits = self.trait_values(row)
        if traits:
            rec["traits"] = traits
        if self.has("acquisition_cost"):
            rec["acquisition_cost"] = self.field(
                "acquisition_cost", self.clean.decimal, self.cell(row, "acquisition_cost")
            )
        if self.has("signed_up_at"):
            rec["signed_up_at"] = self.field(
                "signed_up_at", self.clean.moment, self.cell(row, "signed_up_at")
            )
        self.unique("external_id", ext)
        rec["external_id"] = ext
        # An empty cell keeps what is stored; it never blanks a field.
        return {k: v for k, v in rec.items() if v not in (None, "")}

    def write(self, rows: list[Row]) -> list[Reject]:
        good, rejects = self.parse(rows, self._record)
        existing: dict[str, Customer] = {}
        for chunk in chunks([rec["external_id"] for _n, rec in good]):
            existing.update(
                (c.external_id or "", c) for c in Customer.objects.filter(external_id__in=chunk)
            )
        new: list[Customer] = []
        changed: list[tuple[Customer, dict[str, Any]]] = []
        moved: list[tuple[Customer, str]] = []  # existing customers the row moves to a stage
        owner, stage = self.values.owner_id, self.values.stage
        for _n, rec in good:
            customer = existing.get(rec["external_id"])
            if customer is None:
                if owner and "owner_id" not in rec:
                    rec["owner_id"] = owner
                if stage and "stage" not in rec:
                    rec["stage"] = stage
                if rec.get("stage") == Stage.CHURNED:
                    rec["churned_at"] = self.now
                new.append(Customer(**rec))
                continue
            if "traits" in rec:  # kept traits are added to the stored ones
                rec["traits"] = {**customer.traits, **rec["traits"]}
            if owner and "owner_id" not in rec and customer.owner_id is None:
                rec["owner_id"] = owner
            diff = {k: v for k, v in rec.items() if getattr(customer, k) != v}
            if not diff:
                self.unchanged += 1
                self.touch(customer.pk)
                continue
            self.updated += 1
            if "stage" in diff:
                # A stage move goes through the customers app's stage action (history,
                # timeline, audit, churned_at), not through a plain field update.
                moved.append((customer, diff.pop("stage")))
            if diff:
                changed.append((customer, diff))
        self.created += len(new)
        if self.dry_run:
            return rejects
        # Through the customers app: the stage change, timeline entry and audit row of each.
        customers_create_bulk(customers=new, by=self.by, label=self.label, at=self.now)
        customers_update_bulk(updates=changed, by=self.by, label=self.label, at=self.now)
        for to_stage in sorted({target for _c, target in moved}):
            customers_change_stage_bulk(
                moves=[(c, self.now) for c, target in moved if target == to_stage],
                stage=to_stage,
                by=self.by,
                reason_data={"msg": "import_stage"},
                label=self.label,
            )
        for customer in [*new, *(c for c, _diff in changed), *(c for c, _t in moved)]:
            self.touch(customer.pk)
        return rejects


# --- contacts -----------------------------------------------------------------------------


class ContactWriter(Writer):
    model = Contact
    texts = {
        "customer": (Customer, "external_id"),
        **{f: (Contact, f) for f in ("name", "email", "phone", "title", "external_id")},
    }
    collect_all = True

    def _record(self, row: list[Any]) -> dict[str, Any]:
        rec: dict[str, Any] = {"customer": self.customer_ref(row)}
        rec["name"] = self.required_text(row, "name")
        if self.has("email"):
            rec["email"] = self.field("email", self.clean.email, self.cell(row, "email"))
        for name in ("phone", "title"):
            if self.has(name):
                rec[name] = self.field(
                    name, self.clean.text, self.cell(row, name), max_length=self.limits[name]
                )
        ext = self.field(
            "external_id",
            self.clean.text,
            self.cell(row, "external_id"),
            max_length=self.limits["external_id"],
        )
        if ext:
            self.unique("external_id", ext)
            rec["external_id"] = ext
        traits = self.trait_values(row)
        if traits:
            rec["traits"] = traits
        if self.has("marketing_consent"):
            rec["marketing_consent"] = self.choose(row, "marketing_consent")
        return {k: v for k, v in rec.items() if v not in (None, "")}

    def _consent(self, contact: Contact, rec: dict[str, Any]) -> None:
        """An import's consent is recorded with its source and time; "unknown" never undoes
        a consent given or withdrawn (an old export must not re-open a withdrawn address)."""
        state = rec.pop("marketing_consent", None)
        if state is None or state == contact.marketing_consent:
            return
        if state == MarketingConsent.UNKNOWN and contact.pk is not None:
            return
        self.consents.append((contact, {"marketing_consent": [contact.marketing_consent, state]}))
        rec.update(marketing_consent=state, consent_changed_at=self.now, consent_source="import")

    def write(self, rows: list[Row]) -> list[Reject]:
        self.consents: list[tuple[Contact, dict[str, Any]]] = []
        good, rejects = self.parse(rows, self._record)
        good, unknown = self.resolve(good, dict(rows))
        rejects += unknown
        existing: dict[str, Contact] = {}
        exts = [rec["external_id"] for _n, rec in good if "external_id" in rec]
        for chunk in chunks(exts):
            existing.update(
                (c.external_id or "", c) for c in Contact.objects.filter(external_id__in=chunk)
            )
        with_primary: set[int] = set()
        for chunk in chunks(sorted({rec["customer_id"] for _n, rec in good})):
            with_primary.update(
                Contact.objects.filter(customer_id__in=chunk, is_primary=True).values_list(
                    "customer_id", flat=True
                )
            )
        new: list[Contact] = []
        changed: list[Contact] = []
        fields: set[str] = set()
        for _n, rec in good:
            rec.pop("customer")
            contact = existing.get(rec.get("external_id", ""))
            if contact is None:
                primary = rec["customer_id"] not in with_primary
                with_primary.add(rec["customer_id"])
                made = Contact(is_primary=primary)
                self._consent(made, rec)
                for k, v in rec.items():
                    setattr(made, k, v)
                new.append(made)
                continue
            self._consent(contact, rec)
            if "traits" in rec:
                rec["traits"] = {**contact.traits, **rec["traits"]}
            diff = {k: v for k, v in rec.items() if getattr(contact, k) != v}
            if not diff:
                self.unchanged += 1
                continue
            for k, v in diff.items():
                setattr(contact, k, v)
            fields.update(diff)
            changed.append(contact)
        self.created += len(new)
        self.updated += len(changed)
        if self.dry_run:
            return rejects
        if new:
            Contact.objects.bulk_create(new)
        if changed:
            Contact.objects.bulk_update(changed, sorted(fields))
        if self.consents:
            audit_record_bulk(
                by=self.by, action="contact.consent", rows=self.consents, label=self.label
            )
        for contact in [*new, *changed]:
            self.touch(contact.customer_id)
        return rejects


# --- subscriptions ------------------------------------------------------------------------

STATUSES = {v: v for v in SubscriptionStatus.values} | {
    "cancelled": "canceled",
    "ended": "canceled",
    "expired": "canceled",
    "incomplete_expired": "canceled",
    "trial": "trialing",
    "overdue": "past_due",
    "on_hold": "paused",
    "未完成": "incomplete",
    "待支付": "incomplete",
    "未付款": "unpaid",
    "未支付": "unpaid",
    "暂停": "paused",
    "已暂停": "paused",
    "有效": "active",
    "活跃": "active",
    "正常": "active",
    "试用": "trialing",
    "试用中": "trialing",
    "逾期": "past_due",
    "欠费": "past_due",
    "已取消": "canceled",
    "取消": "canceled",
    "已结束": "canceled",
}
INTERVALS = {v: v for v in Interval.values} | {
    "monthly": "month",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
    "weekly": "week",
    "quarterly": "quarter",
    "月": "month",
    "月付": "month",
    "每月": "month",
    "年": "year",
    "年付": "year",
    "每年": "year",
    "季": "quarter",
    "季付": "quarter",
    "周": "week",
    "每周": "week",
}


class SubscriptionWriter(SavesSubscriptions):
    model = Subscription
    texts = {"external_id": (Subscription, "external_id"), "customer": (Customer, "external_id")}
    collect_all = True

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.plans = Plans()
        # customer id → (MRR before this import, MRR after it), for the timeline entry.
        self.mrr_changes: dict[int, tuple[Decimal, Decimal]] = {}

    def _record(self, row: list[Any]) -> dict[str, Any]:
        ext = self.required_text(row, "external_id")
        rec: dict[str, Any] = {"customer": self.customer_ref(row)}
        status = self.choose(row, "status") or ""
        interval = self.choose(row, "interval") or ""
        quantity = self.field("quantity", self.clean.integer, self.cell(row, "quantity"))
        price = self.field("price", self.clean.decimal, self.cell(row, "price"))
        mrr = self.field("mrr", self.clean.decimal, self.cell(row, "mrr"))
        currency = self.choose(row, "currency") or ""
        plan = self.plans.find(self, row, price=price, interval=interval, currency=currency)
        if plan is not None:
            rec["plan_id"] = plan.pk
        if status:
            rec["status"] = status
        if interval or plan is not None:
            rec["interval"] = interval or (plan.interval if plan else Interval.MONTH)
        if quantity is not None:
            rec["quantity"] = max(quantity, 0)
        if currency or plan is not None:
            rec["currency"] = (currency or (plan.currency if plan else "")).upper()
        if mrr is None:
            base = price if price is not None else (plan.price if plan else None)
            if base is not None:
                mrr = monthly_amount(
                    price=base,
                    quantity=1 if quantity is None else quantity,
                    interval=rec.get("interval", Interval.MONTH),
                )
        if mrr is not None:
            if not fits(Subscription, "mrr", mrr):  # price × quantity beyond what MRR holds
                self.problem("mrr" if self.has("mrr") else "price", Problem("bad_number", mrr))
            rec["mrr"] = mrr
        for name in ("started_at", "current_period_end", "canceled_at"):
            value = self.field(name, self.clean.moment, self.cell(row, name))
            if value is not None:
                rec[name] = value
        self.unique("external_id", ext)
        rec["external_id"] = ext
        return rec

    def write(self, rows: list[Row]) -> list[Reject]:

        good, rejects = self.parse(rows, self._record)
        rows_by = dict(rows)
        good, unknown = self.resolve(good, rows_by)
        rejects += unknown
        existing: dict[str, Subscription] = {}
        for chunk in chunks([rec["external_id"] for _n, rec in good]):
            existing.update(
                (s.external_id or "", s) for s in Subscription.objects.filter(external_id__in=chunk)
            )
        new: list[tuple[int, Subscription]] = []
        changes: list[tuple[int, Subscription, dict[str, Any]]] = []
        for number, rec in good:
            rec.pop("customer")
            sub = existing.get(rec["external_id"])
            if sub is None:
                if "mrr" not in rec:  # a new subscription needs a price to take MRR from
                    column = "price" if self.has("price") else "mrr" if self.has("mrr") else "plan"
                    rejects.append((number, column, "missing_value", "", rows_by[number]))
                    continue
                rec.setdefault("started_at", self.now)
                rec.setdefault("currency", settings.TEND_CURRENCY)
                new.append((number, Subscription(**rec)))
                continue
            diff = {k: v for k, v in rec.items() if getattr(sub, k) != v}
            if not diff:
                self.unchanged += 1
                self.touch(sub.customer_id)
                continue
            changes.append((number, sub, diff))
        accepted, changed, fields, refused = self.apply_changes(new, changes, rows_by)
        rejects += refused
        self.created += len(accepted)
        self.updated += len(changed)
        if self.dry_run:
            return rejects
        self.save_subscriptions(accepted, changed, fields)
        return rejects


# --- orders -------------------------------------------------------------------------------

ORDER_STATUSES = {v: v for v in OrderStatus.values} | {
    "succeeded": "paid",
    "complete": "paid",
    "completed": "paid",
    "已支付": "paid",
    "已付款": "paid",
    "已完成": "paid",
    "refund": "refunded",
    "已退款": "refunded",
    "退款": "refunded",
    "待支付": "pending",
    "未支付": "pending",
    "待付款": "pending",
}


class OrderWriter(Writer):
    model = Order
    texts = {
        "customer": (Customer, "external_id"),
        **{f: (Order, f) for f in ("external_id", "description")},
    }
    collect_all = True

    def _record(self, row: list[Any]) -> dict[str, Any]:
        rec: dict[str, Any] = {"customer": self.customer_ref(row)}
        amount = self.field("amount", self.clean.decimal, self.cell(row, "amount"))
        if amount is None:
            self.problem("amount", Problem("missing_value"))
        ordered_at = self.field("ordered_at", self.clean.moment, self.cell(row, "ordered_at"))
        if ordered_at is None:
            self.problem("ordered_at", Problem("missing_value"))
        currency = self.choose(row, "currency")
        rec.update(
            amount=amount,
            ordered_at=ordered_at,
            currency=(currency or settings.TEND_CURRENCY).upper(),
            status=self.choose(row, "status") or "paid",
            description=self.field(
                "description",
                self.clean.text,
                self.cell(row, "description"),
                max_length=self.limits["description"],
            ),
        )
        ext = self.field(
            "external_id",
            self.clean.text,
            self.cell(row, "external_id"),
            max_length=self.limits["external_id"],
        )
        if ext:
            self.unique("external_id", ext)
            rec["external_id"] = ext
        return rec

    def write(self, rows: list[Row]) -> list[Reject]:
        good, rejects = self.parse(rows, self._record)
        good, unknown = self.resolve(good, dict(rows))
        rejects += unknown
        existing: dict[str, Order] = {}
        exts = [rec["external_id"] for _n, rec in good if "external_id" in rec]
        for chunk in chunks(exts):
            existing.update(
                (o.external_id or "", o) for o in Order.objects.filter(external_id__in=chunk)
            )
        new: list[Order] = []
        changed: list[Order] = []
        fields: set[str] = set()
        for _n, rec in good:
            rec.pop("customer")
            order = existing.get(rec.get("external_id", ""))
            if order is None:
                new.append(Order(**rec))
                continue
            diff = {k: v for k, v in rec.items() if getattr(order, k) != v}
            if not diff:
                self.unchanged += 1
                continue
            for k, v in diff.items():
                setattr(order, k, v)
            fields.update(diff)
            changed.append(order)
        self.created += len(new)
        self.updated += len(changed)
        if self.dry_run:
            return rejects
        if new:
            Order.objects.bulk_create(new)
        if changed:
            Order.objects.bulk_update(changed, sorted(fields))
        from tend.billing.actions import order_change_data

        changes_record_bulk(
            [
                *(
                    (
                        o.customer_id,
                        ChangeKind.ORDER,
                        f"order:{o.pk}",
                        order_change_data(o, "created"),
                        o.ordered_at,
                    )
                    for o in new
                ),
                *(
                    (
                        o.customer_id,
                        ChangeKind.ORDER,
                        change_key(
                            ChangeKind.ORDER,
                            o.customer_id,
                            o.pk,
                            self.now.isoformat(),
                            sorted(fields),
                        ),
                        order_change_data(o, "updated"),
                        self.now,
                    )
                    for o in changed
                ),
            ]
        )
        first_paid: dict[int, datetime] = {}
        for order in [*new, *changed]:
            self.touch(order.customer_id)
            if order.status == OrderStatus.PAID:
                at = first_paid.get(order.customer_id)
                first_paid[order.customer_id] = (
                    order.ordered_at if at is None else min(at, order.ordered_at)
                )
        customers = []
        for chunk in chunks(sorted(first_paid)):
            for customer in Customer.objects.filter(pk__in=chunk, first_paid_at__isnull=True):
                customer.first_paid_at = first_paid[customer.pk]
                customers.append(customer)
        Customer.objects.bulk_update(customers, ["first_paid_at"])
        return rejects
