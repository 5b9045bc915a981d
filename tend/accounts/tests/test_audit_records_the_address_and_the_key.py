"""Through real requests: a page write records the user and REMOTE_ADDR; an API-key write
records ``api:<key name>`` with the key's user; X-Forwarded-For counts only behind
``TEND_PROXY_COUNT`` proxies; the CLI and the worker say where they wrote from."""

from __future__ import annotations

import json

import pytest

from tend.accounts.actions import apikey_create
from tend.accounts.models import AuditEntry
from tend.factories import make_customer

pytestmark = pytest.mark.django_db


def test_a_note_written_on_the_customer_page_records_the_user_and_remote_addr(owner_client, owner):
    customer = make_customer(name="Acme")
    response = owner_client.post(
        f"/customers/{customer.pk}/notes/",
        {"kind": "note", "body": "Called"},
        REMOTE_ADDR="198.51.100.23",
    )
    assert response.status_code in {200, 302}
    entry = AuditEntry.objects.get(action="timeline.add")
    assert (entry.actor, entry.actor_label) == (owner, "olivia")
    assert (entry.customer_id, entry.ip, entry.via) == (customer.pk, "198.51.100.23", "web")


def test_an_api_key_write_records_api_and_the_key_name_with_its_user(client, member):
    _key, raw = apikey_create(name="crm-sync", kind="read_write", by=member)
    customer = make_customer(name="Acme")
    response = client.patch(
        f"/api/v1/customers/{customer.pk}",
        data=json.dumps({"name": "Acme Ltd"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        REMOTE_ADDR="192.0.2.9",
    )
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.get(action="customer.update")
    assert entry.actor == member
    assert entry.actor_label == "api:crm-sync"
    assert (entry.customer_id, entry.ip, entry.via) == (customer.pk, "192.0.2.9", "api")


def test_x_forwarded_for_is_ignored_without_a_proxy(owner_client):
    customer = make_customer()
    owner_client.post(
        f"/customers/{customer.pk}/notes/",
        {"kind": "note", "body": "x"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )
    assert AuditEntry.objects.get(action="timeline.add").ip == "10.0.0.1"


def test_x_forwarded_for_names_the_client_behind_one_proxy(owner_client, settings):
    settings.TEND_PROXY_COUNT = 1
    customer = make_customer()
    owner_client.post(
        f"/customers/{customer.pk}/notes/",
        {"kind": "note", "body": "x"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4",
    )
    assert AuditEntry.objects.get(action="timeline.add").ip == "198.51.100.4"


def test_a_forwarded_value_that_is_no_address_is_recorded_as_none_not_an_error(
    owner_client, settings
):
    settings.TEND_PROXY_COUNT = 1
    customer = make_customer()
    response = owner_client.post(
        f"/customers/{customer.pk}/notes/",
        {"kind": "note", "body": "x"},
        HTTP_X_FORWARDED_FOR="not-an-address",
    )
    assert response.status_code in {200, 302}
    assert AuditEntry.objects.get(action="timeline.add").ip is None


def test_a_command_run_through_tend_records_via_cli(owner, monkeypatch):
    import django.core.management as management

    from tend.cli import main

    # Run the command in this process without Django's exit-time connection handling.
    monkeypatch.setattr(
        management, "execute_from_command_line", lambda argv: management.call_command(*argv[1:])
    )
    main(["tend", "apikey", "create", "--name", "nightly", "--kind", "read", "--user", "olivia"])
    entry = AuditEntry.objects.get(action="apikey.create")
    assert (entry.via, entry.ip) == ("cli", None)


def test_a_task_run_by_the_worker_records_via_worker(owner, monkeypatch):
    from django.core.management import call_command

    import tend.jobs.management.commands.worker as worker
    from tend.accounts.actions import audit_record

    customer = make_customer()

    def db_worker(*args: object) -> None:  # stands in for django-tasks' loop: runs one "task"
        audit_record(by=None, action="probe", obj=customer)

    monkeypatch.setattr(worker, "call_command", lambda *a: db_worker(*a))
    call_command("worker", "--batch", "--no-schedule")
    assert AuditEntry.objects.get(action="probe").via == "worker"


def test_installing_a_built_in_template_with_a_key_records_the_key(client, owner):
    from tend.messaging.builtins import builtin_templates

    _key, raw = apikey_create(name="setup-script", kind="read_write", by=owner)
    key = builtin_templates()[0]["key"]
    response = client.post(
        "/api/v1/email-templates/install",
        data=json.dumps({"key": key}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.get(action="emailtemplate.create")
    assert (entry.actor, entry.actor_label, entry.via) == (owner, "api:setup-script", "api")
