"""Plans, subscriptions, the MRR movement ledger and one-off orders."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Interval(models.TextChoices):
    WEEK = "week", _("Weekly")
    MONTH = "month", _("Monthly")
    QUARTER = "quarter", _("Quarterly")
    YEAR = "year", _("Yearly")


# Months per billing interval; MRR = price × quantity ÷ months (weekly: × 52/12).
MONTHS_PER_INTERVAL: dict[str, Decimal] = {
    Interval.WEEK: Decimal(12) / Decimal(52),
    Interval.MONTH: Decimal(1),
    Interval.QUARTER: Decimal(3),
    Interval.YEAR: Decimal(12),
}


class PlanQuerySet(models.QuerySet["Plan"]):
    def offered(self) -> PlanQuerySet:
        """Plans that can be chosen for new customers and subscriptions."""
        return self.filter(is_active=True)


class Plan(models.Model):
    """What a customer pays for. Archiving (``is_active=False``) stops offering it for new
    customers and subscriptions; customers, subscriptions and imports that name it keep it."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    interval = models.CharField(
        _("billing interval"), max_length=10, choices=Interval.choices, default=Interval.MONTH
    )
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    is_active = models.BooleanField(_("offered"), default=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["price", "name"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    """Stripe's subscription statuses, one for one (``incomplete_expired`` is ``canceled``)."""

    INCOMPLETE = "incomplete", _("Incomplete")
    TRIALING = "trialing", _("Trialing")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    UNPAID = "unpaid", _("Unpaid")
    PAUSED = "paused", _("Paused")
    CANCELED = "canceled", _("Canceled")


# Statuses that count towards MRR, as Stripe's billing analytics count them: active, and
# past due while payment is being retried. ``unpaid`` (retries exhausted, invoices left open)
# counts as churn, like ``canceled``; trialing, incomplete (first payment not made) and paused
# subscriptions bring in nothing. docs/stripe.md (Statuses) explains the choice for unpaid.
MRR_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def counting_mrr(self) -> SubscriptionQuerySet:
        """Subscriptions whose MRR counts today (active or past due)."""
        return self.filter(status__in=MRR_STATUSES)

    def renewing_within(self, *, days: int) -> SubscriptionQuerySet:
        """Live subscriptions whose current period ends in the next ``days`` days."""
        now = timezone.now()
        return self.counting_mrr().filter(
            current_period_end__gte=now, current_period_end__lt=now + timedelta(days=days)
        )


class Subscription(models.Model):
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="subscriptions",
        db_index=False,  # (customer, status) below serves it
    )
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscriptions"
    )
    external_id = models.CharField(
        _("external id"), max_length=120, unique=True, null=True, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
    )
    # Monthly recurring revenue of this subscription in ``currency`` after discounts.
    mrr = models.DecimalField(_("MRR"), max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    interval = models.CharField(
        _("billing interval"), max_length=10, choices=Interval.choices, default=Interval.MONTH
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    trial_ends_at = models.DateTimeField(_("trial ends"), null=True, blank=True)
    current_period_end = models.DateTimeField(_("renews"), null=True, blank=True)
    canceled_at = models.DateTimeField(_("canceled"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        indexes = [
            # Renewal reminders and renewal-rate metrics scan by period end.
            models.Index(fields=["status", "current_period_end"], name="sub_renewal_idx"),
            models.Index(fields=["customer", "status"], name="sub_customer_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(mrr__gte=0), name="subscription_mrr_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.plan_id} {self.status}"


class MovementKind(models.TextChoices):
    NEW = "new", _("New")
    EXPANSION = "expansion", _("Expansion")
    CONTRACTION = "contraction", _("Contraction")
    CHURN = "churn", _("Churn")
    REACTIVATION = "reactivation", _("Reactivation")


class MrrMovement(models.Model):
    """One change of a customer's total MRR, classified. Written only by billing actions.

    ``amount`` is signed (churn and contraction are negative); summing a month's amounts
    gives that month's net new MRR, and ``mrr_after`` of a customer's last movement equals
    ``Customer.mrr``.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="mrr_movements",
        db_index=False,  # (customer, at) below serves it
    )
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="movements"
    )
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=12, choices=MovementKind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    mrr_before = models.DecimalField(max_digits=12, decimal_places=2)
    mrr_after = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        indexes = [
            # Monthly MRR movement report scans by time; customer page by customer.
            models.Index(fields=["at", "kind"], name="mrrmove_at_kind_idx"),
            models.Index(fields=["customer", "at"], name="mrrmove_customer_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"


class OrderStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
    PENDING = "pending", _("Pending")


class Order(models.Model):
    """A one-off purchase (shop order, course sale, invoice for a project).

    ``refunded_amount`` is what has been paid back so far; a refund of the whole amount
    makes the order ``refunded``, a partial one leaves it ``paid`` (see ``order_refund``).
    """

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="orders",
        db_index=False,  # (customer, ordered_at) below serves it
    )
    external_id = models.CharField(
        _("external id"), max_length=120, unique=True, null=True, blank=True
    )
    ordered_at = models.DateTimeField(_("ordered"), default=timezone.now)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.PAID
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    refunded_amount = models.DecimalField(
        _("refunded"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    items: models.JSONField[list[Any]] = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["customer", "ordered_at"], name="order_customer_idx"),
            models.Index(fields=["ordered_at"], name="order_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=models.F("amount")),
                name="order_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.amount} {self.currency}"


def positive_rate(value: Decimal) -> None:
    if value is not None and value <= 0:
        raise ValidationError(
            _("A rate must be more than zero (for example 1.08)."), code="not_positive"
        )


currency_code = RegexValidator(
    r"^[A-Z]{3}\Z",
    _("Use a three-letter ISO 4217 currency code in capitals, such as EUR."),
    code="bad_currency",
)


class ExchangeRateQuerySet(models.QuerySet["ExchangeRate"]):
    def in_force(self, *, currency: str, on: date) -> ExchangeRate | None:
        """The rate of ``currency`` on ``on``: the latest starting on or before it, else None."""
        return (
            self.filter(currency=currency.upper(), valid_from__lte=on)
            .order_by("-valid_from")
            .first()
        )


class ExchangeRate(models.Model):
    """How much of the reporting currency (``TEND_CURRENCY``) one unit of ``currency`` is worth,
    from ``valid_from`` until the next rate of the same currency starts.

    Converting uses the latest rate whose ``valid_from`` is on or before the day; a day before
    a currency's first rate has no rate (tend.billing.currency refuses it). Written only by
    ``exchange_rate_set`` and ``exchange_rate_delete``.
    """

    currency = models.CharField(_("currency"), max_length=3, validators=[currency_code])
    rate = models.DecimalField(
        _("rate"),
        max_digits=18,
        decimal_places=8,
        validators=[positive_rate],
        help_text=_("Units of the reporting currency for 1 unit of this currency."),
    )
    valid_from = models.DateField(_("valid from"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("set at"), default=timezone.now)

    objects = ExchangeRateQuerySet.as_manager()

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            # One rate per currency and day; its index also serves "latest rate on or before".
            models.UniqueConstraint(
                fields=["currency", "valid_from"], name="exchangerate_currency_from_unique"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchangerate_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate_text} from {self.valid_from}"

    @property
    def rate_text(self) -> str:
        """The rate without trailing zeros: 1.08, not 1.08000000 (and 100, not 1E+2)."""
        return f"{Decimal(self.rate).normalize():f}"

    def clean(self) -> None:
        reporting = str(settings.TEND_CURRENCY).upper()
        if self.currency == reporting:
            raise ValidationError(
                {
                    "currency": _(
                        "%(currency)s is the reporting currency (TEND_CURRENCY): "
                        "it never needs a rate."
                    )
                    % {"currency": reporting}
                }
            )
