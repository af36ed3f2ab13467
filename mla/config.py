"""Settings from ``MLA_*`` environment variables, with embedded defaults.

Every setting can also be passed to :func:`mla.create_app` as a config mapping (tests do so).
A malformed setting raises :class:`mla.errors.ConfigError` with one line naming it.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from mla.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# name -> (default, description). Defaults that depend on the instance folder are filled in
# by load(); None means "derived" or "off".
SETTINGS: dict[str, tuple[Any, str]] = {
    "MLA_INSTANCE_DIR": ("./instance", "folder for the SQLite file, secret key, keyring, evidence"),
    "MLA_DATABASE_URL": (None, "SQLAlchemy URL; default sqlite:///<instance>/mla.db"),
    "MLA_SECRET_KEY": (None, "session signing key; default generated into <instance>/secret_key"),
    "MLA_WORKFLOWS_DIR": (str(PROJECT_ROOT / "workflows"), "folder of workflow definitions"),
    "MLA_EVIDENCE_DIR": (None, "evidence blob folder; default <instance>/evidence"),
    "MLA_KEYRING_FILE": (None, "key-encryption keyring; default <instance>/keyring.json"),
    "MLA_SIGNING_DIR": (None, "authorities' document signing keys; default <instance>/signing"),
    "MLA_DOCUMENT_TEMPLATES": (None, "folder of document templates overriding the shipped ones"),
    "MLA_MAX_UPLOAD_MB": ("2048", "largest evidence upload, in MiB"),
    "MLA_BASE_URL": ("http://127.0.0.1:5000", "public URL of the web UI, for links in e-mail"),
    "MLA_SMTP_URL": (None, "smtp://host:25, smtps://user:pass@host:465, ?starttls=1"),
    "MLA_MAIL_FROM": ("mla@localhost", "sender address of notification e-mail"),
    "MLA_WORKER_INTERVAL": ("30", "seconds between the worker's sweeps"),
    "MLA_DELIVERY_TIMEOUT": ("30", "seconds one e-mail or webhook delivery may take, in all"),
    "MLA_DELIVERY_WORKERS": ("8", "deliveries the worker makes at once"),
    "MLA_WEBHOOK_MAX_SUBSCRIPTIONS": ("10", "active webhook subscriptions per authority"),
    "MLA_WEBHOOK_ALLOW_PRIVATE": ("0", "1: webhooks may target loopback and private addresses"),
    "MLA_API_RATE": ("120/minute", "API calls per token, per web process: N/second|minute|hour"),
    "MLA_TRUSTED_PROXIES": ("0", "reverse proxies in front whose X-Forwarded-For is believed"),
}


def _positive_int(name: str, raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a positive whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be a positive whole number, got {raw!r}")
    return value


def _bounded_int(name: str, raw: Any, most: int) -> int:
    value = _positive_int(name, raw)
    if value > most:
        raise ConfigError(f"{name} must be at most {most}, got {raw!r}")
    return value


def _count(name: str, raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number from 0, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must be a whole number from 0, got {raw!r}")
    return value


def _flag(name: str, raw: Any) -> bool:
    value = str(raw).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def _api_rate(raw: Any) -> str:
    return str(parse_rate(raw))  # raises ConfigError with one line


def _secret_key(instance: Path) -> str:
    """Read the instance's secret key, generating it (mode 0600) on first use."""
    path = instance / "secret_key"
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_hex(32)
        # O_EXCL: two processes starting at once must not both write a key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
    if len(key) < 32:
        raise ConfigError(f"{path} holds a secret key shorter than 32 characters")
    return key


def normalize_database_url(url: str) -> str:
    """Check that ``url`` names a supported database; PostgreSQL goes through psycopg 3."""
    scheme = urlsplit(url).scheme
    if scheme.split("+")[0] not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"MLA_DATABASE_URL must be a sqlite:// or postgresql:// URL, got {scheme!r}"
        )
    if scheme == "postgresql":
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return url


