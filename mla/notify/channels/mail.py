"""E-mail over SMTP: one message, sent within the attempt's budget, each failure classified
(see :mod:`mla.notify.channels`)."""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import NoReturn

from mla.config import SmtpSettings
from mla.notify.channels.budget import DEFAULT_BUDGET, Budget
from mla.notify.channels.retry import DeliveryError

# Headers send_email sets itself; letting a caller override them would break threading,
# deduplication or MIME structure.
_RESERVED_HEADERS = {
    "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
    "content-type", "content-transfer-encoding",
}  # fmt: skip


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
            f"{where} refused every recipient: {detail}", retryable=retryable, reply_code=max(codes)
        ) from exc
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # Our configuration, not this message, is wrong: keep the message until it is fixed.
        raise DeliveryError(
            f"{where} rejected the SMTP credentials ({exc.smtp_code})",
            retryable=True,
            reply_code=exc.smtp_code,
        ) from exc
    if isinstance(exc, smtplib.SMTPResponseException):
        raw = exc.smtp_error or b""
        reply = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        raise DeliveryError(
            f"{where} answered {exc.smtp_code} {reply}".rstrip(),
            retryable=not 500 <= exc.smtp_code < 600,
            reply_code=exc.smtp_code,
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
    limit = Budget(budget)
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
