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

The parts: :mod:`~mla.notify.channels.retry` (the classification's error and the retry
policy), :mod:`~mla.notify.channels.budget` (one attempt's time limit),
:mod:`~mla.notify.channels.mail` and :mod:`~mla.notify.channels.webhook` (its wire format).
"""

from __future__ import annotations

from mla.config import SmtpSettings, parse_smtp_url
from mla.notify.channels.budget import DEFAULT_BUDGET
from mla.notify.channels.mail import send_email
from mla.notify.channels.retry import MAX_ATTEMPTS, DeliveryError, backoff, next_retry
from mla.notify.channels.webhook import TargetRefused, parse_target, post_webhook
from mla.notify.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
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
    "TargetRefused",
    "backoff",
    "next_retry",
    "parse_smtp_url",
    "parse_target",
    "post_webhook",
    "send_email",
    "sign",
    "verify",
]
