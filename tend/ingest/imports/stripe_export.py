"""Backfill from the Stripe Dashboard's CSV exports (Customers → Export, Subscriptions → Export).

Both kinds run through the ordinary import machinery (``import_file`` / ``import_run``: an
``Import`` row, per-row rejects, dry run, progress, timeline entries in aggregate, the
data-quality counts). What is Stripe's is shared with the webhook app, so the two never
disagree and never duplicate:

- Stripe customer ids become Tend customers through ``webhooks.customers`` (the
  ``StripeCustomer`` link table, the same lookup order), creating the missing ones;
- each export row is turned into the API's subscription object and read by
  ``webhooks.stripe_objects.subscription_terms``, so MRR, plan, interval and status come
  out exactly as a ``customer.subscription.updated`` event would give them;
- subscriptions are upserted by Stripe subscription id (``Subscription.external_id``), the
  key the webhook uses, and the MRR ledger is brought in step by billing's
  ``billing.bulk.customers_mrr_sync_bulk``.

Rows that did not change are not touched, so running the same file again changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from tend.billing.currency import reporting_currency
from tend.billing.models import Plan, Subscription
from tend.changes.actions import change_key, changes_record_bulk
from tend.changes.models import ChangeKind
from tend.customers.models import Customer
from tend.ingest.imports.reading import Problem
from tend.ingest.imports.writers import (
    Reject,
    Row,
    SavesSubscriptions,
    Writer,
    _At,
    _choice,
    fits,
)
from tend.ingest.webhooks.actions import stripe_plan_for
from tend.ingest.webhooks.customers import customer_fields, stripe_customers_link
from tend.ingest.webhooks.stripe_objects import (
    STATUS_MAP,
    SubscriptionTerms,
    export_subscription,
    subscription_terms,
)
from tend.lib.db import chunks

STRIPE_STATUSES = {s: s for s in STATUS_MAP} | {"cancelled": "canceled"}
STRIPE_INTERVALS = {i: i for i in ("day", "week", "month", "year")} | {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
}
SUBSCRIPTION_FIELDS = (
    "status",
    "mrr",
    "currency",
    "interval",
    "quantity",
    "trial_ends_at",
    "current_period_end",
    "canceled_at",
)


def _currency(writer: Writer, row: list[Any]) -> str:
    code = writer.field("currency", writer.clean.code, writer.cell(row, "currency"), 3)
    return code or str(settings.TEND_CURRENCY)


def _merge(hints: dict[str, dict[str, Any]], stripe_id: str, hint: dict[str, Any]) -> None:
    """Several rows may describe one customer: the first non-empty value wins, and the
    earliest date is when the customer signed up."""
    known = hints.setdefault(stripe_id, {})
    for key, value in hint.items():
        if key == "created":
            if value is not None and (known.get("created") is None or value < known["created"]):
                known["created"] = value
        elif value and not known.get(key):
            known[key] = value


# --- customers ----------------------------------------------------------------------------


class StripeCustomerWriter(Writer):
    """Stripe customers export: creates and links the missing customers, updates the rest."""

    model = Customer
    # A new customer takes the Stripe id as its external id (so its limit), and the
    # description as its name when the export has no name.
    texts = {
        "external_id": (Customer, "external_id"),
        "tend_external_id": (Customer, "external_id"),
        **{f: (Customer, f) for f in ("name", "email", "phone")},
    }

    def _record(self, row: list[Any]) -> dict[str, Any]:
        stripe_id = self.required_text(row, "external_id")
        country = self.field("country", self.clean.code, self.cell(row, "country"), 2)
        meta = self.field(
            "tend_external_id",
            self.clean.text,
            self.cell(row, "tend_external_id"),
            max_length=self.limits["tend_external_id"],
        )
        name = self.field(
            "name", self.clean.text, self.cell(row, "name"), max_length=self.limits["name"]
        )
        description = self.field("description", self.clean.text, self.cell(row, "description"))
        if not name and len(description) > self.limits["name"]:
            # Stripe's description names a customer without a name, as the webhook does; a
            # long one is cut to fit, with a warning (a note rather than a name in the export).
            description = description[: self.limits["name"]].rstrip()
            self.clean.flag("description", "cut_to_fit_name")
        hint = {
            "name": name,
            "description": description,
            "email": self.field("email", self.clean.email, self.cell(row, "email")),
            "phone": self.field("phone", self.clean.text, self.cell(row, "phone"), max_length=40),
            "address": {"country": country},
            "metadata": {"tend_external_id": meta} if meta else {},
            "created": self.field("created", self.clean.moment, self.cell(row, "created")),
        }
        self.unique("external_id", stripe_id)
        return {"stripe_id": stripe_id, "hint": hint}

    def write(self, rows: list[Row]) -> list[Reject]:
        good, rejects = self.parse(rows, self._record)
        hints = {rec["stripe_id"]: rec["hint"] for _n, rec in good}
        ids, created = stripe_customers_link(
            hints=hints, at=self.now, dry_run=self.dry_run, by=self.by, label=self.label
        )
        new = set(created)
        self.created += len(new) + sum(1 for pk in ids.values() if pk is None)
        known = {pk: s for s, pk in ids.items() if pk is not None and pk not in new}
        changed: list[Customer] = []
        fields: set[str] = set()
        diffs: dict[int, list[str]] = {}
        for chunk in chunks(sorted(known)):
            for customer in Customer.objects.filter(pk__in=chunk):
                stripe_id = known[customer.pk]
                update = customer_fields(hints[stripe_id])
                if customer.traits.get("stripe_customer_id") != stripe_id:
                    update["traits"] = {**customer.traits, "stripe_customer_id": stripe_id}
                diff = {k: v for k, v in update.items() if getattr(customer, k) != v}
                if not diff:
                    self.unchanged += 1
                    continue
                for k, v in diff.items():
                    setattr(customer, k, v)
                customer.updated_at = self.now
                fields.update(diff)
                diffs[customer.pk] = sorted(diff)
                changed.append(customer)
        self.updated += len(changed)
        if self.dry_run:
            return rejects
        if changed:
            Customer.objects.bulk_update(changed, [*sorted(fields), "updated_at"])
            changes_record_bulk(
                (
                    c.pk,
                    ChangeKind.FIELDS,
                    change_key(ChangeKind.FIELDS, c.pk, self.now.isoformat(), diffs[c.pk]),
                    {"fields": diffs[c.pk], "by": self.by.pk if self.by else None},
                    self.now,
                )
                for c in changed
            )
        for pk in [*new, *(c.pk for c in changed)]:
            self.touch(pk)
        return rejects


# --- subscriptions ------------------------------------------------------------------------


class StripeSubscriptionWriter(SavesSubscriptions):
    """Stripe subscriptions export: upserts by subscription id, with the webhook's MRR."""

    model = Subscription
    texts = {
        "external_id": (Subscription, "external_id"),
        "customer": (Customer, "external_id"),
        "customer_name": (Customer, "name"),
        "customer_email": (Customer, "email"),
        "tend_external_id": (Customer, "external_id"),
        "plan": (Plan, "code"),
        "plan_name": (Plan, "name"),
        "product": (Plan, "name"),
    }

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.links: dict[str, int | None] = {}  # Stripe customer id → customer id, for the run
        self.plans: dict[str, Plan | None] = {}  # Stripe price id → plan, for the run
        # customer id → (MRR before this import, MRR after it), for the timeline entry.
        self.mrr_changes: dict[int, tuple[Decimal, Decimal]] = {}

    def _moment(self, row: list[Any], name: str) -> datetime | None:
        value: datetime | None = self.field(name, self.clean.moment, self.cell(row, name))
        return value

    def _record(self, row: list[Any]) -> dict[str, Any]:
        sub_id = self.required_text(row, "external_id")
        customer = self.required_text(row, "customer")
        status = self.field(
            "status",
            _choice,
            self.clean,
            self.cell(row, "status"),
            STRIPE_STATUSES,
            "",
            "bad_stripe_status",
        )
        if not status:
            raise _At("status", Problem("missing_value"))
        amount = self.field("amount", self.clean.decimal, self.cell(row, "amount"))
        if amount is None:
            raise _At("amount", Problem("missing_value"))
        interval = self.field(
            "interval",
            _choice,
            self.clean,
            self.cell(row, "interval"),
            STRIPE_INTERVALS,
            "",
            "bad_stripe_interval",
        )
        if not interval:
            raise _At("interval", Problem("missing_value"))
        count = self.field("interval_count", self.clean.integer, self.cell(row, "interval_count"))
        if count is not None and count < 1:
            raise _At("interval_count", Problem("bad_number", count))
        quantity = self.field("quantity", self.clean.integer, self.cell(row, "quantity"))
        currency = _currency(self, row)
        percent_off = self.field("percent_off", self.clean.decimal, self.cell(row, "percent_off"))
        if percent_off is not None and percent_off > 100:
            raise _At("percent_off", Problem("bad_number", percent_off))
        amount_off = self.field("amount_off", self.clean.decimal, self.cell(row, "amount_off"))
        created = self._moment(row, "created")
        started = self._moment(row, "started_at")
        obj = export_subscription(
            sub_id=sub_id,
            customer=customer,
            status=status,
            amount=amount,
            currency=currency,
            interval=interval,
            interval_count=count or 1,
            quantity=1 if quantity is None else quantity,
            price_id=self.field(
                "plan", self.clean.text, self.cell(row, "plan"), max_length=self.limits["plan"]
            ),
            price_name=self.field("plan_name", self.clean.text, self.cell(row, "plan_name")),
            product=self.field("product", self.clean.text, self.cell(row, "product")),
            percent_off=percent_off,
            amount_off=amount_off,
            created=created,
            start_date=started,
            trial_end=self._moment(row, "trial_ends_at"),
            current_period_end=self._moment(row, "current_period_end"),
            canceled_at=self._moment(row, "canceled_at"),
            ended_at=self._moment(row, "ended_at"),
        )
        meta = self.field(
            "tend_external_id",
            self.clean.text,
            self.cell(row, "tend_external_id"),
            max_length=self.limits["tend_external_id"],
        )
        hint = {
            "name": self.field(
                "customer_name",
                self.clean.text,
                self.cell(row, "customer_name"),
                max_length=self.limits["customer_name"],
            ),
            "email": self.field(
                "customer_email", self.clean.email, self.cell(row, "customer_email")
            ),
            "metadata": {"tend_external_id": meta} if meta else {},
            "created": started or created,
        }
        self.unique("external_id", sub_id)
        terms = subscription_terms(obj, at=self.now)
        if not fits(Subscription, "mrr", terms.mrr) or not fits(Plan, "price", amount):
            raise _At("amount", Problem("bad_number", amount))
        # Without a price or product id the webhook would file it under a catch-all "stripe"
        # plan; a backfill leaves the plan empty instead and the first event sets it.
        price = obj["items"]["data"][0]["price"]
        priced = bool(price["id"] or price["product"]["id"])
        # A subscription that ended without ever being paid for (its first payment expired,
        # or it was canceled before its trial ran out) brought in nothing. Its MRR is kept at
        # zero so the ledger's replay of a backfill does not show it as new MRR and churn.
        ended = terms.canceled_at
        never_paid = status == "incomplete_expired" or (
            ended is not None and terms.trial_ends_at is not None and ended <= terms.trial_ends_at
        )
        return {
            "sub_id": sub_id,
            "customer": customer,
            "terms": terms,
            "hint": hint,
            "priced": priced,
            "never_paid": never_paid,
        }

    def _link_customers(self, good: list[tuple[int, dict[str, Any]]]) -> None:
        hints: dict[str, dict[str, Any]] = {}
        for _n, rec in good:
            if rec["customer"] not in self.links:
                _merge(hints, rec["customer"], rec["hint"])
        if hints:
            ids, _created = stripe_customers_link(
                hints=hints, at=self.now, dry_run=self.dry_run, by=self.by, label=self.label
            )
            self.links.update(ids)

    def _refuse_before_linking(
        self, good: list[tuple[int, dict[str, Any]]], rows: dict[int, list[Any]]
    ) -> tuple[list[tuple[int, dict[str, Any]]], list[Reject]]:
        """Refuse the rows in another currency that no rate covers, for customers this file
        would create, before they are created: a refused row creates no customer. (Rows of
        known customers are checked with the stored subscriptions in ``apply_changes``.)"""
        from tend.billing.bulk import rate_gaps

        reporting = reporting_currency()
        foreign = [
            (n, rec)
            for n, rec in good
            if rec["terms"].currency.upper() != reporting and not rec["never_paid"]
        ]
        if not foreign:
            return good, []
        hints: dict[str, dict[str, Any]] = {}
        for _n, rec in foreign:
            if rec["customer"] not in self.links:
                _merge(hints, rec["customer"], rec["hint"])
        known = {**stripe_customers_link(hints=hints, at=self.now, dry_run=True)[0], **self.links}
        pending = [
            (
                n,
                Subscription(
                    external_id=rec["sub_id"],
                    started_at=rec["terms"].started_at or self.now,
                    **{name: getattr(rec["terms"], name) for name in SUBSCRIPTION_FIELDS},
                ),
            )
            for n, rec in foreign
            if known.get(rec["customer"]) is None
        ]
        gaps = rate_gaps(pending=pending, now=self.now).rows
        refused: list[Reject] = [
            (n, "currency", "no_exchange_rate", error.value, rows[n])
            for n, error in sorted(gaps.items())
        ]
        return [(n, rec) for n, rec in good if n not in gaps], refused

    def _plan(self, terms: SubscriptionTerms, priced: bool) -> Plan | None:
        if terms.plan is None or not priced:
            return None
        code = terms.plan.code
        if code not in self.plans:
            if self.dry_run:
                self.plans[code] = Plan.objects.filter(code=code).first()
            else:
                self.plans[code] = stripe_plan_for(terms.plan)
        return self.plans[code]

    def write(self, rows: list[Row]) -> list[Reject]:

        good, rejects = self.parse(rows, self._record)
        good, refused_early = self._refuse_before_linking(good, dict(rows))
        rejects += refused_early
        self._link_customers(good)
        existing: dict[str, Subscription] = {}
        for chunk in chunks([rec["sub_id"] for _n, rec in good]):
            existing.update(
                (s.external_id or "", s) for s in Subscription.objects.filter(external_id__in=chunk)
            )
        new: list[tuple[int, Subscription]] = []
        changes: list[tuple[int, Subscription, dict[str, Any]]] = []
        for number, rec in good:
            terms: SubscriptionTerms = rec["terms"]
            values: dict[str, Any] = {name: getattr(terms, name) for name in SUBSCRIPTION_FIELDS}
            if rec["never_paid"]:
                values["mrr"] = Decimal("0.00")
            plan = self._plan(terms, rec["priced"])
            if plan is not None:
                values["plan_id"] = plan.pk
            sub = existing.get(rec["sub_id"])
            if sub is None:
                # customer_id is None only in a dry run, for a customer it would create.
                new.append(
                    (
                        number,
                        Subscription(
                            customer_id=self.links.get(rec["customer"]),  # type: ignore[misc]
                            external_id=rec["sub_id"],
                            started_at=terms.started_at or self.now,
                            created_at=self.now,
                            updated_at=self.now,
                            **values,
                        ),
                    )
                )
                continue
            # As the webhook does: the start date and the customer of a known subscription
            # stay as they are.
            diff = {k: v for k, v in values.items() if getattr(sub, k) != v}
            if not diff:
                self.unchanged += 1
                continue
            changes.append((number, sub, diff))
        accepted, changed, fields, refused = self.apply_changes(new, changes, dict(rows))
        rejects += refused
        self.created += len(accepted)
        new_subs = [sub for sub in accepted if sub.customer_id is not None]
        self.updated += len(changed)
        if self.dry_run:
            return rejects
        self.save_subscriptions(new_subs, changed, fields)
        return rejects
