"""Webhook subscriptions per authority, their sealed secrets and the URL policy.

The signing secret must be available in clear to sign each delivery, so it cannot be hashed
like an API token. It is sealed with AES-256-GCM under a data key of its own, which the
keyring (``MLA_KEYRING_FILE``, the one that wraps evidence data keys) wraps, bound to the
subscribing authority, and shown once on creation. Changing ``MLA_SECRET_KEY`` (sessions)
leaves it alone; ``mla keys rotate`` moves it to the new key at the worker's next pass.
Secrets sealed under ``MLA_SECRET_KEY`` by older versions are sealed again under the keyring
by :func:`reseal_secrets` (``mla init``, every worker pass) while that key is unchanged.

URL policy: http(s) only, and no target that resolves to a loopback, private, link-local or
otherwise non-global address, nor to an IPv6 address that embeds one (IPv4-mapped, 6to4,
NAT64...), since the server would otherwise POST into its own network, unless
``MLA_WEBHOOK_ALLOW_PRIVATE`` is on (tests, single-network deployments). The dispatcher checks
again at each delivery, since DNS can change after subscription, and connects to the
addresses it checked, so that DNS cannot change between the check and the connection.
"""

from __future__ import annotations

import builtins
import ipaddress
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mla.authorities.models import Authority, Role
from mla.config import SETTINGS
from mla.db import begin_write, utcnow
from mla.errors import N_, FieldError, IntegrityError, Invalid, NotAllowed, NotFound
from mla.keyring import Keyring
from mla.notify.channels import TargetRefused, parse_target
from mla.notify.models import WebhookSubscription

#: Event types a subscription may ask for; an empty list or None means all of them.
EVENTS = ("request.created", "request.state_changed", "deadline.escalated")


class Actor(Protocol):
    """Who manages subscriptions: what :class:`mla.requests.scope.Actor` offers, named here so
    that notify, below the requests feature, need not import it."""

    @property
    def authority(self) -> Authority: ...

    @property
    def role(self) -> Role: ...


_LEGACY = b"\x01"  # sealed under a key derived from MLA_SECRET_KEY, before the keyring
_SEALED = b"\x02"  # sealed under a data key that the keyring wraps
_OVERHEAD = 1 + 12 + 16  # version, nonce, GCM tag

log = logging.getLogger("mla.notify")


def _aad(authority_id: int) -> bytes:
    # Binding to the authority: a sealed secret copied onto another row does not open.
    return f"webhook_subscription:{authority_id}".encode()


@dataclass(frozen=True)
class Sealed:
    """A sealed secret as its row stores it."""

    sealed: bytes
    key_id: str
    wrapped_key: bytes


def seal_secret(secret: bytes, authority_id: int, keyring: Keyring) -> Sealed:
    """``secret`` sealed with AES-256-GCM under a fresh data key wrapped by ``keyring``'s
    current key, bound to ``authority_id``."""
    data_key = AESGCM.generate_key(bit_length=256)
    key_id, wrapped = keyring.wrap(data_key)
    nonce = os.urandom(12)
    ciphertext = AESGCM(data_key).encrypt(nonce, secret, _aad(authority_id))
    return Sealed(_SEALED + nonce + ciphertext, key_id, wrapped)


def open_secret(
    sealed: bytes, key_id: str | None, wrapped: bytes | None, authority_id: int, keyring: Keyring
) -> bytes:
    """The clear secret of a subscription of ``authority_id`` from its stored columns
    (``secret_sealed``, ``secret_key_id``, ``secret_wrapped_key``). Raises IntegrityError when
    it does not open: still sealed under a former ``MLA_SECRET_KEY`` (see
    :func:`reseal_secrets`), its key retired or missing from the keyring, or the row altered."""
    if sealed[:1] == _LEGACY:
        raise IntegrityError(
            N_(
                "webhook secret is still sealed under MLA_SECRET_KEY and could not be sealed "
                "under the keyring (that key has changed since); the subscriber must subscribe "
                "again"
            )
        )
    if sealed[:1] != _SEALED or len(sealed) < _OVERHEAD or key_id is None or wrapped is None:
        raise IntegrityError(N_("webhook secret is in an unknown format"))
    data_key = keyring.unwrap(key_id, wrapped)
    try:
        return AESGCM(data_key).decrypt(sealed[1:13], sealed[13:], _aad(authority_id))
    except InvalidTag:
        raise IntegrityError(N_("webhook secret does not open: the row was altered")) from None


