"""Writes for plans, subscriptions, orders and the MRR ledger.

Every subscription change ends in ``customer_mrr_sync``, which derives the MRR movement, so
the ledger always sums to the customers' current MRR; subscriptions loaded in bulk (imports,
Stripe backfills) end in ``billing.bulk.customers_mrr_sync_bulk`` instead. Billing is the only
writer of the ledger, and ``customers_churn_at_zero_mrr`` the only place MRR reaching zero
churns a customer. MRR in another currency
is converted into the reporting currency with the stored exchange rates
(``tend.billing.currency``); when no rate covers the day, the change is refused with
``CurrencyError`` and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.billing.currency import CurrencyError as CurrencyError
from tend.billing.currency import RateBook, reporting_currency
from tend.billing.currency import to_reporting as to_reporting
from tend.billing.ledger import CENT, classify, monthly_amount
from tend.billing.models import (
    MRR_STATUSES,
    ExchangeRate,
    Interval,
    MrrMovement,
    Order,
    OrderStatus,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from tend.changes.actions import change_key, change_record
from tend.changes.models import ChangeKind
from tend.customers.actions import customers_change_stage_bulk, timeline_add
from tend.customers.models import Customer, Stage, TimelineKind

SUBSCRIPTION_FIELDS = frozenset(
    {
        "plan",
        "external_id",
        "status",
        "mrr",
        "currency",
        "interval",
        "quantity",
        "started_at",
        "trial_ends_at",
        "current_period_end",
        "canceled_at",
    }
)


@transaction.atomic
def plan_upsert(
    *,
    code: str,
    name: str,
    price: Decimal,
    interval: str = "month",
    currency: str | None = None,
    by: User | None = None,
    label: str = "",
) -> Plan:
    """Create a plan or update the one with this code."""
    plan, created = Plan.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "price": price,
            "interval": interval,
            "currency": currency or settings.TEND_CURRENCY,
        },
    )
    audit_record(
        by=by,
        label=label,
        action="plan.create" if created else "plan.update",
        obj=plan,
        changes={"price": price, "interval": interval},
    )
    return plan


# The price column: 10 digits before the point, 2 after (``max_digits=12, decimal_places=2``).
MAX_PRICE = Decimal("9999999999.99")
PLAN_FIELDS = ("code", "name", "price", "interval", "currency")


def _plan_errors(values: dict[str, Any], *, plan: Plan | None = None) -> dict[str, list[Any]]:
    """Every problem with a plan's values at once, each under its field (a taken code with
    the code ``unique``, which the API answers with 409)."""
    errors: dict[str, list[Any]] = {}
    code = values["code"]
    if not code:
        errors["code"] = [_("Give the plan a code, such as “pro-monthly”.")]
    elif len(code) > 60 or not re.fullmatch(r"[-a-zA-Z0-9_]+", code):
        errors["code"] = [
            _(
                "A code has at most 60 letters (a–z), digits, hyphens and underscores; "
                "“%(value)s” is not one."
            )
            % {"value": code}
        ]
    elif Plan.objects.filter(code=code).exclude(pk=plan.pk if plan else 0).exists():
        errors["code"] = [
            ValidationError(
                _("Another plan has the code “%(value)s”.") % {"value": code}, code="unique"
            )
        ]
    name = values["name"]
    if not name:
        errors["name"] = [_("Give the plan a name.")]
    elif len(name) > 120:
        errors["name"] = [_("A name has at most 120 characters.")]
    price = values["price"]
    if price is None or not price.is_finite():
        errors["price"] = [_("Give the price as a number, such as 49 or 49.90.")]
    elif price < 0:
        errors["price"] = [_("A price cannot be negative.")]
    elif price > MAX_PRICE:
        errors["price"] = [_("A price is at most 9,999,999,999.99.")]
    elif price != price.quantize(CENT):
        errors["price"] = [_("A price has at most two decimal places.")]
    if values["interval"] not in Interval.values:
        errors["interval"] = [
            _("Choose the billing interval: %(choices)s.") % {"choices": ", ".join(Interval.values)}
        ]
    currency = values["currency"]
    if (
        not re.fullmatch(r"[A-Z]{3}", currency)
        or pycountry.currencies.get(alpha_3=currency) is None
    ):
        errors["currency"] = [
            _("“%(value)s” is not an ISO 4217 currency code, such as USD or EUR.")
            % {"value": currency}
        ]
    return errors


def _plan_values(
    *, code: Any, name: Any, price: Any, interval: Any, currency: Any
) -> dict[str, Any]:
    """The values as the plan stores them: text trimmed, code as given, currency in capitals."""
    try:
        number: Decimal | None = Decimal(str(price).strip()) if price is not None else None
    except (InvalidOperation, ValueError):
        number = None
    return {
        "code": str(code or "").strip(),
        "name": str(name or "").strip(),
        "price": number,
        "interval": str(interval or "").strip(),
        "currency": str(currency or "").strip().upper(),
    }


def _plan_save(plan: Plan, fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            plan.save(update_fields=fields)
    except IntegrityError:
        # Another writer took the code between the check and the save.
        taken = _("Another plan has the code “%(value)s”.") % {"value": plan.code}
        raise ValidationError({"code": [ValidationError(taken, code="unique")]}) from None


@transaction.atomic
def plan_create(
    *,
    code: str,
    name: str,
    price: Decimal | str,
    interval: str = Interval.MONTH,
    currency: str | None = None,
    by: User | None,
    label: str = "",
) -> Plan:
    """Offer a new plan. Raises ValidationError naming every field at fault at once (a code
    that is taken or not a slug, a negative or too precise price, an unknown interval or a
    currency that is not ISO 4217)."""
    values = _plan_values(
        code=code,
        name=name,
        price=price,
        interval=interval,
        currency=currency or settings.TEND_CURRENCY,
    )
    errors = _plan_errors(values)
    if errors:
        raise ValidationError(errors)
    values["price"] = values["price"].quantize(CENT)
    plan = Plan(**values, is_active=True)
    _plan_save(plan)
    audit_record(by=by, label=label, action="plan.create", obj=plan, changes=values)
    return plan


@transaction.atomic
def plan_update(*, plan: Plan, by: User | None, label: str = "", **changes: Any) -> Plan:
    """Change a plan's code, name, price, interval or currency (only those given). Existing
    subscriptions keep their own price and MRR; the new values apply to what is added later.
    Raises ValidationError naming every field at fault at once."""
    unknown = set(changes) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"plan_update() got unknown fields: {sorted(unknown)}")
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    current = {field: getattr(plan, field) for field in PLAN_FIELDS}
    values = _plan_values(**{**current, **changes})
    errors = _plan_errors(values, plan=plan)
    if errors:
        raise ValidationError(errors)
    values["price"] = values["price"].quantize(CENT)
    diff = {f: (current[f], values[f]) for f in PLAN_FIELDS if current[f] != values[f]}
    if not diff:
        return plan
    for field in diff:
        setattr(plan, field, values[field])
    _plan_save(plan, list(diff))
    audit_record(by=by, label=label, action="plan.update", obj=plan, changes=diff)
    return plan


@transaction.atomic
def plan_archive(*, plan: Plan, by: User | None, label: str = "") -> Plan:
    """Stop offering a plan: it leaves ``Plan.objects.offered()`` (the pickers for new customers
    and subscriptions); customers, subscriptions and imports that name it keep it."""
    return _plan_set_offered(plan=plan, offered=False, by=by, label=label)


@transaction.atomic
def plan_restore(*, plan: Plan, by: User | None, label: str = "") -> Plan:
    """Offer an archived plan again."""
    return _plan_set_offered(plan=plan, offered=True, by=by, label=label)


def _plan_set_offered(*, plan: Plan, offered: bool, by: User | None, label: str) -> Plan:
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.is_active == offered:
        return plan
    plan.is_active = offered
    plan.save(update_fields=["is_active"])
    audit_record(
        by=by,
        label=label,
        action="plan.restore" if offered else "plan.archive",
        obj=plan,
        changes={"is_active": (not offered, offered)},
    )
    return plan


@transaction.atomic
def customer_mrr_sync(
    *,
    customer: Customer,
    at: datetime | None = None,
    subscription: Subscription | None = None,
    by: User | None = None,
) -> MrrMovement | None:
    """Recompute a customer's MRR from its subscriptions and record the movement, if any.

    Each live subscription's MRR is converted into the reporting currency with the rate in
    force on ``at``'s day (``to_reporting``: rounded to the cent) before they are added up, so
    the movement and ``Customer.mrr`` are in ``TEND_CURRENCY``. When a rate is missing this
    raises CurrencyError before writing anything, and the calling action rolls back.

    Also keeps the customer's first-paid and churned dates and the paying plan in step.
    """
    at = at or timezone.now()
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    live = list(
        Subscription.objects.filter(customer=customer, status__in=MRR_STATUSES).order_by("pk")
    )
    book = RateBook.load({sub.currency for sub in live})
    converted = [(book.convert(sub.mrr, sub.currency, at), sub) for sub in live]
    after = sum((amount for amount, _sub in converted), Decimal(0)).quantize(CENT)
    before = customer.mrr
    had_mrr = MrrMovement.objects.filter(customer=customer).exists()
    kind = classify(before=before, after=after, had_mrr_before=had_mrr)
    if kind is None:
        return None
    movement = MrrMovement.objects.create(
        customer=customer,
        subscription=subscription,
        at=at,
        kind=kind,
        amount=after - before,
        mrr_before=before,
        mrr_after=after,
        currency=reporting_currency(),
    )
    # The revenue dashboards' snapshots follow the ledger: one debounced refresh per burst.
    from tend.metrics.tasks import metrics_refresh_soon

    transaction.on_commit(metrics_refresh_soon)
    customer.mrr = after
    fields = ["mrr", "updated_at"]
    if after > 0 and customer.first_paid_at is None:
        customer.first_paid_at = at
        fields.append("first_paid_at")
    top = max(converted, key=lambda pair: pair[0], default=(None, None))[1]
    if top is not None and top.plan_id and customer.plan_id != top.plan_id:
        customer.plan_id = top.plan_id
        fields.append("plan")
    customer.updated_at = timezone.now()
    customer.save(update_fields=fields)
    change_record(
        customer_id=customer.pk,
        kind=ChangeKind.MRR,
        key=f"mrr:{movement.pk}",
        data=mrr_change_data(movement),
        at=at,
    )
    if kind == "churn":
        customers_churn_at_zero_mrr(moves=[(customer, at)], by=by)
    timeline_add(
        customer=customer,
        kind=TimelineKind.SUBSCRIPTION,
        by=by,
        at=at,
        data={
            "msg": "mrr_changed",
            "kind": kind,
            "before": str(before),
            "after": str(after),
            "currency": reporting_currency(),
        },
    )
    return movement


def mrr_change_data(movement: MrrMovement) -> dict[str, Any]:
    """What an "mrr" outbox row carries (one per ledger movement)."""
    return {
        "kind": movement.kind,
        "before": str(movement.mrr_before),
        "after": str(movement.mrr_after),
        "amount": str(movement.amount),
        "currency": movement.currency,
        "subscription": movement.subscription_id,
    }


def subscription_change_data(
    sub: Subscription, action: str, fields: Iterable[str]
) -> dict[str, Any]:
    """What a "subscription" outbox row carries."""
    return {
        "action": action,
        "subscription": sub.pk,
        "status": sub.status,
        "mrr": str(sub.mrr),
        "fields": sorted(fields),
    }


# Why the system churned a customer, as a message id (tend.customers.timeline.stage_reason).
ZERO_MRR_REASON = {"msg": "mrr_zero"}


def customers_churn_at_zero_mrr(
    *, moves: Sequence[tuple[Customer, datetime]], by: User | None, label: str = ""
) -> None:
    """MRR reached zero ⇒ churned, at the moment it did: the one place this rule is written,
    for one customer (``customer_mrr_sync``) and many (``billing.bulk``). Customers already
    churned stay as they are."""
    customers_change_stage_bulk(
        moves=[(c, at) for c, at in moves if c.stage != Stage.CHURNED],
        stage=Stage.CHURNED,
        by=by,
        reason_data=ZERO_MRR_REASON,
        label=label,
    )


@transaction.atomic
def subscription_create(
    *,
    customer: Customer,
    by: User | None,
    plan: Plan | None = None,
    mrr: Decimal | None = None,
    at: datetime | None = None,
    label: str = "",
    **fields: Any,
) -> Subscription:
    """Start a subscription. MRR defaults to the plan's price × quantity per month."""
    unknown = set(fields) - SUBSCRIPTION_FIELDS
    if unknown:
        raise ValueError(f"not a subscription field: {', '.join(sorted(unknown))}")
    at = at or fields.get("started_at") or timezone.now()
    if mrr is None:
        if plan is None:
            raise ValueError("mrr: give an MRR or a plan to take it from")
        mrr = monthly_amount(
            price=plan.price, quantity=fields.get("quantity", 1), interval=plan.interval
        )
        fields.setdefault("interval", plan.interval)
        fields.setdefault("currency", plan.currency)
    if mrr < 0:
        raise ValueError("mrr cannot be negative")
    fields.setdefault("started_at", at)
    sub = Subscription.objects.create(customer=customer, plan=plan, mrr=mrr, **fields)
    change_record(
        customer_id=customer.pk,
        kind=ChangeKind.SUBSCRIPTION,
        key=f"subscription:{sub.pk}:created",
        data=subscription_change_data(sub, "created", []),
        at=at,
    )
    audit_record(
        by=by,
        label=label,
        action="subscription.create",
        obj=sub,
        changes={"mrr": mrr, "plan": plan},
    )
    customer_mrr_sync(customer=customer, at=at, subscription=sub, by=by)
    return sub


