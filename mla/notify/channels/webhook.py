"""Signed webhooks: one POST to the subscriber's URL, within the attempt's budget, each
failure classified (see :mod:`mla.notify.channels`).

Webhook wire format (the API documentation copies this section)
----------------------------------------------------------------
``POST`` to the subscriber's URL, body as given (JSON, ``Content-Type: application/json``), with::

    X-MLA-Event: <event type, e.g. request.state_changed>
    X-MLA-Delivery: <delivery id; the same on every retry of one message, so deduplicate on it>
    X-MLA-Timestamp: <unix seconds when this attempt was signed>
    X-MLA-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body bytes)>

Receivers recompute the HMAC over the *raw* body bytes (before any JSON parsing), compare it in
constant time, and reject a timestamp more than 5 minutes from their clock (replay). During a
secret rotation the header may carry several comma-separated ``v1=`` values; any valid one is
accepted. :func:`mla.notify.signing.verify` implements exactly this. Header names are
case-insensitive (RFC 9110), so receivers must look them up without regard to case, as every
HTTP framework does. A 2xx answer acknowledges the delivery; redirects are not followed.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, cast
from urllib.parse import SplitResult, urlsplit

from mla.notify.channels.budget import DEFAULT_BUDGET, Budget
from mla.notify.channels.retry import DeliveryError
from mla.notify.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_VERSION,
    TIMESTAMP_HEADER,
    sign,
)

_USER_AGENT = "mla-webhook/1"
_ERROR_BODY_LIMIT = 512  # bytes of a failed response kept in the error, for the admin view


class TargetRefused(Exception):
    """Why a URL may not receive webhooks; ``retryable`` only for a host name that does not
    resolve now (DNS may recover)."""

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


def parse_target(url: str) -> SplitResult:
    """``url`` split, if it may receive webhooks by its form (the addresses it resolves to
    are :func:`mla.notify.subscriptions.target_addresses`'s business); raises TargetRefused."""
    if len(url) > 2048 or not (url.isascii() and url.isprintable()) or " " in url:
        raise TargetRefused(
            "must be at most 2048 printable ASCII characters (percent-encode, use IDNA)"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise TargetRefused("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("must be an http:// or https:// URL with a host")
    return parts


def _connect_to(addresses: Sequence[str] | None, limit: Budget) -> Callable[..., socket.socket]:
    """A replacement for http.client's ``_create_connection`` (its hook for where the socket
    comes from) that connects to the first of ``addresses`` that answers (None: to what the
    host resolves to), on the URL's port, and puts the socket under the attempt's budget.
    The host name stays what the request uses for its Host header, TLS SNI and certificate
    check; only the resolution is pinned."""

    def connect(
        address: tuple[str, int], timeout: float | None = None, source: Any = None
    ) -> socket.socket:
        error: OSError | None = None
        for ip in addresses if addresses is not None else [address[0]]:
            try:
                sock = socket.create_connection(
                    (ip, address[1]), limit.timeout(timeout or DEFAULT_BUDGET), source
                )
            except OSError as exc:
                error = exc
            else:
                return limit.watch(sock)
        raise error or OSError("no address to connect to")

    return connect


def _redacted(url: str) -> str:
    # Receivers sometimes put a token in the query string; keep it out of logs and the UI.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _retry_after(value: str | None) -> timedelta | None:
    if value and value.strip().isdigit():
        return timedelta(seconds=int(value.strip()))
    return None  # HTTP-date form is rare for webhooks; our own backoff applies


def post_webhook(
    url: str,
    secret: bytes,
    *,
    event_type: str,
    delivery_id: str,
    body: bytes,
    timeout: float = 10,
    content_type: str = "application/json",
    addresses: Sequence[str] | None = None,
    budget: float = DEFAULT_BUDGET,
) -> int:
    """POST ``body`` to ``url``, signed as the module docstring describes; return the 2xx status.

    ``timeout`` bounds each wait for the receiver; ``budget`` the whole attempt (connect, TLS,
    send, read the answer), however slowly the receiver drips its answer: past it the
    connection is cut and the failure is retryable.

    Redirects are not followed. Raises :class:`DeliveryError`: retryable for timeouts,
    connection errors, 5xx, 408 and 429 (with ``retry_after`` from the response); permanent
    for other statuses, a URL that is not absolute ASCII http(s), and an event type or
    delivery id that is not printable ASCII. Raises ValueError for an empty secret (a
    subscription must never exist without one).

    ``addresses``: connect only to these (the host's addresses as vetted by
    :func:`mla.notify.subscriptions.target_addresses`), never to whatever the name resolves
    to by the time the connection opens, so that a DNS answer changed after the check
    (rebinding) cannot turn the delivery toward the server's own network.
    """
    try:
        parts = parse_target(url)
    except TargetRefused as refused:
        raise DeliveryError(f"webhook URL {refused.reason}", retryable=False) from None
    for name, value in (("event_type", event_type), ("delivery_id", delivery_id)):
        if not (value and value.isascii() and value.isprintable()):
            raise DeliveryError(f"webhook {name} must be printable ASCII", retryable=False)
    timestamp = int(time.time())
    headers = {
        "Content-Type": content_type,
        "User-Agent": _USER_AGENT,
        EVENT_HEADER: event_type,
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"{SIGNATURE_VERSION}={sign(secret, timestamp, body)}",
    }
    # http.client, not urllib: it follows no redirect and takes no proxy from the
    # environment, and lets the connection go to the addresses vetted by the caller.
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    # The port always given: from a bare IPv6 literal http.client would take the last group.
    host = cast(str, parts.hostname)  # parse_target refused a URL without one
    connection = connection_class(
        host, parts.port or connection_class.default_port, timeout=timeout
    )
    limit = Budget(budget)
    connection._create_connection = _connect_to(addresses, limit)  # type: ignore[attr-defined]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    where = _redacted(url)
    with limit:
        try:
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            status = response.status
            # Read a little: the error message for the admin view; keep-alive peers are happy.
            snippet = response.read(_ERROR_BODY_LIMIT).decode("utf-8", errors="replace")
            retry_after = _retry_after(response.getheader("Retry-After"))
            location = response.getheader("Location")
        except (http.client.HTTPException, OSError) as exc:
            if limit.expired:
                raise limit.failure(where) from None
            raise DeliveryError(
                f"cannot reach {where}: {type(exc).__name__}: {exc}", retryable=True
            ) from None
        finally:
            connection.close()
    if 300 <= status < 400:
        raise DeliveryError(
            f"{where} redirected ({status}) to {location!r}; redirects are not followed, "
            "register the final URL",
            retryable=False,
            reply_code=status,
        )
    if not 200 <= status < 300:
        retryable = status >= 500 or status in (408, 429) or status < 200
        raise DeliveryError(
            f"{where} answered {status}: {snippet[:200]}".rstrip(": "),
            retryable=retryable,
            reply_code=status,
            retry_after=retry_after if retryable else None,
        )
    return status
