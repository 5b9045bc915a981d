"""Signing in, and failing to, leave audit rows with the address (never the password)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tend.accounts.models import AuditEntry
from tend.testing import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_sign_in_is_recorded_with_the_address(owner):
    client = Client(REMOTE_ADDR="198.51.100.8")
    client.post(reverse("login"), {"username": "olivia", "password": PASSWORD})
    entry = AuditEntry.objects.get(action="user.login")
    assert (entry.actor, entry.ip, entry.via) == (owner, "198.51.100.8", "web")


def test_a_failed_sign_in_records_the_name_typed_but_not_the_password(owner):
    client = Client(REMOTE_ADDR="198.51.100.9")
    client.post(reverse("login"), {"username": "olivia", "password": "wrong-secret"})
    entry = AuditEntry.objects.get(action="user.login_failed")
    assert entry.actor is None
    assert entry.actor_label == "anonymous"
    assert entry.object_id == str(owner.pk)
    assert entry.changes == {"username": "olivia"}
    assert entry.ip == "198.51.100.9"
    assert "wrong-secret" not in str(entry.changes)
    assert not AuditEntry.objects.filter(action="user.login").exists()
