"""Signed one-click unsubscribe links (RFC 8058): a token names the address, nothing else.

The token is signed with SECRET_KEY (django.core.signing), so it cannot be forged or pointed at
another address; it does not expire, because an old email's link must keep working.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

from tend.lib.links import absolute

SALT = "tend.messaging.unsubscribe"


def unsubscribe_token(email: str) -> str:
    return signing.dumps(email.strip().lower(), salt=SALT, compress=True)


def unsubscribe_email(token: str) -> str | None:
    """The address a token was made for, or None for a forged or damaged token."""
    try:
        value = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, str) else None


def unsubscribe_url(email: str) -> str:
    return absolute(reverse("messaging:unsubscribe", args=[unsubscribe_token(email)]))
