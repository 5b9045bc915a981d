"""Absolute links for text that leaves the browser: emails, webhooks, digests."""

from __future__ import annotations

from django.conf import settings


def site_url() -> str:
    """Where links in emails point: TEND_BASE_URL when set, else the first trusted origin."""
    base = settings.TEND_BASE_URL or next(
        iter(settings.CSRF_TRUSTED_ORIGINS), "http://localhost:8000"
    )
    return str(base).rstrip("/")


def absolute(path: str) -> str:
    """``path`` (from ``reverse``) as a full URL on this Tend."""
    return site_url() + path
