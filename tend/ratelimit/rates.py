"""Rates (``"500/s"``, ``"30/15m"``) and who a request comes from.

Imported by ``tend.settings`` to read the ``TEND_RATE_LIMIT_*`` variables, so it needs no
configured Django at import time.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Any

from tend.lib.env import ConfigError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
UNIT_NAMES = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
OFF = {"off", "0", "none", ""}


@dataclass(frozen=True)
class Rate:
    """At most ``limit`` requests per ``seconds``-long window."""

    limit: int
    seconds: int

    def __str__(self) -> str:
        """Plain English for error bodies: ``500 requests per second``, ``30 per 15 minutes``."""
        noun = "request" if self.limit == 1 else "requests"
        if self.seconds in UNIT_NAMES:
            return f"{self.limit} {noun} per {UNIT_NAMES[self.seconds]}"
        for size in (86400, 3600, 60):
            if self.seconds % size == 0:
                return f"{self.limit} {noun} per {self.seconds // size} {UNIT_NAMES[size]}s"
        return f"{self.limit} {noun} per {self.seconds} seconds"


def parse_rate(text: str, name: str = "rate") -> Rate | None:
    """``"N/period"`` with period ``s``, ``m``, ``h`` or ``d``, optionally counted (``15m``);
    ``"off"`` or ``"0"`` means no limit (None). ConfigError names ``name`` otherwise."""
    if text.strip().lower() in OFF:
        return None
    match = _RATE.match(text)
    if match is None:
        raise ConfigError(
            f"{name} must look like 500/s, 600/m, 30/15m or 1000/h (or 'off'); got {text!r}"
        )
    limit, count, unit = int(match[1]), int(match[2] or 1), match[3]
    if limit == 0:
        return None
    seconds = count * UNITS[unit]
    if not 0 < seconds <= UNITS["d"]:
        # Counters of ended windows are pruned after a day (actions.counters_prune).
        raise ConfigError(f"{name} needs a period between 1s and 1d; got {text!r}")
    return Rate(limit=limit, seconds=seconds)


def env_rate(name: str, default: str) -> Rate | None:
    """The ``name`` environment variable as a Rate (None when the limit is off)."""
    return parse_rate(os.environ.get(name, default), name)


def client_ip(request: Any) -> str | None:
    """The caller's address as this server can trust it (None when there is none, as for a
    request built in code: django-axes stores it in an IP address column).

    ``REMOTE_ADDR``, unless ``TEND_PROXY_COUNT`` reverse proxies stand in front of Tend: then
    the address the outermost of them saw, i.e. the N-th entry from the right of
    ``X-Forwarded-For`` (entries further left are whatever the client chose to send).
    """
    from django.conf import settings

    count = int(getattr(settings, "TEND_PROXY_COUNT", 0))
    if count > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR") or None


def address_bucket(ip: str | None) -> str:
    """The part of an address a limit counts by: the address itself for IPv4, the /64
    network for IPv6 (one subscriber gets a whole /64, so single addresses are free)."""
    if not ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)
