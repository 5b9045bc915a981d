"""The exposition names the request, queue, outbox, ingest and worker metrics, and a request
counter goes up after a request."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tend.ingest.actions import stats_add
from tend.observability.models import WorkerBeat

TOKEN = "t" * 40


def _scrape() -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            key = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[key] = sample.value
    return samples


@pytest.fixture(autouse=True)
def _token(settings):
    settings.TEND_METRICS_TOKEN = TOKEN


@pytest.mark.django_db
def test_the_exposition_names_every_documented_metric():
    WorkerBeat.objects.create(host="h", pid=1, seen_at=timezone.now() - timedelta(seconds=42))
    samples = _scrape()
    for name in (
        "tend_http_requests_total",
        "tend_http_request_duration_seconds_bucket",
        "tend_http_requests_in_flight",
        "tend_database_up",
        "tend_tasks",
        "tend_tasks_failed",
        "tend_outbox_messages",
        "tend_workers_seen",
        "tend_worker_last_seen_seconds",
    ):
        assert name in samples, name
    assert samples["tend_database_up"][()] == 1
    assert set(dict(k)["state"] for k in samples["tend_tasks"]) == {"ready", "scheduled", "running"}
    assert {dict(k)["status"] for k in samples["tend_outbox_messages"]} >= {"queued", "failed"}
    assert samples["tend_workers_seen"][()] == 1
    assert 41 <= samples["tend_worker_last_seen_seconds"][()] < 120


@pytest.mark.django_db
def test_a_request_counter_goes_up_after_a_request():
    key = (("method", "GET"), ("route", "healthz"), ("status", "2xx"))
    before = _scrape()["tend_http_requests_total"].get(key, 0)
    Client().get("/healthz")
    Client().get("/healthz")
    assert _scrape()["tend_http_requests_total"][key] == before + 2


@pytest.mark.django_db
def test_unknown_paths_and_methods_do_not_make_new_label_values():
    Client().generic("BREW", "/no/such/page/\u00e9")
    samples = _scrape()["tend_http_requests_total"]
    routes = {dict(k)["route"] for k in samples}
    methods = {dict(k)["method"] for k in samples}
    assert "BREW" not in methods and "other" in methods
    assert not any("no/such" in r for r in routes)


@pytest.mark.django_db
def test_ingested_messages_are_counted_by_source_and_outcome():
    stats_add(source="tracking", accepted=5, rejected={"bad_timestamp": 2})
    stats_add(source="import", accepted=7)
    ingest = _scrape()["tend_ingest_messages_total"]
    assert ingest[(("outcome", "accepted"), ("source", "tracking"))] == 5
    assert ingest[(("outcome", "rejected"), ("source", "tracking"))] == 2
    assert ingest[(("outcome", "accepted"), ("source", "import"))] == 7


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_keeps_a_sane_one_from_the_proxy():
    assert len(Client().get("/healthz")["X-Request-ID"]) == 32
    given = Client().get("/healthz", headers={"X-Request-ID": "edge-42.a:b"})
    assert given["X-Request-ID"] == "edge-42.a:b"
    hostile = Client().get("/healthz", headers={"X-Request-ID": "x\x00y" + "z" * 100})
    assert hostile["X-Request-ID"] != "x\x00y" + "z" * 100
