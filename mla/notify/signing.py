"""Webhook signatures: HMAC-SHA256 over the timestamp and the raw body.

The wire format (headers, what is signed, replay window) is documented in
:mod:`mla.notify.channels`, which re-exports everything here. This module has no dependency
beyond the standard library so that receivers and tests can use it alone.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-MLA-Signature"
TIMESTAMP_HEADER = "X-MLA-Timestamp"
EVENT_HEADER = "X-MLA-Event"
DELIVERY_HEADER = "X-MLA-Delivery"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE = 300  # seconds either side of the receiver's clock


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``b"<timestamp>." + body`` under ``secret``."""
    if not secret:
        raise ValueError("webhook secret must not be empty")
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(
    secret: bytes,
    timestamp: int | str,
    body: bytes,
    signature_header: str,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """True when ``signature_header`` holds a valid ``v1=`` signature of ``body`` at
    ``timestamp`` (the ``X-MLA-Timestamp`` value) and that timestamp is within ``tolerance``
    seconds of ``now`` (default: the clock). Never raises for malformed input: returns False.
    """
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance or not secret or not isinstance(signature_header, str):
        return False
    expected = sign(secret, ts, body)
    valid = False
    for item in signature_header.split(","):
        version, _, value = item.strip().partition("=")
        # Compare every candidate, without early exit, in constant time.
        if version == SIGNATURE_VERSION:
            # As bytes: compare_digest raises on non-ASCII str, and the header is untrusted.
            candidate = value.strip().lower().encode("utf-8", errors="replace")
            valid |= hmac.compare_digest(expected.encode(), candidate)
    return valid
