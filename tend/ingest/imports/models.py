"""File imports: one ``Import`` row per run (web or CLI, dry run or not) and the rows it refused."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    CONTACTS = "contacts", _("Contacts")
    SUBSCRIPTIONS = "subscriptions", _("Subscriptions")
    ORDERS = "orders", _("Orders")
    EVENTS = "events", _("Events")
    # The Stripe Dashboard's own CSV exports, read as Stripe means them (see docs/stripe.md).
    STRIPE_CUSTOMERS = "stripe_customers", _("Stripe customers (export)")
    STRIPE_SUBSCRIPTIONS = "stripe_subscriptions", _("Stripe subscriptions (export)")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    PREVIEWED = "previewed", _("Checked (dry run)")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    # Its worker stopped (killed, or the machine went down) part-way: what was committed stays
    # and it can be resumed from there or canceled (see ``imports.actions``).
    INTERRUPTED = "interrupted", _("Interrupted")
    CANCELED = "canceled", _("Canceled")


class DateOrder(models.TextChoices):
    DMY = "dmy", _("Day first (31/01/2024)")
    MDY = "mdy", _("Month first (01/31/2024)")


class ImportQuerySet(models.QuerySet["Import"]):
    def recent(self) -> ImportQuerySet:
        """Imports newest first, with who ran them."""
        return self.select_related("created_by").order_by("-created_at", "-pk")


class Import(models.Model):
    """One run of a file through the importer: who, when, which file, how it went."""

    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    file_name = models.CharField(_("file"), max_length=255)
    # Where the uploaded file is kept (under settings.DATA_DIR / "imports") for the worker.
    path = models.CharField(max_length=500, blank=True)
    headers: models.JSONField[list[str]] = models.JSONField(default=list, blank=True)
    # {column header: field name}; columns mapped to "" are ignored, to "trait" kept as traits.
    mapping: models.JSONField[dict[str, str]] = models.JSONField(default=dict, blank=True)
    # {field: {value in the file: Tend's value}}: values such as plan "Starter" or country
    # "德国" read as a plan code or "DE" (see ``imports.values``).
    value_map: models.JSONField[dict[str, dict[str, str]]] = models.JSONField(
        default=dict, blank=True
    )
    # {"create_plans": bool, "create_channels": bool, "owner": user id, "stage": code}: what
    # the mapping step chose for values with no match and for rows that set no owner or stage.
    options: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    date_order = models.CharField(
        _("date order"), max_length=3, choices=DateOrder.choices, default=DateOrder.DMY
    )
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total_rows = models.PositiveBigIntegerField(default=0)  # an estimate until the run ends
    rows_read = models.PositiveBigIntegerField(_("rows read"), default=0)
    created = models.PositiveBigIntegerField(_("created"), default=0)
    updated = models.PositiveBigIntegerField(_("updated"), default=0)
    unchanged = models.PositiveBigIntegerField(_("unchanged"), default=0)
    duplicates = models.PositiveBigIntegerField(_("duplicates skipped"), default=0)
    rejected = models.PositiveBigIntegerField(_("rejected"), default=0)
    # {"<field>: <what was cleaned>": count}, shown on the summary so cleaning is never silent.
    cleaning: models.JSONField[dict[str, int]] = models.JSONField(default=dict, blank=True)
    reasons: models.JSONField[dict[str, int]] = models.JSONField(default=dict, blank=True)
    customers_affected = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # Written by the running import every few seconds and with every batch it commits; a
    # running import whose heartbeat is older than TEND_IMPORT_STALE_SECONDS has lost its
    # worker and is marked interrupted.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Each start or resume takes the next number; a batch is only committed by the attempt
    # that holds it, so a worker thought dead that wakes up stops instead of writing twice.
    attempt = models.PositiveIntegerField(default=0)
    # Asked to stop: the running import stops at its next batch boundary.
    cancel_requested = models.BooleanField(default=False)
    # SHA-256 of the file when the run started: a resume refuses a file that has changed, and
    # event rows without a message id get one made from it (``file:<digest[:16]>:<row>``).
    digest = models.CharField(max_length=64, blank=True)

    objects = ImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [
            # Imports history page: newest first.
            models.Index(fields=["-created_at"], name="import_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} {self.status}"

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def is_active(self) -> bool:
        return self.status in {ImportStatus.QUEUED, ImportStatus.RUNNING}

    @property
    def is_resumable(self) -> bool:
        """Stopped part-way with its file still kept: it can go on from its last batch. Not a
        run from before resumable imports (attempt 0), whose progress was not committed with
        its rows."""
        return (
            self.status in {ImportStatus.INTERRUPTED, ImportStatus.FAILED}
            and bool(self.path)
            and self.attempt > 0
        )

    @property
    def is_cancelable(self) -> bool:
        return (
            self.status in {ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.INTERRUPTED}
            and not self.cancel_requested
        )

    @property
    def percent(self) -> int:
        if self.status in {ImportStatus.DONE, ImportStatus.PREVIEWED}:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(100 * self.rows_read / self.total_rows))


class ImportBatch(models.Model):
    """What one committed batch changed that the end of the run needs (the customers it
    touched, with writer-specific values such as last-seen times), written in the batch's own
    transaction so that a resumed run ends exactly as an uninterrupted one would. Deleted when
    the run ends."""

    run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="batches")
    rows = models.PositiveBigIntegerField()  # rows of the file done once this batch committed
    # {"affected": {customer id: rows so far}, "last_seen": {…}, "mrr": {…}}
    state: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.run_id}@{self.rows}"


class RejectedRow(models.Model):
    """A row the importer refused, with the reason, kept so it can be fixed and sent again."""

    run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="rejected_rows")
    row = models.PositiveBigIntegerField()  # 1-based line in the file, the header being row 1
    column = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=40)
    value = models.CharField(max_length=255, blank=True)
    values: models.JSONField[list[Any]] = models.JSONField(default=list)
    # Any further problems of the same row, [[column, reason, value], …]: a row is refused
    # with every problem it has, not only the first.
    problems: models.JSONField[list[list[str]]] = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            # Preview and download read one import's rows in file order.
            models.UniqueConstraint(fields=["run", "row"], name="rejectedrow_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.row} {self.reason}"
