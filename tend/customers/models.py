"""Customers, their contacts, lifecycle stage history and the timeline of what happened."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Kind(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSON = "person", _("Person")


class Stage(models.TextChoices):
    """Lifecycle stages in the order a customer usually moves through them."""

    PROSPECT = "prospect", _("Prospect")
    TRIAL = "trial", _("Trial")
    ONBOARDING = "onboarding", _("Onboarding")
    ADOPTING = "adopting", _("Adopting")
    ESTABLISHED = "established", _("Established")
    RENEWAL_DUE = "renewal_due", _("Renewal due")
    EXPANSION = "expansion", pgettext_lazy("lifecycle stage", "Expansion")
    AT_RISK = "at_risk", _("At risk")
    CHURNED = "churned", _("Churned")


class Channel(models.TextChoices):
    """The built-in acquisition channels every install starts with (see AcquisitionChannel).

    The founder's own list lives in ``AcquisitionChannel``; these codes are seeded there and
    keep their translated names until the founder renames them.
    """

    ORGANIC = "organic", _("Organic search")
    PAID_SEARCH = "paid_search", _("Paid search")
    SOCIAL = "social", _("Social media")
    REFERRAL = "referral", _("Referral")
    CONTENT = "content", _("Content")
    PARTNER = "partner", _("Partner")
    OUTBOUND = "outbound", _("Outbound")
    MARKETPLACE = "marketplace", _("Marketplace")
    OTHER = "other", _("Other")


def validate_channel_code(value: str) -> None:
    """A customer's channel must be one of the founder's channels (archived ones included).

    The built-in codes are always accepted: they are seeded by a migration, and a database
    flushed between tests (or restored without that table) must not reject them.
    """
    if (
        value
        and value not in Channel.values
        and not AcquisitionChannel.objects.filter(code=value).exists()
    ):
        from tend.customers.channels import channel_choices

        allowed = ", ".join(code for code, _label in channel_choices())
        raise ValidationError(
            _("“%(value)s” is not one of your acquisition channels (%(allowed)s)."),
            code="unknown_channel",
            params={"value": value, "allowed": allowed},
        )


class AcquisitionChannelQuerySet(models.QuerySet["AcquisitionChannel"]):
    def offered(self) -> AcquisitionChannelQuerySet:
        """Channels that can be chosen for customers now (not archived), in the founder's order."""
        return self.filter(archived_at__isnull=True).order_by("position", "code")


class AcquisitionChannel(models.Model):
    """A place customers come from, in the founder's own list; CAC is reported per channel.

    ``Customer.channel`` holds the ``code``. Built-in channels keep ``name`` empty so that
    their label follows the reader's language; a name the founder types is shown as written.
    """

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=80, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AcquisitionChannelQuerySet.as_manager()

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("acquisition channel")
        verbose_name_plural = _("acquisition channels")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.code in Channel.values:
            return str(Channel(self.code).label)
        return self.code


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class CustomerQuerySet(models.QuerySet["Customer"]):
    def paying(self) -> CustomerQuerySet:
        """Customers with MRR above zero right now."""
        return self.filter(mrr__gt=0)

    def search(self, text: str) -> CustomerQuerySet:
        """Customers whose name, email or external id contains ``text`` (case-insensitive)."""
        text = text.strip()
        if not text:
            return self
        if connection.vendor != "postgresql":
            return self.filter(
                Q(name__icontains=text) | Q(email__icontains=text) | Q(external_id__iexact=text)
            )
        # PostgreSQL: one branch per trigram/expression index, joined by UNION. With an OR the
        # planner misjudges the match count and scans the table (65 ms against 20 ms at
        # 100,000 customers; see the migration 0002 indexes).
        base = Customer.objects.order_by()
        matches = (
            base.filter(name__icontains=text)
            .values("pk")
            .union(
                base.filter(email__icontains=text).values("pk"),
                base.filter(external_id__iexact=text).values("pk"),
            )
        )
        return self.filter(pk__in=matches)


