"""Delivery channels: SMTP e-mail and signed webhooks, with the retry policy the dispatcher uses.

No database here. The dispatcher reads a message from the outbox, calls :func:`send_email` or
:func:`post_webhook`, and on :class:`DeliveryError` asks :func:`next_retry` when to try again
(None: mark the message dead). Every failure is classified once, here:

* **retryable** — the network, the server or our own configuration is at fault and may recover:
  connection refused or reset, timeouts, DNS and TLS failures, SMTP 4xx, SMTP authentication
  failures (a wrong password must not kill every queued message), HTTP 5xx, 408 and 429;
* **permanent** — this message will never be accepted as it is: SMTP 5xx for the recipient,
  sender or content, HTTP 4xx other than 408/429, an HTTP redirect (we never follow one; the
  subscriber must register the final URL), a non-http(s) URL, a malformed message.

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
accepted. :func:`verify` implements exactly this. Header names are case-insensitive (RFC 9110),
so receivers must look them up without regard to case, as every HTTP framework does. A 2xx
answer acknowledges the delivery; redirects are not followed.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, NoReturn, cast
from urllib.parse import SplitResult, urlsplit

from mla.config import SmtpSettings, parse_smtp_url
from mla.errors import MLAError
from mla.notify.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_VERSION,
    TIMESTAMP_HEADER,
    sign,
    verify,
)

__all__ = [
    "DEFAULT_BUDGET",
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "MAX_ATTEMPTS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "DeliveryError",
    "SmtpSettings",
    "backoff",
    "next_retry",
    "parse_smtp_url",
    "post_webhook",
    "send_email",
    "sign",
    "verify",
]

#: Seconds a whole delivery attempt may take by default (MLA_DELIVERY_TIMEOUT).
DEFAULT_BUDGET = 30.0

#: Attempts per message, the first included. With :func:`backoff`'s defaults the waits between
#: them have ceilings 1, 2, 4, ... 64 min, then 2 h, 4 h, 6 h, 6 h: a message is declared dead
#: after about 10 hours on average (at most 20.5 h), which rides out an ordinary mail-server or
#: receiver outage but still tells an admin the same working day.
MAX_ATTEMPTS = 12

_USER_AGENT = "mla-webhook/1"
_ERROR_BODY_LIMIT = 512  # bytes of a failed response kept in the error, for the admin view
# Headers send_email sets itself; letting a caller override them would break threading,
# deduplication or MIME structure.
_RESERVED_HEADERS = {
    "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
    "content-type", "content-transfer-encoding",
}  # fmt: skip


class DeliveryError(MLAError):
    """A message could not be delivered. ``retryable`` says whether trying later may succeed.

    ``code`` is the SMTP reply or HTTP status when the remote side answered; ``retry_after``
    is the delay the remote side asked for (HTTP ``Retry-After``), if any.
    """

    status = 502
    title = "Delivery failed"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: int | None = None,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        self.retry_after = retry_after


# -- retry policy ------------------------------------------------------------------------


def backoff(
    attempt: int, base: float = 60, cap: float = 6 * 3600, rng: random.Random | None = None
) -> timedelta:
    """Delay before the next try after failed attempt number ``attempt`` (1 = the first try).

    Exponential with full jitter: uniform in ``[0, min(cap, base * 2**(attempt-1))]`` seconds,
    so that many messages failing together (a mail server restart) do not retry together.
    Pass a seeded ``random.Random`` for reproducible delays. Raises ValueError if attempt < 1.
    """
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1, got {attempt}")
    ceiling = min(cap, base * 2 ** min(attempt - 1, 64))
    return timedelta(seconds=(rng or random).uniform(0, ceiling))


def next_retry(
    attempt: int, error: DeliveryError, *, rng: random.Random | None = None
) -> timedelta | None:
    """How long to wait before retrying after ``attempt`` failed with ``error``, or None if the
    message is dead (permanent error, or ``attempt`` was the last of :data:`MAX_ATTEMPTS`).

    A remote ``Retry-After`` is honoured as a lower bound, capped at the backoff cap.
    """
    if not error.retryable or attempt >= MAX_ATTEMPTS:
        return None
    delay = backoff(attempt, rng=rng)
    if error.retry_after is not None:
        delay = max(delay, min(error.retry_after, timedelta(hours=6)))
    return delay


# -- the whole attempt's time budget -----------------------------------------------------


class _Budget:
    """A deadline for a whole delivery attempt: connect, TLS, send and read the answer.

    Socket timeouts bound each wait, not the attempt: a receiver that drips one byte per
    second resets them forever. So a timer shuts down every socket the attempt opened when
    the budget runs out, which ends whatever read or write is blocked; :meth:`timeout` gives
    each socket operation no more than what is left. Use as a context manager around one
    attempt, and :meth:`watch` each socket as it is created.
    """

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError(f"a delivery budget must be positive, got {seconds}")
        self.seconds = seconds
        self._cut_off = False
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        # Duplicates of the watched descriptors: shutdown() acts on the connection, which
        # they share, even after TLS wrapping has moved the original into a new object.
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Budget:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            watched, self._watched = self._watched, []
        for sock in watched:
            sock.close()

    @property
    def expired(self) -> bool:
        return self._cut_off or time.monotonic() >= self._ends

    def timeout(self, limit: float) -> float:
        """``limit`` or the time left, whichever is smaller; raises TimeoutError when none is."""
        left = self._ends - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the delivery took more than its {self.seconds:g} s")
        return min(limit, left)

    def watch(self, sock: socket.socket) -> socket.socket:
        """Have ``sock``'s connection shut down when the budget runs out; returns ``sock``."""
        duplicate = socket.socket(fileno=os.dup(sock.fileno()))
        with self._lock:
            self._watched.append(duplicate)
            cut = self._cut_off
        if cut:
            self._cut(duplicate)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self._cut_off = True
            watched = list(self._watched)
        for sock in watched:
            self._cut(sock)

    @staticmethod
    def _cut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def failure(self, where: str) -> DeliveryError:
        return DeliveryError(
            f"{where} took longer than the {self.seconds:g} s a delivery may take "
            "(MLA_DELIVERY_TIMEOUT); cut off",
            retryable=True,
        )


