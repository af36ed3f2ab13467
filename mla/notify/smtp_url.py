"""``MLA_SMTP_URL``: where and how notification e-mail is submitted.

Apart from :mod:`mla.notify.channels` (which re-exports both names) so that configuration
loading can validate the URL at start-up without importing the delivery code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from mla.errors import ConfigError

_TRUTHY = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to submit mail. Build it with :func:`parse_smtp_url`."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl: bool = False  # implicit TLS from the first byte (smtps://, usually port 465)
    starttls: bool = False  # upgrade a plain connection (usually port 587)
    timeout: float = 30.0


def parse_smtp_url(url: str) -> SmtpSettings:
    """Parse ``MLA_SMTP_URL``: ``smtp://host[:port]``, ``smtp://user:pass@host:587?starttls=1``,
    ``smtps://user:pass@host[:465]``; optional ``timeout=<seconds>`` in the query.

    User and password are percent-decoded (write ``@`` as ``%40``). Credentials over plain
    ``smtp://`` without ``starttls=1`` are refused, since they would cross the network in
    clear. Raises :class:`~mla.errors.ConfigError` naming the problem; the message never
    contains the password.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except (ValueError, TypeError, AttributeError):
        raise ConfigError("MLA_SMTP_URL is not a valid URL") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError(f"MLA_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme!r}")
    if not parts.hostname:
        raise ConfigError("MLA_SMTP_URL has no host name")
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigError("MLA_SMTP_URL must not have a path or fragment")
    implicit_tls = parts.scheme == "smtps"
    starttls = False
    timeout = 30.0
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "starttls" and value.lower() in _TRUTHY:
            starttls = _TRUTHY[value.lower()]
        elif key == "timeout":
            try:
                timeout = float(value)
            except ValueError:
                timeout = -1.0
            if not 0 < timeout <= 600:
                raise ConfigError(f"MLA_SMTP_URL timeout must be 0-600 seconds, got {value!r}")
        else:
            raise ConfigError(f"MLA_SMTP_URL has an unknown or malformed option {key}={value!r}")
    if implicit_tls and starttls:
        raise ConfigError("MLA_SMTP_URL: smtps:// is already TLS; drop starttls=1")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise ConfigError("MLA_SMTP_URL has a password but no user name")
    if username and not (implicit_tls or starttls):
        raise ConfigError(
            "MLA_SMTP_URL sends credentials unencrypted; use smtps:// or add ?starttls=1"
        )
    return SmtpSettings(
        host=parts.hostname,
        port=port or (465 if implicit_tls else 25),
        username=username,
        password=password,
        ssl=implicit_tls,
        starttls=starttls,
        timeout=timeout,
    )
