"""Webhook secrets live under the keyring: changing MLA_SECRET_KEY (sessions) no longer breaks
a subscription, secrets sealed the old way are sealed again by the worker while the old key
still holds, and a keyring rotation moves them along, so the old key can be retired."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select

from mla import worker
from mla.app_services import evidence_service
from mla.errors import Conflict
from mla.keyring import app_keyring
from mla.notify.channels import verify
from mla.notify.models import Channel, Notification, Status, WebhookSubscription
from tests.notify.test_notify_dispatch import receiver  # noqa: F401 - the fixture

SECRET = b"whsec_made-by-the-previous-version"


def _sealed_the_old_way(secret: bytes, authority_id: int, secret_key: str) -> bytes:
    """What the previous version stored: AES-GCM under HKDF(MLA_SECRET_KEY)."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"mla webhook secret v1"
    ).derive(secret_key.encode())
    nonce = os.urandom(12)
    aad = f"webhook_subscription:{authority_id}".encode()
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, secret, aad)


@pytest.fixture
def old_subscription(app, session, world, receiver):  # noqa: F811
    _state, url = receiver
    sub = WebhookSubscription(
        authority_id=world.arg.id,
        url=url,
        secret_sealed=_sealed_the_old_way(SECRET, world.arg.id, app.config["MLA_SECRET_KEY"]),
        active=True,
    )
    session.add(sub)
    session.commit()
    app.config["MLA_WEBHOOK_ALLOW_PRIVATE"] = True
    return sub


def _deliver_one(app, session, sub: WebhookSubscription, n: int) -> Notification:
    now = datetime(2026, 3, 2, 15, tzinfo=UTC) + timedelta(minutes=n)
    row = Notification(
        channel=Channel.WEBHOOK, event="request.state_changed", authority_id=sub.authority_id,
        subscription_id=sub.id, payload={"reference": "MLA-ARG-2026-00001", "n": n},
        next_attempt_at=now, created_at=now,
    )  # fmt: skip
    session.add(row)
    session.commit()
    worker.run_once(app, now)
    session.refresh(row)
    return row


def test_changing_the_session_key_keeps_subscriptions_delivering(
    app,
    session,
    receiver,  # noqa: F811
    old_subscription,
):
    state, _url = receiver
    sub = old_subscription
    # The worker's first pass seals the old secret again, under the keyring.
    first = _deliver_one(app, session, sub, 1)
    session.refresh(sub)
    assert sub.secret_key_id == app_keyring(app).current_key_id
    assert sub.secret_sealed[:1] == b"\x02"
    # The operator now changes the session key: deliveries go on, signed with the same secret.
    app.config["MLA_SECRET_KEY"] = "a brand new session key, at least 32 characters long"
    second = _deliver_one(app, session, sub, 2)
    assert (first.status, second.status) == (Status.SENT, Status.SENT), second.last_error
    assert len(state.received) == 2
    for headers, body in state.received:
        assert verify(SECRET, headers["x-mla-timestamp"], body, headers["x-mla-signature"])


def test_a_keyring_rotation_moves_secrets_before_the_old_key_may_retire(
    app,
    session,
    receiver,  # noqa: F811
    old_subscription,
):
    state, _url = receiver
    sub = old_subscription
    _deliver_one(app, session, sub, 1)
    keyring = app_keyring(app)
    old, new = keyring.current_key_id, keyring.add_key()
    with app.app_context(), pytest.raises(Conflict, match="still wraps 1"):
        evidence_service().retire_key(old)
    row = _deliver_one(app, session, sub, 2)
    session.refresh(sub)
    assert sub.secret_key_id == new and row.status == Status.SENT
    with app.app_context():
        evidence_service().retire_key(old)
    row = _deliver_one(app, session, sub, 3)
    assert row.status == Status.SENT, row.last_error
    assert len(state.received) == 3
    for headers, body in state.received:
        assert verify(SECRET, headers["x-mla-timestamp"], body, headers["x-mla-signature"])


def test_a_secret_sealed_under_a_key_already_changed_goes_dead_saying_why(
    app, session, old_subscription
):
    app.config["MLA_SECRET_KEY"] = "changed before the upgrade ran, at least 32 chars"
    row = _deliver_one(app, session, old_subscription, 1)
    assert row.status == Status.DEAD and "subscribe again" in row.last_error
    assert session.scalars(select(WebhookSubscription)).one().secret_key_id is None


def test_mla_init_seals_old_secrets_again(fresh_database_url, tmp_path):
    from click.testing import CliRunner
    from sqlalchemy.orm import Session

    from mla.authorities import service as authorities
    from mla.cli import cli
    from mla.db import make_engine

    key = "the key the previous version sealed with, 32+ chars"
    env = {
        "MLA_INSTANCE_DIR": str(tmp_path / "instance"),
        "MLA_DATABASE_URL": fresh_database_url,
        "MLA_SECRET_KEY": key,
    }
    assert CliRunner().invoke(cli, ["init"], env=env).exit_code == 0
    engine = make_engine(fresh_database_url)
    with Session(engine) as session:
        arg = authorities.add_authority(session, "ARG-DAJIN", country="AR", name="DAJIN")
        session.add(
            WebhookSubscription(
                authority_id=arg.id,
                url="https://8.8.8.8/hook",
                secret_sealed=_sealed_the_old_way(SECRET, arg.id, key),
            )
        )
        session.commit()
    result = CliRunner().invoke(cli, ["init"], env=env)
    assert "1 webhook secret(s) sealed again under the keyring" in result.output
    with Session(engine) as session:
        assert session.scalars(select(WebhookSubscription)).one().secret_key_id == "k1"
    engine.dispose()