def load(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Resolve every setting from ``overrides``, then the environment, then the default."""
    overrides = dict(overrides or {})

    def raw(name: str) -> Any:
        if name in overrides:
            return overrides[name]
        return os.environ.get(name, SETTINGS[name][0])

    instance = Path(raw("MLA_INSTANCE_DIR")).expanduser().resolve()
    try:
        instance.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"MLA_INSTANCE_DIR {instance} cannot be created: {exc.strerror}"
        ) from None

    url = normalize_database_url(raw("MLA_DATABASE_URL") or f"sqlite:///{instance / 'mla.db'}")

    workflows = Path(raw("MLA_WORKFLOWS_DIR")).expanduser().resolve()
    if not workflows.is_dir():
        raise ConfigError(f"MLA_WORKFLOWS_DIR {workflows} is not a folder")

    smtp = raw("MLA_SMTP_URL")
    if smtp:
        parse_smtp_url(smtp)  # raises ConfigError with one line, never echoing a password

    base_url = str(raw("MLA_BASE_URL")).rstrip("/")
    if urlsplit(base_url).scheme not in ("http", "https"):
        raise ConfigError(f"MLA_BASE_URL must be an http(s) URL, got {base_url!r}")

    settings = {
        "MLA_INSTANCE_DIR": instance,
        "MLA_DATABASE_URL": url,
        "MLA_SECRET_KEY": raw("MLA_SECRET_KEY") or _secret_key(instance),
        "MLA_WORKFLOWS_DIR": workflows,
        "MLA_EVIDENCE_DIR": Path(raw("MLA_EVIDENCE_DIR") or instance / "evidence").resolve(),
        "MLA_KEYRING_FILE": Path(raw("MLA_KEYRING_FILE") or instance / "keyring.json").resolve(),
        "MLA_SIGNING_DIR": Path(raw("MLA_SIGNING_DIR") or instance / "signing").resolve(),
        "MLA_DOCUMENT_TEMPLATES": raw("MLA_DOCUMENT_TEMPLATES") or None,
        "MLA_MAX_UPLOAD_MB": _positive_int("MLA_MAX_UPLOAD_MB", raw("MLA_MAX_UPLOAD_MB")),
        "MLA_BASE_URL": base_url,
        "MLA_SMTP_URL": smtp or None,
        "MLA_MAIL_FROM": raw("MLA_MAIL_FROM"),
        "MLA_WORKER_INTERVAL": _positive_int("MLA_WORKER_INTERVAL", raw("MLA_WORKER_INTERVAL")),
        "MLA_API_RATE": _api_rate(raw("MLA_API_RATE")),
        "MLA_DELIVERY_TIMEOUT": _bounded_int(
            "MLA_DELIVERY_TIMEOUT", raw("MLA_DELIVERY_TIMEOUT"), 600
        ),
        "MLA_DELIVERY_WORKERS": _bounded_int(
            "MLA_DELIVERY_WORKERS", raw("MLA_DELIVERY_WORKERS"), 64
        ),
        "MLA_WEBHOOK_MAX_SUBSCRIPTIONS": _positive_int(
            "MLA_WEBHOOK_MAX_SUBSCRIPTIONS", raw("MLA_WEBHOOK_MAX_SUBSCRIPTIONS")
        ),
        "MLA_TRUSTED_PROXIES": _count("MLA_TRUSTED_PROXIES", raw("MLA_TRUSTED_PROXIES")),
        "MLA_WEBHOOK_ALLOW_PRIVATE": _flag(
            "MLA_WEBHOOK_ALLOW_PRIVATE", raw("MLA_WEBHOOK_ALLOW_PRIVATE")
        ),
    }
    # Anything else the caller passed (Flask's own keys such as TESTING) goes through as is.
    settings.update({k: v for k, v in overrides.items() if k not in SETTINGS})
    return settings


# --- the grammars of settings that are more than a word or a number --------------------

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    period: float  # seconds

    def __str__(self) -> str:
        unit = {v: k for k, v in _PERIODS.items()}[self.period]
        return f"{self.count}/{unit}"


def parse_rate(raw: str) -> Rate:
    """``"120/minute"`` → Rate(120, 60). Raises ConfigError naming MLA_API_RATE."""
    match = _RATE.match(str(raw))
    if not match or int(match.group(1)) <= 0:
        raise ConfigError(
            f"MLA_API_RATE must look like 120/minute (per second, minute or hour), got {raw!r}"
        )
    return Rate(int(match.group(1)), _PERIODS[match.group(2)])


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