@transaction.atomic
def subscription_update(
    *,
    subscription: Subscription,
    by: User | None,
    at: datetime | None = None,
    label: str = "",
    **fields: Any,
) -> Subscription:
    """Change a subscription (plan, quantity, MRR, status…) and record the MRR movement."""
    unknown = set(fields) - SUBSCRIPTION_FIELDS
    if unknown:
        raise ValueError(f"not a subscription field: {', '.join(sorted(unknown))}")
    if "mrr" in fields and fields["mrr"] < 0:
        raise ValueError("mrr cannot be negative")
    at = at or timezone.now()
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        if getattr(subscription, name) != value:
            changes[name] = (getattr(subscription, name), value)
            setattr(subscription, name, value)
    if not changes:
        return subscription
    subscription.updated_at = timezone.now()
    subscription.save(update_fields=[*changes, "updated_at"])
    action = (
        "canceled"
        if changes.get("status", (None, None))[1] == SubscriptionStatus.CANCELED
        else "updated"
    )
    change_record(
        customer_id=subscription.customer_id,
        kind=ChangeKind.SUBSCRIPTION,
        key=change_key(
            ChangeKind.SUBSCRIPTION,
            subscription.customer_id,
            subscription.pk,
            at.isoformat(),
            {name: new for name, (_old, new) in changes.items()},
        ),
        data=subscription_change_data(subscription, action, changes),
        at=at,
    )
    audit_record(
        by=by, label=label, action="subscription.update", obj=subscription, changes=changes
    )
    customer_mrr_sync(customer=subscription.customer, at=at, subscription=subscription, by=by)
    return subscription