# -- e-mail ------------------------------------------------------------------------------


def _build_message(
    *,
    sender: str,
    to: list[str],
    subject: str,
    text_body: str,
    html_body: str | None,
    headers: dict[str, str] | None,
    message_id: str | None,
) -> EmailMessage:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg = EmailMessage()
    try:
        msg["From"] = sender
        msg["To"] = ", ".join(to)
        msg["Subject"] = subject
        msg["Date"] = format_datetime(datetime.now(UTC))
        # make_msgid with an explicit domain: the default calls socket.getfqdn(), which can
        # block for seconds on a host with broken reverse DNS.
        msg["Message-ID"] = message_id or make_msgid(domain=domain)
        # RFC 3834: stops out-of-office replies from looping back into the authority's inbox.
        msg["Auto-Submitted"] = "auto-generated"
        for name, value in (headers or {}).items():
            if name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"header {name} is set by send_email itself")
            del msg[name]
            msg[name] = value
        # Quoted-printable keeps the body 7-bit clean for relays without 8BITMIME.
        msg.set_content(text_body, charset="utf-8", cte="quoted-printable")
        if html_body is not None:
            msg.add_alternative(html_body, subtype="html", charset="utf-8", cte="quoted-printable")
    except (ValueError, TypeError) as exc:
        # Header injection (CR/LF) and similar: the same data will fail the same way forever.
        raise DeliveryError(f"malformed e-mail: {exc}", retryable=False) from None
    return msg


def _smtp_failure(exc: Exception, settings: SmtpSettings) -> NoReturn:
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(
            f"{rcpt}: {code} {reply.decode(errors='replace')}"
            for rcpt, (code, reply) in exc.recipients.items()
        )
        retryable = any(400 <= code < 500 for code in codes)
        raise DeliveryError(
            f"{where} refused every recipient: {detail}", retryable=retryable, code=max(codes)
        ) from exc
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # Our configuration, not this message, is wrong: keep the message until it is fixed.
        raise DeliveryError(
            f"{where} rejected the SMTP credentials ({exc.smtp_code})",
            retryable=True,
            code=exc.smtp_code,
        ) from exc
    if isinstance(exc, smtplib.SMTPResponseException):
        raw = exc.smtp_error or b""
        reply = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        raise DeliveryError(
            f"{where} answered {exc.smtp_code} {reply}".rstrip(),
            retryable=not 500 <= exc.smtp_code < 600,
            code=exc.smtp_code,
        ) from exc
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        raise DeliveryError(f"{where}: {exc} (check MLA_SMTP_URL)", retryable=True) from exc
    # SMTPServerDisconnected, refused connections, timeouts, DNS and TLS failures.
    raise DeliveryError(
        f"cannot reach SMTP server {where}: {type(exc).__name__}: {exc}", retryable=True
    ) from exc