class Customer(models.Model):
    """A company (B2B) or a person (B2C) that buys from the founder."""

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COMPANY)
    external_id = models.CharField(
        _("external id"), max_length=120, unique=True, null=True, blank=True
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    industry = models.CharField(_("industry"), max_length=80, blank=True)
    size = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text="ISO 3166-1")
    plan = models.ForeignKey(
        "billing.Plan",
        verbose_name=_("plan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    channel = models.CharField(
        _("acquisition channel"), max_length=20, blank=True, validators=[validate_channel_code]
    )
    acquisition_cost = models.DecimalField(
        _("acquisition cost"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    referred_by = models.ForeignKey(
        "self",
        verbose_name=_("referred by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    traits: models.JSONField[dict[str, Any]] = models.JSONField(
        _("traits"), default=dict, blank=True
    )
    stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=Stage.choices, default=Stage.PROSPECT
    )
    # The stage's place in the lifecycle, kept by the database so that sorting the customers
    # list by stage walks an index instead of sorting 100,000 rows by a CASE expression.
    stage_rank = models.GeneratedField(
        expression=models.Case(
            *(
                models.When(stage=value, then=models.Value(i))
                for i, value in enumerate(Stage.values)
            ),
            default=models.Value(len(Stage.values)),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    stage_changed_at = models.DateTimeField(_("stage changed"), default=timezone.now)
    signed_up_at = models.DateTimeField(_("signed up"), default=timezone.now)
    first_paid_at = models.DateTimeField(_("first paid"), null=True, blank=True)
    churned_at = models.DateTimeField(_("churned"), null=True, blank=True)
    # Denormalised by billing actions (sum of active subscriptions, in settings.TEND_CURRENCY)
    # and by event ingestion, so the customers list can sort 100,000 rows by them.
    mrr = models.DecimalField(_("MRR"), max_digits=12, decimal_places=2, default=Decimal("0"))
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            # Customers list: filter by stage/plan/owner, sort by these columns.
            models.Index(fields=["stage", "name"], name="customer_stage_name_idx"),
            models.Index(fields=["stage_rank", "id"], name="customer_stage_rank_idx"),
            models.Index(fields=["plan", "name"], name="customer_plan_name_idx"),
            models.Index(fields=["owner", "name"], name="customer_owner_name_idx"),
            models.Index(fields=["signed_up_at"], name="customer_signed_up_idx"),
            models.Index(fields=["mrr"], name="customer_mrr_idx"),
            models.Index(fields=["last_seen_at"], name="customer_last_seen_idx"),
            models.Index(fields=["channel", "signed_up_at"], name="customer_channel_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def channel_label(self) -> str:
        """The acquisition channel's name from the founder's list ("" when none)."""
        from tend.customers.channels import channel_label

        return channel_label(self.channel) if self.channel else ""


class MarketingConsent(models.TextChoices):
    # Not asked: outreach (onboarding, check-ins, renewal reminders) may be sent, as to any
    # customer of the business; the unsubscribe link in each email withdraws it.
    UNKNOWN = "unknown", _("Not asked")
    GRANTED = "granted", _("Agreed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Contact(models.Model):
    """A person at a customer. At most one contact per customer is primary."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(
        _("external id"), max_length=120, unique=True, null=True, blank=True
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    traits: models.JSONField[dict[str, Any]] = models.JSONField(
        _("traits"), default=dict, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Marketing-email consent, in one place (tend.customers.consent): every outreach send asks
    # it, and an unsubscribe withdraws it. Service emails to the founder's own users are not
    # marketing and do not read it.
    marketing_consent = models.CharField(
        _("marketing emails"),
        max_length=12,
        choices=MarketingConsent.choices,
        default=MarketingConsent.UNKNOWN,
    )
    consent_changed_at = models.DateTimeField(null=True, blank=True)
    # Where the latest change came from: "form", "api", "import", "unsubscribe link", ...
    consent_source = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_primary=True), name="one_primary_contact"
            )
        ]

    def __str__(self) -> str:
        return self.name


class StageChange(models.Model):
    """One move between lifecycle stages, by hand (``by`` set) or by a rule."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="stage_changes",
        db_index=False,  # (customer, at) below serves it
    )
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # What a person wrote, shown as written. A reason the system gives is stored instead as a
    # message id with its parameters in ``reason_data`` ({"msg": "mrr_zero"}) and rendered in
    # the reader's language by ``tend.customers.timeline.stage_reason``.
    reason = models.CharField(max_length=200, blank=True)
    reason_data: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "at"], name="stagechange_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_stage} → {self.to_stage}"


class TimelineKind(models.TextChoices):
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    EMAIL = "email", pgettext_lazy("email message", "Email")
    MEETING = "meeting", _("Meeting")
    STAGE = "stage", _("Stage change")
    SUBSCRIPTION = "subscription", _("Subscription")
    ORDER = "order", _("Order")
    IMPORT = "import", _("Import")
    SYSTEM = "system", _("System")
    PLAYBOOK = "playbook", _("Playbook")
    TASK = "task", _("Task")


class TimelineEntry(models.Model):
    """Everything that happens to a customer, newest first on the customer page."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="timeline",
        db_index=False,  # (customer, -at) below serves it
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TimelineKind.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Machine entries store a message id + params in ``data`` and render it in the reader's
    # language; ``body`` holds what a person wrote.
    title = models.CharField(_("title"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    data: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        indexes = [
            # Customer page: newest entries of one customer.
            models.Index(fields=["customer", "-at"], name="timeline_customer_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d}"