def subscription_cancel(
    *, subscription: Subscription, by: User | None, at: datetime | None = None, label: str = ""
) -> Subscription:
    """End a subscription now (or at ``at``); its MRR leaves the customer's total."""
    at = at or timezone.now()
    return subscription_update(
        subscription=subscription,
        by=by,
        at=at,
        label=label,
        status=SubscriptionStatus.CANCELED,
        canceled_at=at,
    )


def order_change_data(order: Order, action: str) -> dict[str, Any]:
    """What an "order" outbox row carries."""
    return {
        "action": action,
        "order": order.pk,
        "status": order.status,
        "amount": str(order.amount),
        "refunded": str(order.refunded_amount),
        "currency": order.currency,
    }


@transaction.atomic
def order_create(
    *,
    customer: Customer,
    by: User | None,
    amount: Decimal,
    at: datetime | None = None,
    currency: str | None = None,
    label: str = "",
    **fields: Any,
) -> Order:
    """Record a one-off purchase and put it on the customer's timeline."""
    if amount < 0:
        raise ValueError("amount cannot be negative")
    at = at or timezone.now()
    order = Order.objects.create(
        customer=customer,
        amount=amount,
        ordered_at=at,
        currency=currency or settings.TEND_CURRENCY,
        **fields,
    )
    change_record(
        customer_id=customer.pk,
        kind=ChangeKind.ORDER,
        key=f"order:{order.pk}",
        data=order_change_data(order, "created"),
        at=at,
    )
    if order.status == OrderStatus.PAID and customer.first_paid_at is None:
        Customer.objects.filter(pk=customer.pk, first_paid_at__isnull=True).update(first_paid_at=at)
    timeline_add(
        customer=customer,
        kind=TimelineKind.ORDER,
        by=by,
        at=at,
        data={"msg": "order_placed", "amount": str(amount), "currency": order.currency},
    )
    audit_record(by=by, label=label, action="order.create", obj=order, changes={"amount": amount})
    return order