def _open_legacy(sealed: bytes, authority_id: int, secret_key: str) -> bytes:
    """A secret sealed by an older version, under a key derived from ``secret_key``."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"mla webhook secret v1"
    ).derive(secret_key.encode())
    try:
        return AESGCM(key).decrypt(sealed[1:13], sealed[13:], _aad(authority_id))
    except InvalidTag:
        raise IntegrityError(N_("does not open under the current MLA_SECRET_KEY")) from None


def reseal_secrets(session: Session, keyring: Keyring, secret_key: str | None) -> int:
    """Seal again, under ``keyring``'s current key, every subscription secret not under it:
    those an older version sealed under ``MLA_SECRET_KEY`` (opened with ``secret_key``, which
    must still be the key they were sealed with), and those under an older keyring key after
    ``mla keys rotate`` (only their data key is wrapped again). The worker calls this at the
    start of every pass and ``mla init`` after upgrading, so that a later change of
    ``MLA_SECRET_KEY`` or retirement of a keyring key loses no subscription.

    Flushes; returns how many were sealed again. A secret that does not open is logged and
    left as it is (its deliveries go dead saying why); never raises for one.
    """
    current = keyring.current_key_id
    rows = session.scalars(
        select(WebhookSubscription)
        .where(
            or_(
                WebhookSubscription.secret_key_id.is_(None),
                WebhookSubscription.secret_key_id != current,
            )
        )
        .order_by(WebhookSubscription.id)
    ).all()
    done = 0
    for row in rows:
        try:
            if row.secret_key_id is None:
                if row.secret_sealed[:1] != _LEGACY or not secret_key:
                    raise IntegrityError(N_("is in an unknown format or MLA_SECRET_KEY is unset"))
                clear = _open_legacy(row.secret_sealed, row.authority_id, secret_key)
                sealed = seal_secret(clear, row.authority_id, keyring)
                row.secret_sealed = sealed.sealed
                row.secret_key_id, row.secret_wrapped_key = sealed.key_id, sealed.wrapped_key
            else:
                if row.secret_wrapped_key is None:
                    raise IntegrityError(N_("has a key id but no wrapped data key"))
                row.secret_key_id, row.secret_wrapped_key = keyring.rewrap(
                    row.secret_key_id, row.secret_wrapped_key
                )
        except IntegrityError as exc:
            log.warning("webhook subscription %s: its secret %s", row.id, exc.message)
            continue
        done += 1
    session.flush()
    return done


#: IPv6 prefixes whose last 32 bits are an IPv4 address the packet may end up at: a gateway
#: or the host's own stack translates them. IPv4-mapped ``::ffff:0:0/96`` is read by
#: :attr:`~ipaddress.IPv6Address.ipv4_mapped`, 6to4 by ``sixtofour``, Teredo by ``teredo``.
_EMBEDDING = [
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (deprecated, RFC 4291)
    ipaddress.IPv6Network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT, RFC 2765)
    ipaddress.IPv6Network("64:ff9b::/96"),  # NAT64 well-known prefix (RFC 6052)
]
#: Local-use NAT64 (RFC 8215): the operator's own translator, wherever it embeds the address.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def public_address(address: str) -> bool:
    """Whether a webhook may connect to ``address``: a global address, and for an IPv6
    address that carries an IPv4 one (IPv4-mapped, -compatible or -translated, 6to4, NAT64,
    Teredo), a global IPv4 address too, since that is where the packet is delivered."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if not ip.is_global:
        return False
    if not isinstance(ip, ipaddress.IPv6Address):
        return True
    if ip in _LOCAL_NAT64:
        return False
    embedded: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        embedded.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        embedded.append(ip.sixtofour)
    if ip.teredo is not None:
        embedded.extend(ip.teredo)
    if any(ip in network for network in _EMBEDDING):
        embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return all(v4.is_global for v4 in embedded)


def target_addresses(url: str, *, allow_private: bool) -> list[str]:
    """The addresses a delivery to ``url`` may connect to: all its host resolves to, each
    checked to be global unless ``allow_private``. The delivery connects to these and does
    not resolve the name again. Raises TargetRefused."""
    parts = parse_target(url)
    try:
        infos = socket.getaddrinfo(
            parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_STREAM,
        )  # fmt: skip
    except (OSError, UnicodeError):
        raise TargetRefused(f"host {parts.hostname} does not resolve", retryable=True) from None
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if not allow_private and not public_address(address):
            raise TargetRefused(
                f"host {parts.hostname} resolves to a non-public address ({address})"
            )
        if address not in addresses:
            addresses.append(address)
    return addresses


def target_problem(url: str, *, allow_private: bool) -> TargetRefused | None:
    """Why ``url`` may not be subscribed, or None. With ``allow_private`` only its form is
    checked: on a private network the receiver need not resolve from here yet."""
    try:
        if allow_private:
            parse_target(url)
        else:
            target_addresses(url, allow_private=False)
    except TargetRefused as refused:
        return refused
    return None


