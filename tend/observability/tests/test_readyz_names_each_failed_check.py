"""/readyz: 200 when the database answers, every migration is applied and a worker was seen
recently; otherwise 503 naming the failed checks, and nothing about the installation."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.utils import timezone

from tend.observability.heartbeat import worker_beat
from tend.observability.models import WorkerBeat
from tend.observability.readiness import forget_migrations_check


@pytest.fixture(autouse=True)
def _fresh_migrations_check():
    forget_migrations_check()
    yield
    forget_migrations_check()


def _no_worker_seen():
    """Start from no heartbeat at all: a live ``tend worker`` started by another test against
    the same test database may have left its row."""
    WorkerBeat.objects.all().delete()


def _readyz():
    response = Client().get("/readyz")
    return response.status_code, response.json()


@pytest.mark.django_db
def test_ready_when_the_database_answers_migrations_are_applied_and_a_worker_beats():
    worker_beat()
    status, body = _readyz()
    assert status == 200
    assert body == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "worker": "ok"},
    }


@pytest.mark.django_db
def test_not_ready_when_no_worker_was_ever_seen():
    _no_worker_seen()
    status, body = _readyz()
    assert status == 503
    assert body["failed"] == ["worker"]
    assert body["checks"]["worker"] == "none seen in 10 min"


@pytest.mark.django_db
def test_not_ready_when_the_last_heartbeat_is_older_than_the_window(settings):
    settings.TEND_READY_WORKER_MINUTES = 5
    _no_worker_seen()
    worker_beat(now=timezone.now() - timedelta(minutes=6))
    assert _readyz()[0] == 503
    worker_beat(beat=WorkerBeat.objects.get())
    assert _readyz()[0] == 200


@pytest.mark.django_db
def test_a_web_only_host_does_not_require_a_worker(settings):
    settings.TEND_READY_WORKER_MINUTES = 0
    status, body = _readyz()
    assert status == 200
    assert body["checks"]["worker"] == "not required"


@pytest.mark.django_db
def test_not_ready_while_a_migration_is_unapplied():
    worker_beat()
    # As if the code were deployed before `tend migrate` ran: the executor's plan is not empty.
    recorded = MigrationRecorder(connection).migration_qs.filter(app="observability")
    recorded.filter(pk=recorded.order_by("-name").values("pk")[:1]).delete()  # the latest
    status, body = _readyz()
    assert status == 503
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"] == "unapplied"
    assert "observability" not in str(body)  # which one is for `tend showmigrations`


@pytest.mark.django_db
def test_a_passed_migrations_check_is_remembered_by_the_process(django_assert_max_num_queries):
    worker_beat()
    assert _readyz()[0] == 200
    with django_assert_max_num_queries(2):  # SELECT 1 and the heartbeat; no migration graph
        assert _readyz()[0] == 200


@pytest.mark.django_db(transaction=True)
def test_not_ready_when_the_database_does_not_answer_and_its_error_stays_private():
    _no_worker_seen()
    name = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = (
        "/nonexistent-folder/tend.sqlite3"
        if connection.vendor == "sqlite"
        else "tend_readyz_no_such_database"
    )
    try:
        status, body = _readyz()
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
    assert status == 503
    assert body == {
        "status": "unavailable",
        "checks": {"database": "unreachable", "migrations": "skipped", "worker": "skipped"},
        "failed": ["database", "migrations", "worker"],
    }
    assert _readyz()[0] == 503  # the database is back; only the worker is missing now
