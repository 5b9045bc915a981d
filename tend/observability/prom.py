"""Prometheus metrics: per-process request metrics plus database gauges read at scrape time.

Two kinds of numbers, kept apart on purpose (docs/deploy.md, "Metrics"):

- **Request metrics** (``tend_http_*``) are counted in the web process that answered. Under
  ``tend serve`` several gunicorn workers answer, and a scrape reaches only one of them, so
  ``tend serve`` turns on prometheus-client's multiprocess mode: each worker writes its
  counters to memory-mapped files in a folder of its own server (``multiproc.py``), and a
  scrape sums them all. Without ``PROMETHEUS_MULTIPROC_DIR`` (``tend runserver``, tests) the
  process's own registry is used.
- **Database gauges** (queue depth, failed tasks, outbox, ingested messages, worker
  heartbeats) are the same for every process and host: they are read from the database when
  scraped (``DatabaseCollector``), a fixed handful of aggregate queries, never stored in the
  multiprocess files. Scraping two hosts gives the same values twice: aggregate them with
  ``max``, not ``sum``.

prometheus-client picks its storage when it is first imported, from the environment, and
Django's system checks import this module before ``tend serve`` sets the folder: so the request
metrics are made on first use (``request_metrics``), which switches the storage if needed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from tend.observability.prom_env import MULTIPROC_ENV

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RequestMetrics:
    requests: Counter
    latency: Histogram
    in_flight: Gauge


_request_metrics: RequestMetrics | None = None
_lock = threading.Lock()


def request_metrics() -> RequestMetrics:
    """The request metrics, made on first use: after ``tend serve`` has set the multiprocess
    folder (Django's system checks import this module before that)."""
    global _request_metrics
    if _request_metrics is not None:
        return _request_metrics
    with _lock:
        if _request_metrics is None:
            if os.environ.get(MULTIPROC_ENV) and values.ValueClass is values.MutexValue:
                values.ValueClass = values.get_value_class()  # chosen at its import: redo
            _request_metrics = RequestMetrics(
                requests=Counter(
                    "tend_http_requests",
                    "HTTP requests answered, by method, route name and status class.",
                    ["method", "route", "status"],
                ),
                latency=Histogram(
                    "tend_http_request_duration_seconds",
                    "Time to answer an HTTP request, by route name.",
                    ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
                ),
                in_flight=Gauge(
                    "tend_http_requests_in_flight",
                    "HTTP requests being answered now.",
                    multiprocess_mode="livesum",
                ),
            )
    return _request_metrics


def content_type() -> str:
    return CONTENT_TYPE_LATEST


class DatabaseCollector(Collector):
    """Gauges and counters read from the database at scrape time."""

    def collect(self) -> Iterator[Any]:
        from django.db.models import Count, Max, Sum
        from django.utils import timezone
        from django_tasks_db.models import DBTaskResult

        from tend.ingest.models import IngestStat
        from tend.messaging.models import Message
        from tend.observability.heartbeat import recent_window
        from tend.observability.models import WorkerBeat

        up = GaugeMetricFamily("tend_database_up", "1 when the scrape could read the database.")
        try:
            now = timezone.now()
            results = DBTaskResult.objects.all()
            by_status = dict(results.values_list("status").annotate(n=Count("id")).order_by())
            ready = results.ready().count()
            tasks = GaugeMetricFamily(
                "tend_tasks",
                "Background tasks in the database queue: ready to run now, scheduled for "
                "later, running.",
                labels=["state"],
            )
            tasks.add_metric(["ready"], ready)
            tasks.add_metric(["scheduled"], max(0, by_status.get("READY", 0) - ready))
            tasks.add_metric(["running"], by_status.get("RUNNING", 0))
            failed = GaugeMetricFamily(
                "tend_tasks_failed",
                "Failed task results kept in the database (tend cleanup prunes old ones).",
            )
            failed.add_metric([], by_status.get("FAILED", 0))
            outbox = GaugeMetricFamily(
                "tend_outbox_messages", "Outgoing emails and webhooks by status.", labels=["status"]
            )
            by_message = dict(
                Message.objects.values_list("status").annotate(n=Count("id")).order_by()
            )
            for status in Message._meta.get_field("status").choices or []:
                outbox.add_metric([str(status[0])], by_message.get(status[0], 0))
            ingest = CounterMetricFamily(
                "tend_ingest_messages",
                "Messages and rows received (tracking API, imports, Stripe) by outcome, over "
                "the kept daily counts.",
                labels=["source", "outcome"],
            )
            for source, outcome, n in (
                IngestStat.objects.values_list("source", "outcome")
                .annotate(n=Sum("count"))
                .order_by("source", "outcome")
            ):
                ingest.add_metric([source, outcome], n or 0)
            beats = WorkerBeat.objects.aggregate(last=Max("seen_at"))
            workers = GaugeMetricFamily(
                "tend_workers_seen", "Worker processes whose heartbeat is recent."
            )
            workers.add_metric(
                [], WorkerBeat.objects.filter(seen_at__gte=now - recent_window()).count()
            )
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from (up, tasks, failed, outbox, ingest, workers)
        if beats["last"] is not None:
            age = GaugeMetricFamily(
                "tend_worker_last_seen_seconds",
                "Seconds since the freshest worker heartbeat (absent: none ever seen).",
            )
            age.add_metric([], max(0.0, (now - beats["last"]).total_seconds()))
            yield age


def exposition() -> bytes:
    """The text exposition of every metric, for ``GET /metrics``."""
    request_metrics()  # named even before the first request
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=folder)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    return text + generate_latest(database)