@transaction.atomic
def order_refund(
    *,
    order: Order,
    by: User | None,
    amount: Decimal | None = None,
    at: datetime | None = None,
    label: str = "",
    note: dict[str, Any] | None = None,
) -> Order:
    """Pay back ``amount`` of a paid order (all that is left when None).

    Refunds add up in ``refunded_amount``; once the whole amount is paid back the order is
    ``refunded``, before that it stays ``paid``. ``note`` adds details (a Stripe charge id…)
    to the timeline entry. Raises ValueError naming the problem: an order that is not paid,
    a refund of zero or less, or more than is left to refund.
    """
    at = at or timezone.now()
    order = Order.objects.select_for_update().select_related("customer").get(pk=order.pk)
    if order.status != OrderStatus.PAID:
        raise ValueError(f"status: only paid orders can be refunded; this one is {order.status}")
    left = order.amount - order.refunded_amount
    refund = left if amount is None else Decimal(amount).quantize(CENT)
    if refund <= 0:
        raise ValueError("amount: a refund must be more than zero")
    if refund > left:
        raise ValueError(
            f"amount: {refund} is more than the {left} {order.currency} left to refund"
        )
    before = (order.refunded_amount, order.status)
    order.refunded_amount += refund
    full = order.refunded_amount == order.amount
    if full:
        order.status = OrderStatus.REFUNDED
    order.save(update_fields=["refunded_amount", "status"])
    # The refunded total only grows, so it names this refund: a retry finds nothing left.
    change_record(
        customer_id=order.customer_id,
        kind=ChangeKind.ORDER,
        key=f"order:{order.pk}:refunded:{order.refunded_amount}",
        data=order_change_data(order, "refunded"),
        at=at,
    )
    sentence = "Refund" if full else "Partial refund"
    timeline_add(
        customer=order.customer,
        kind=TimelineKind.ORDER,
        by=by,
        at=at,
        title=f"{sentence}: {refund} {order.currency}",
        data={
            **(note or {}),
            "msg": "order_refunded",
            "order": order.pk,
            "amount": str(refund),
            "refunded": str(order.refunded_amount),
            "currency": order.currency,
            "full": full,
        },
    )
    audit_record(
        by=by,
        label=label,
        action="order.refund",
        obj=order,
        changes={
            "refunded_amount": (before[0], order.refunded_amount),
            **({"status": (before[1], order.status)} if full else {}),
        },
    )
    return order