def send_email(
    settings: SmtpSettings,
    *,
    sender: str,
    to: list[str],
    subject: str,
    text_body: str,
    html_body: str | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
    budget: float = DEFAULT_BUDGET,
) -> str:
    """Submit one UTF-8 message over SMTP and return its Message-ID (with angle brackets).

    ``html_body``, if given, becomes a multipart/alternative part. ``headers`` adds headers
    (not From/To/Subject/Date/Message-ID/MIME ones). Pass a stable ``message_id`` (e.g. from
    the outbox row) so that a retry after an ambiguous failure reuses it and mail clients can
    spot the duplicate. Prefer one recipient per call: if the server accepts some recipients
    and refuses others, the refusal is raised as permanent (a retry would duplicate the mail
    to those who got it).

    The whole exchange takes at most ``budget`` seconds, however slowly the server answers;
    past it the connection is cut and the failure is retryable.

    Raises :class:`DeliveryError` (see the module docstring for which failures are retryable).
    """
    if not to:
        raise DeliveryError("e-mail has no recipients", retryable=False)
    msg = _build_message(
        sender=sender,
        to=to,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        headers=headers,
        message_id=message_id,
    )
    context = ssl.create_default_context() if settings.ssl or settings.starttls else None
    limit = _Budget(budget)
    smtp = smtplib.SMTP(timeout=settings.timeout)

    def open_socket(host: str, port: int, timeout: float) -> socket.socket:
        # smtplib's own opener, watched by the budget before any byte (greeting, implicit
        # TLS handshake) is awaited: SMTP_SSL would shake hands before we could watch it.
        sock = limit.watch(socket.create_connection((host, port), limit.timeout(timeout)))
        if context is not None and settings.ssl:
            return context.wrap_socket(sock, server_hostname=host)
        return sock

    smtp._get_socket = open_socket  # type: ignore[attr-defined]
    # Connect outside the constructor: a constructor that times out waiting for the greeting
    # leaks its socket. connect() does not record the host that TLS needs for SNI and the
    # certificate check, so set it as the constructor would have.
    smtp._host = settings.host  # type: ignore[attr-defined]
    delivered = False
    with limit:
        try:
            code, reply = smtp.connect(settings.host, settings.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, reply)
            if settings.starttls:
                smtp.starttls(context=context)
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            refused = smtp.send_message(msg, from_addr=parseaddr(sender)[1], to_addrs=to)
            delivered = True
        except (smtplib.SMTPException, OSError) as exc:
            if limit.expired:
                raise limit.failure(f"SMTP server {settings.host}:{settings.port}") from None
            _smtp_failure(exc, settings)
        finally:
            if delivered:
                # Accepted: a failed QUIT must not turn it into a retry (a duplicate).
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    smtp.quit()
            smtp.close()
    if refused:
        detail = "; ".join(
            f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in refused.items()
        )
        raise DeliveryError(
            f"delivered as {msg['Message-ID']} but refused for {detail}", retryable=False
        )
    return str(msg["Message-ID"])


# -- webhooks ----------------------------------------------------------------------------


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


def _connect_to(addresses: Sequence[str] | None, limit: _Budget) -> Callable[..., socket.socket]:
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
    limit = _Budget(budget)
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
            code=status,
        )
    if not 200 <= status < 300:
        retryable = status >= 500 or status in (408, 429) or status < 200
        raise DeliveryError(
            f"{where} answered {status}: {snippet[:200]}".rstrip(": "),
            retryable=retryable,
            code=status,
            retry_after=retry_after if retryable else None,
        )
    return status