class SubscriptionService:
    """Webhook subscriptions of one authority at a time, managed by its admins (the one rule
    the API and the web UI both ask: :meth:`managed_by`); every method is scoped to the
    acting authority.

    Its settings are given by whoever builds it (:func:`mla.app_services.subscription_service`
    for the app): ``keyring`` seals new secrets (a keyring, or a function that opens it, called
    when first needed: listing and removing need no key; :meth:`add` requires one);
    ``allow_private`` is ``MLA_WEBHOOK_ALLOW_PRIVATE`` (off by default); ``most`` is
    ``MLA_WEBHOOK_MAX_SUBSCRIPTIONS`` (the setting's default by default)."""

    def __init__(
        self,
        session: Session,
        *,
        keyring: Keyring | Callable[[], Keyring] | None = None,
        allow_private: bool = False,
        most: int = int(SETTINGS["MLA_WEBHOOK_MAX_SUBSCRIPTIONS"][0]),
    ) -> None:
        self.session = session
        self._keyring = keyring
        self.allow_private = allow_private
        self.most = most

    def keyring(self) -> Keyring:
        """The keyring that seals new secrets, opened on first use."""
        if self._keyring is None:
            raise TypeError("SubscriptionService was built without a keyring")
        if not isinstance(self._keyring, Keyring):
            self._keyring = self._keyring()
        return self._keyring

    @staticmethod
    def managed_by(actor: Actor) -> Authority:
        """The authority whose subscriptions ``actor`` may list, add and remove: its own, if
        ``actor`` is an admin (a user, or a system through a token issued ``--role admin``).
        A subscription sends the request's movements to a URL of one's choosing, so it is an
        admin's decision, not a clerk's. Raises NotAllowed otherwise."""
        if not actor.role.includes(Role.ADMIN):
            raise NotAllowed(
                N_(
                    "webhook subscriptions are managed by the authority's admins (a system needs "
                    "a token issued with --role admin)"
                )
            )
        return actor.authority

    def list(self, actor: Actor) -> builtins.list[WebhookSubscription]:
        """The acting authority's active subscriptions, oldest first. Raises NotAllowed
        (:meth:`managed_by`)."""
        authority = self.managed_by(actor)
        return list(
            self.session.scalars(
                select(WebhookSubscription)
                .where(
                    WebhookSubscription.authority_id == authority.id,
                    WebhookSubscription.active.is_(True),
                )
                .order_by(WebhookSubscription.id)
            )
        )

    def add(
        self,
        actor: Actor,
        url: str,
        events: builtins.list[str] | None = None,
        *,
        now: datetime | None = None,
    ) -> tuple[WebhookSubscription, str]:
        """Subscribe ``url`` to ``events`` (None or empty: all of :data:`EVENTS`) for the
        acting authority.

        Returns the subscription and its signing secret, which is shown this once and kept
        only sealed. Raises NotAllowed (:meth:`managed_by`); Invalid naming ``url`` or
        ``events``, or ``url`` when the authority already has ``MLA_WEBHOOK_MAX_SUBSCRIPTIONS``
        active subscriptions (each one is a receiver the worker must wait on).
        """
        authority = self.managed_by(actor)
        url = (url or "").strip()
        problem = target_problem(url, allow_private=self.allow_private)
        if problem is not None:
            raise Invalid(FieldError("url", problem.reason))
        wanted: builtins.list[str] = sorted(set(events or ()))
        unknown = [e for e in wanted if e not in EVENTS]
        if unknown:
            raise Invalid(
                FieldError(
                    "events",
                    N_("unknown event %(unknown)r; known: %(EVENTS)s"),
                    {"unknown": unknown[0], "EVENTS": ", ".join(EVENTS)},
                )
            )
        # Two admins adding at once must not both pass the count: serialize per authority.
        begin_write(self.session)
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                select(Authority.id).where(Authority.id == authority.id).with_for_update()
            )
        active = self.session.scalar(
            select(func.count())
            .select_from(WebhookSubscription)
            .where(
                WebhookSubscription.authority_id == authority.id,
                WebhookSubscription.active.is_(True),
            )
        )
        if (active or 0) >= self.most:
            raise Invalid(
                FieldError(
                    "url",
                    N_(
                        "%(code)s already has %(active)s webhook subscriptions, the most "
                        "allowed; remove one first"
                    ),
                    {"code": authority.code, "active": active},
                )
            )
        secret = "whsec_" + secrets.token_urlsafe(32)
        sealed = seal_secret(secret.encode(), authority.id, self.keyring())
        subscription = WebhookSubscription(
            authority_id=authority.id,
            url=url,
            secret_sealed=sealed.sealed,
            secret_key_id=sealed.key_id,
            secret_wrapped_key=sealed.wrapped_key,
            events=wanted or None,
            active=True,
            created_at=now or utcnow(),
        )
        self.session.add(subscription)
        self.session.flush()
        return subscription, secret

    def remove(
        self, actor: Actor, subscription_id: int, *, now: datetime | None = None
    ) -> WebhookSubscription:
        """Stop deliveries to subscription ``subscription_id`` of the acting authority; its
        queued messages go dead. Raises NotAllowed (:meth:`managed_by`); NotFound for an
        unknown id or another authority's."""
        authority = self.managed_by(actor)
        subscription = self.session.get(WebhookSubscription, subscription_id)
        if (
            subscription is None
            or subscription.authority_id != authority.id
            or not subscription.active
        ):
            raise NotFound(
                N_("no webhook subscription %(subscription_id)s"),
                {"subscription_id": subscription_id},
            )
        subscription.active = False
        subscription.removed_at = now or utcnow()
        self.session.flush()
        return subscription