# --- exchange rates -------------------------------------------------------------------------


def _rate_errors(*, currency: Any, rate: Any, valid_from: Any) -> dict[str, list[str]]:
    """Every problem with the three values at once, each under its field."""
    errors: dict[str, list[str]] = {}
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if not code:
        errors["currency"] = [_("Give a three-letter currency code, such as EUR.")]
    elif not re.fullmatch(r"[A-Z]{3}", code):
        errors["currency"] = [
            _("“%(value)s” is not a three-letter ISO 4217 currency code, such as EUR.")
            % {"value": currency}
        ]
    elif code == reporting_currency():
        errors["currency"] = [
            _("%(currency)s is the reporting currency (TEND_CURRENCY): it never needs a rate.")
            % {"currency": code}
        ]
    if not isinstance(valid_from, date) or isinstance(valid_from, datetime):
        errors["valid_from"] = [_("Give the first day the rate applies, as 2026-01-01.")]
    try:
        number = Decimal(str(rate).strip())
    except (InvalidOperation, ValueError):
        number = Decimal("NaN")
    if not number.is_finite():
        errors["rate"] = [_("“%(value)s” is not a number.") % {"value": rate}]
    elif number <= 0:
        errors["rate"] = [_("A rate must be more than zero (for example 1.08).")]
    return errors


