"""Each `tend worker` keeps a heartbeat row fresh, removes it when it stops, and prunes the
rows of workers that were killed long ago; the operations page lists them."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from tend.observability.heartbeat import STALE_AFTER, beat_loop, worker_beat, workers_seen
from tend.observability.models import WorkerBeat


class _OneBeat(threading.Event):
    """A stop event that stops the loop after its first beat, so no test waits 30 s."""

    def __init__(self) -> None:
        super().__init__()
        self.rows_seen: list[int] = []

    def wait(self, timeout=None):  # type: ignore[no-untyped-def]
        self.rows_seen.append(WorkerBeat.objects.count())
        self.set()
        return True


@pytest.mark.django_db(transaction=True)  # the loop closes its connection like a worker
def test_the_loop_writes_a_row_at_once_and_deletes_it_on_a_clean_stop():
    stop = _OneBeat()
    beat_loop(stop)
    assert stop.rows_seen == [1]
    assert WorkerBeat.objects.count() == 0


@pytest.mark.django_db
def test_a_beat_refreshes_the_same_row_and_prunes_rows_older_than_a_day():
    now = timezone.now()
    killed = WorkerBeat.objects.create(
        host="old", pid=1, started_at=now - STALE_AFTER * 2, seen_at=now - STALE_AFTER * 2
    )
    beat = worker_beat(now=now - timedelta(minutes=1))
    assert not WorkerBeat.objects.filter(pk=killed.pk).exists()
    again = worker_beat(beat=beat, now=now)
    assert again.pk == beat.pk
    assert WorkerBeat.objects.get().seen_at == now


@pytest.mark.django_db
def test_a_pruned_row_comes_back_at_the_next_beat():
    beat = worker_beat()
    WorkerBeat.objects.all().delete()
    assert worker_beat(beat=beat).pk != beat.pk
    assert WorkerBeat.objects.count() == 1


@pytest.mark.django_db
def test_workers_seen_tells_running_from_not_seen_recently(settings):
    settings.TEND_READY_WORKER_MINUTES = 10
    now = timezone.now()
    WorkerBeat.objects.create(host="a", pid=1, started_at=now, seen_at=now)
    WorkerBeat.objects.create(host="b", pid=2, started_at=now, seen_at=now - timedelta(minutes=11))
    rows = workers_seen(now)
    assert [(r.host, r.alive) for r in rows] == [("a", True), ("b", False)]


@pytest.mark.django_db
def test_the_operations_page_lists_the_workers_seen(member_client):
    now = timezone.now()
    WorkerBeat.objects.create(host="web-1.internal", pid=4242, started_at=now, seen_at=now)
    page = member_client.get("/operations/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="workers"' in html and "web-1.internal" in html and "4242" in html
    WorkerBeat.objects.all().delete()
    assert 'id="workers-none"' in member_client.get("/operations/").content.decode()


@pytest.mark.django_db
def test_a_viewer_does_not_see_the_workers(viewer_client):
    assert viewer_client.get("/operations/").status_code == 403
