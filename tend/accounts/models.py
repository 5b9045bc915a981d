"""Users with a role, API keys, and the audit log of who changed what."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MEMBER = "member", _("Member")
    VIEWER = "viewer", _("Viewer")


class DigestFrequency(models.TextChoices):
    OFF = "off", _("No digest")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly (Mondays)")


class User(AbstractUser):
    """A person who logs in to Tend. Owners manage users and keys; viewers only read."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )

    # The digest email: Today's top items, goals and what playbooks did (tend.messaging.digest).
    digest = models.CharField(
        _("digest email"),
        max_length=10,
        choices=DigestFrequency.choices,
        default=DigestFrequency.OFF,
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def can_write(self) -> bool:
        return self.is_active and self.role in {Role.OWNER, Role.MEMBER}


class ApiKeyKind(models.TextChoices):
    WRITE = "write", _("Write-only (event ingestion)")
    READ = "read", _("Read")
    READ_WRITE = "read_write", _("Read and write")


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        """Keys that have not been revoked."""
        return self.filter(revoked_at__isnull=True)


KEY_PREFIXES = {ApiKeyKind.WRITE: "tw", ApiKeyKind.READ: "tr", ApiKeyKind.READ_WRITE: "trw"}


class ApiKey(models.Model):
    """A key for the REST or tracking API. Only a SHA-256 hash is stored; the key is shown once.

    Keys are 32 random bytes, so a fast hash is enough: there is nothing to brute-force.
    ``lookup`` (the first characters after the prefix) finds the row without scanning.
    """

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=ApiKeyKind.choices)
    lookup = models.CharField(max_length=16, unique=True)
    hashed = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_keys"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def generate(kind: str) -> tuple[str, str]:
        """Return ``(raw_key, lookup)`` for a new key of ``kind``."""
        lookup = secrets.token_hex(8)
        raw = f"{KEY_PREFIXES[ApiKeyKind(kind)]}_{lookup}_{secrets.token_urlsafe(32)}"
        return raw, lookup

    @staticmethod
    def lookup_of(raw: str) -> str | None:
        parts = raw.split("_", 2)
        if len(parts) != 3 or len(parts[1]) != 16:
            return None
        return parts[1]

    @property
    def can_read(self) -> bool:
        return self.kind in {ApiKeyKind.READ, ApiKeyKind.READ_WRITE}

    @property
    def can_write(self) -> bool:
        return self.kind == ApiKeyKind.READ_WRITE

    @property
    def can_ingest(self) -> bool:
        return self.kind in {ApiKeyKind.WRITE, ApiKeyKind.READ_WRITE}


class AuditEntry(models.Model):
    """Who changed what and when: one row per action call that wrote data."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,  # audit_actor_idx below serves it
    )
    # "system", "api:<key name>", "import", ... when no user acted directly.
    actor_label = models.CharField(max_length=120, blank=True)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    changes: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    # The customer the write concerned (the object itself, or the customer it belongs to), so
    # the customer page can show its history. A plain id, not a foreign key: the history (who
    # did what, when) outlives an erased customer; the erasure scrubs ``changes`` instead.
    customer_id = models.BigIntegerField(null=True, blank=True)
    # The client's address for web and API writes (tend.accounts.audit_context); empty for
    # the worker and the CLI.
    ip = models.GenericIPAddressField(null=True, blank=True, unpack_ipv4=True)
    # "web", "api", "cli", "worker" or "system".
    via = models.CharField(max_length=10, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            # Per-object history on admin/audit pages.
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object_idx"),
            # The customer page's history panel and the audit page's customer filter.
            models.Index(fields=["customer_id", "at"], name="audit_customer_idx"),
            # The audit page's action filter.
            models.Index(fields=["action", "at"], name="audit_action_idx"),
            # The audit page's user filter, newest first: a user or key with few or no rows
            # answers from the index instead of walking (at) backwards over every row.
            models.Index(fields=["actor", "at"], name="audit_actor_idx"),
            models.Index(fields=["actor_label", "at"], name="audit_actor_label_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"