@transaction.atomic
def exchange_rate_set(
    *,
    currency: str,
    rate: Decimal | str,
    valid_from: date,
    by: User | None,
    label: str = "",
) -> ExchangeRate:
    """Store the rate of ``currency`` from ``valid_from`` on: ``rate`` units of the reporting
    currency (``TEND_CURRENCY``) per 1 ``currency``. Replaces the rate of that currency and day
    if there is one. The rate applies to MRR changes recorded from then on; movements already
    in the ledger keep the rate they were recorded with.

    Raises ValidationError naming the field: a code that is not three letters, the reporting
    currency itself, a rate of zero or less, a day that is not a date.
    """
    errors = _rate_errors(currency=currency, rate=rate, valid_from=valid_from)
    if errors:
        raise ValidationError(errors)
    code = currency.strip().upper()
    value = Decimal(str(rate).strip())
    existing = (
        ExchangeRate.objects.select_for_update()
        .filter(currency=code, valid_from=valid_from)
        .first()
    )
    row = existing or ExchangeRate(currency=code, valid_from=valid_from, created_by=by)
    before = existing.rate_text if existing is not None else None
    row.rate = value
    row.full_clean(exclude=["created_by"], validate_unique=False, validate_constraints=False)
    if existing is None:
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            # Another process stored the same currency and day first: this call replaces it.
            row = ExchangeRate.objects.select_for_update().get(currency=code, valid_from=valid_from)
            before = row.rate_text
            row.rate = value
            row.save(update_fields=["rate"])
    elif before != row.rate_text:
        row.save(update_fields=["rate"])
    else:
        return row  # the same rate again: nothing to record
    audit_record(
        by=by,
        label=label,
        action="exchange_rate.set" if before is None else "exchange_rate.update",
        obj=row,
        changes={
            "currency": code,
            "valid_from": valid_from.isoformat(),
            "rate": row.rate_text if before is None else (before, row.rate_text),
        },
    )
    return row


@transaction.atomic
def exchange_rate_delete(*, rate: ExchangeRate, by: User | None, label: str = "") -> None:
    """Remove a stored rate. MRR already recorded keeps its value; later changes on days this
    rate covered use the rate before it, or are refused when there is none."""
    audit_record(
        by=by,
        label=label,
        action="exchange_rate.delete",
        obj=rate,
        changes={
            "currency": rate.currency,
            "valid_from": rate.valid_from.isoformat(),
            "rate": rate.rate_text,
        },
    )
    rate.delete()
