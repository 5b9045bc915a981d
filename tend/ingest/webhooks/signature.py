"""Verifying the ``Stripe-Signature`` header of a webhook delivery.

Written here rather than calling ``stripe.Webhook.construct_event`` so that the official
SDK (a large package with its own HTTP stack) is only a test dependency, and so that each
failure has its own stable error code for the 400 answer and the data-quality ledger. The
scheme is Stripe's documented one: ``t=<unix time>,v1=<hex HMAC-SHA256 of "t.payload">``,
with any number of ``v1`` entries (Stripe sends two while a secret is being rolled).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SCHEME = "v1"


class SignatureError(ValueError):
    """The delivery cannot be trusted; ``code`` is a stable machine reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def compute_signature(*, payload: bytes, timestamp: int, secret: str) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<payload>"`` keyed with the endpoint secret."""
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify_signature(
    *, payload: bytes, header: str | None, secret: str, tolerance: int, now: float | None = None
) -> int:
    """Check ``header`` against ``payload``; return the signed timestamp or raise SignatureError.

    Every ``v1`` signature is compared in constant time. The timestamp must lie within
    ``tolerance`` seconds of now, in either direction, so a captured delivery cannot be
    replayed later.
    """
    if not header or not header.strip():
        raise SignatureError("missing_signature", "The Stripe-Signature header is missing.")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                timestamp = None
        elif key == SCHEME:
            signatures.append(value.strip())
    if timestamp is None:
        raise SignatureError(
            "malformed_signature", "The Stripe-Signature header has no valid t= timestamp."
        )
    if not signatures:
        raise SignatureError(
            "malformed_signature", "The Stripe-Signature header has no v1= signature."
        )
    expected = compute_signature(payload=payload, timestamp=timestamp, secret=secret)
    # Compare against every candidate without stopping early, so timing says nothing about
    # which one (if any) matched.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    if not matched:
        raise SignatureError(
            "bad_signature",
            "No v1 signature matches the payload; check TEND_STRIPE_WEBHOOK_SECRET "
            "against the endpoint's signing secret in Stripe.",
        )
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError(
            "expired_signature",
            f"The signature timestamp is more than {tolerance} seconds away from now.",
        )
    return timestamp
