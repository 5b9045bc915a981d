"""Outgoing webhook endpoints: which URLs are accepted, and their signing secrets.

Verifying a delivery (the receiver's side; docs/email.md has the full example)::

    t, v1 = dict(p.split("=", 1) for p in header.split(",")).values()
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, v1) and abs(time.time() - int(t)) < 300
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

URL_LENGTH = 2000
SECRET_PREFIX = "whsec_"


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook endpoint (in the reader's language), or None.

    Only absolute http:// and https:// URLs with a host: ``javascript:``, ``file:``,
    ``ftp:`` and the like are refused, as are credentials in the URL (they would be shown
    on every page that lists the endpoint).
    """
    if not url or not url.strip():
        return _("Enter the URL to post to.")
    if len(url) > URL_LENGTH:
        return _("The URL is longer than %(max)s characters.") % {"max": URL_LENGTH}
    if any(ord(c) < 33 or ord(c) == 127 for c in url) or not url.isprintable():
        return _("The URL may not contain spaces or control characters.")
    if not url.isascii():
        return _(
            "Write the URL in ASCII: percent-encode other characters, and use the punycode "
            "form of an international host name."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except (ValueError, UnicodeError):
        return _("This is not a valid URL.")
    if parts.scheme.lower() not in ("http", "https"):
        return _("Only http:// and https:// URLs are accepted, not “%(scheme)s:”.") % {
            "scheme": parts.scheme[:20] or "?"
        }
    if not parts.hostname:
        return _("The URL has no host name.")
    if parts.username or parts.password:
        return _("Put no user name or password in the URL; the signature authenticates Tend.")
    if port == 0:
        return _("This is not a valid URL.")
    return None


def secret_new() -> str:
    """A fresh signing secret (shown once to the owner who creates or rotates it)."""
    return SECRET_PREFIX + secrets.token_hex(24)


def secret_hint(secret: str) -> str:
    """What the pages show of a secret after it was created: its last 4 characters."""
    return "…" + secret[-4:] if secret else ""
