"""The retry policy: how a failed delivery is classified (:class:`DeliveryError`) and when
the dispatcher tries again (:func:`next_retry`)."""

from __future__ import annotations

import random
from datetime import timedelta

from mla.errors import MLAError

#: Attempts per message, the first included. With :func:`backoff`'s defaults the waits between
#: them have ceilings 1, 2, 4, ... 64 min, then 2 h, 4 h, 6 h, 6 h: a message is declared dead
#: after about 10 hours on average (at most 20.5 h), which rides out an ordinary mail-server or
#: receiver outage but still tells an admin the same working day.
MAX_ATTEMPTS = 12


class DeliveryError(MLAError):
    """A message could not be delivered. ``retryable`` says whether trying later may succeed.

    ``reply_code`` is the SMTP reply or HTTP status when the remote side answered; ``retry_after``
    is the delay the remote side asked for (HTTP ``Retry-After``), if any.
    """

    status = 502
    title = "Delivery failed"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        reply_code: int | None = None,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.reply_code = reply_code
        self.retry_after = retry_after


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
