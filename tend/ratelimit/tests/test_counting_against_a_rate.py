"""Rates are read from settings loudly, counted exactly under concurrency, and reset per window."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.test import RequestFactory

from tend.lib.env import ConfigError
from tend.ratelimit.actions import counters_prune, rate_limit_hit
from tend.ratelimit.models import RateCounter
from tend.ratelimit.rates import Rate, address_bucket, client_ip, parse_rate

T = 1_800_000_000.0  # a multiple of 60, 3600 and 86400: the start of every window


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("500/s", Rate(500, 1)),
        ("600/m", Rate(600, 60)),
        ("30/15m", Rate(30, 900)),
        (" 1000 / h ", Rate(1000, 3600)),
        ("5/d", Rate(5, 86400)),
        ("off", None),
        ("0", None),
        ("0/m", None),
    ],
)
def test_a_rate_reads_as_requests_per_period(text: str, rate: Rate | None) -> None:
    assert parse_rate(text, "TEND_X") == rate


@pytest.mark.parametrize("text", ["500", "fast", "10/w", "10/0m", "10/2d", "-1/s"])
def test_a_bad_rate_stops_start_up_naming_the_variable(text: str) -> None:
    with pytest.raises(ConfigError, match="TEND_RATE_LIMIT_LOGIN"):
        parse_rate(text, "TEND_RATE_LIMIT_LOGIN")


def test_a_rate_describes_itself_in_words() -> None:
    assert str(Rate(500, 1)) == "500 requests per second"
    assert str(Rate(30, 900)) == "30 requests per 15 minutes"
    assert str(Rate(1, 3600)) == "1 request per hour"


@pytest.mark.django_db
def test_requests_over_the_limit_are_refused_until_the_window_ends() -> None:
    rate = Rate(3, 60)
    verdicts = [rate_limit_hit(scope="t", key="k", rate=rate, now=T + 10) for _ in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert [v.hits for v in verdicts] == [1, 2, 3, 4, 5]
    assert verdicts[-1].retry_after == 50
    # Another key and another scope have their own counts.
    assert rate_limit_hit(scope="t", key="other", rate=rate, now=T + 10).hits == 1
    assert rate_limit_hit(scope="u", key="k", rate=rate, now=T + 10).hits == 1
    # The next window starts from zero.
    fresh = rate_limit_hit(scope="t", key="k", rate=rate, now=T + 60.5)
    assert (fresh.allowed, fresh.hits, fresh.retry_after) == (True, 1, 60)


@pytest.mark.django_db
def test_a_hit_from_a_clock_that_lags_counts_against_the_current_window() -> None:
    rate = Rate(2, 60)
    rate_limit_hit(scope="t", key="k", rate=rate, now=T + 61)
    lagging = rate_limit_hit(scope="t", key="k", rate=rate, now=T + 59)
    assert lagging.hits == 2
    assert RateCounter.objects.get(bucket="t:k").window_start == T + 60


@pytest.mark.django_db
def test_no_rate_counts_nothing() -> None:
    assert rate_limit_hit(scope="t", key="k", rate=None).allowed
    assert not RateCounter.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_from_many_connections_are_all_counted() -> None:
    rate = Rate(10_000, 86400)
    seen: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        try:
            for _ in range(40):
                verdict = rate_limit_hit(scope="t", key="shared", rate=rate, now=T + 5)
                with lock:
                    seen.append(verdict.hits)
        finally:
            connection.close()

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connections.close_all()
    # Every hit got its own count: nothing lost, nothing counted twice.
    assert sorted(seen) == list(range(1, 241))
    assert RateCounter.objects.get(bucket="t:shared").hits == 240


@pytest.mark.django_db
def test_pruning_drops_counters_not_seen_for_a_day() -> None:
    rate = Rate(5, 60)
    rate_limit_hit(scope="t", key="old", rate=rate, now=T)
    rate_limit_hit(scope="t", key="new", rate=rate, now=T + 86400)
    assert counters_prune(now=T + 86400 + 30) == 1
    assert list(RateCounter.objects.values_list("bucket", flat=True)) == ["t:new"]


def test_the_client_address_is_remote_addr_unless_proxies_are_trusted(settings: Any) -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
    )
    settings.TEND_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.9"
    settings.TEND_PROXY_COUNT = 1  # the spoofed left-most entry is ignored
    assert client_ip(request) == "203.0.113.7"
    settings.TEND_PROXY_COUNT = 2
    assert client_ip(request) == "6.6.6.6"
    settings.TEND_PROXY_COUNT = 3  # fewer hops than proxies: a misconfiguration; trust nothing
    assert client_ip(request) == "10.0.0.9"


def test_ipv6_callers_are_counted_by_their_slash_64() -> None:
    assert address_bucket("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_bucket("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_bucket("::ffff:192.0.2.4") == "192.0.2.4"
    assert address_bucket("192.0.2.4") == "192.0.2.4"
    assert address_bucket(None) == "unknown"
    assert address_bucket("not-an-address") == "not-an-address"
