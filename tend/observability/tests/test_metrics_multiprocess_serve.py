"""Under a real `tend serve` with two gunicorn workers, every scrape reports the requests of
both workers (prometheus-client multiprocess mode), whichever worker answers it."""

import http.client
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tend.ingest.tracking.tests.live_process import tend_server

TOKEN = "s" * 40
REQUESTS = 60


def _get(port: int, path: str, auth: str = "") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": auth} if auth else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _readyz_count(port: int) -> float:
    status, body = _get(port, "/metrics", f"Bearer {TOKEN}")
    assert status == 200, body[:300]
    total = 0.0
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "tend_http_requests_total" and sample.labels["route"] == "readyz":
                total += sample.value
    return total


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_scrape_sums_the_requests_of_both_gunicorn_workers(tmp_path):
    with tend_server(
        tmp_path, workers=2, TEND_METRICS_TOKEN=TOKEN, TEND_READY_WORKER_MINUTES="0"
    ) as server:
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: _get(server.port, "/readyz")[0], range(REQUESTS)))
        assert statuses == [200] * REQUESTS, _get(server.port, "/readyz")[1][:300]
        folders = list((tmp_path / "prometheus").glob("serve-*"))
        assert len(folders) == 1
        writers = {p.name for p in folders[0].glob("counter_*.db")}
        assert len(writers) == 2, writers  # both gunicorn workers answered some
        # Several scrapes, answered by either worker: each sees all the requests.
        assert [_readyz_count(server.port) for _ in range(6)] == [REQUESTS] * 6
