"""The outbox as the request service fills it, the bell, and webhook subscriptions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mla.errors import IntegrityError, Invalid, NotFound
from mla.notify.models import Channel, Notification, Status
from mla.notify.service import NotificationService, SubscriptionService
from mla.notify.subscriptions import open_secret

KEY = "k" * 64


@pytest.fixture
def subscriptions(session, keyring) -> SubscriptionService:
    return SubscriptionService(session, keyring=keyring, allow_private=True)


def _webhooks(session, request) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.request_id == request.id, Notification.channel == Channel.WEBHOOK)
            .order_by(Notification.id)
        )
    )


def test_every_party_with_a_subscription_gets_each_change(
    session, subscriptions, world, service, new_mla
):
    arg_sub, _ = subscriptions.add(world.admin(world.arg), "http://127.0.0.1:8080/hooks/mla")
    mex_sub, _ = subscriptions.add(
        world.admin(world.mex), "https://fgr.example.mx/mla", events=["request.state_changed"]
    )
    subscriptions.add(world.admin(world.col), "https://fgn.example.co/mla")  # not a party: nothing
    request = new_mla()
    service.fire(request, "submit_for_review", world.actor(world.arg_clerk))
    # While it is prepared, a request is the requesting authority's own business.
    assert [(r.subscription_id, r.event) for r in _webhooks(session, request)] == [
        (arg_sub.id, "request.created"),
        (arg_sub.id, "request.state_changed"),
    ]
    service.fire(request, "sign", world.actor(world.arg_supervisor))
    service.fire(request, "transmit", world.actor(world.arg_clerk))
    rows = _webhooks(session, request)
    assert [(r.subscription_id, r.event) for r in rows[2:]] == [
        (arg_sub.id, "request.state_changed"),
        (arg_sub.id, "request.state_changed"),
        (mex_sub.id, "request.state_changed"),
    ]
    body = rows[-1].payload
    assert body == {
        "event": "request.state_changed",
        "reference": request.reference,
        "kind": "mla",
        "state": "received",
        "state_label": body["state_label"],
        "holder": "MEX-FGR",
        "at": "2026-03-02T15:00:00+00:00",
    }
    assert body["state_label"]["es"]
    assert all(r.status == Status.PENDING and r.next_attempt_at for r in rows)


def test_a_confidential_requests_webhook_carries_only_reference_and_state(
    session, subscriptions, world, service, new_mla
):
    subscriptions.add(world.admin(world.mex), "https://fgr.example.mx/mla")
    request = new_mla(confidential=True)
    assert _webhooks(session, request) == []  # not transmitted: Mexico hears nothing yet
    service.fire(request, "submit_for_review", world.actor(world.arg_clerk))
    service.fire(request, "sign", world.actor(world.arg_supervisor))
    service.fire(request, "transmit", world.actor(world.arg_clerk))
    (row,) = _webhooks(session, request)
    assert row.payload == {"reference": request.reference, "state": "received"}
    assert "Transferencias" not in str(row.payload)


def test_the_new_holders_clerks_see_it_in_their_bell(session, engines, world, received):
    bell = NotificationService(session, engines)
    (mine,) = bell.unread(world.mex_clerk)
    assert mine.payload["link"] == f"/requests/{received.reference}"
    assert received.reference in mine.payload["text"] and "MEX-FGR" in mine.payload["text"]
    # The requesting side, whose own clerk moved it, is not told of its own move.
    assert bell.unread(world.arg_clerk) == []
    assert bell.unread_count(world.mex_clerk) == 1
    # Another user cannot mark it read (and learns nothing), its owner can.
    assert bell.mark_read(world.col_clerk, [mine.id]) == 0
    assert bell.mark_read(world.mex_clerk, [mine.id]) == 1
    assert bell.unread(world.mex_clerk) == []


def test_subscriptions_are_scoped_and_their_secret_sealed(session, subscriptions, world, keyring):
    sub, secret = subscriptions.add(world.admin(world.arg), "https://dajin.example.ar/hook")
    assert secret.startswith("whsec_") and secret.encode() not in sub.secret_sealed
    assert sub.secret_key_id == keyring.current_key_id
    opened = open_secret(
        sub.secret_sealed, sub.secret_key_id, sub.secret_wrapped_key, world.arg.id, keyring
    )
    assert opened == secret.encode()
    with pytest.raises(IntegrityError):  # bound to its authority
        open_secret(
            sub.secret_sealed, sub.secret_key_id, sub.secret_wrapped_key, world.mex.id, keyring
        )
    assert subscriptions.list(world.admin(world.arg)) == [sub]
    assert subscriptions.list(world.admin(world.mex)) == []
    with pytest.raises(NotFound):
        subscriptions.remove(world.admin(world.mex), sub.id)
    subscriptions.remove(world.admin(world.arg), sub.id)
    assert subscriptions.list(world.admin(world.arg)) == []
    with pytest.raises(NotFound):
        subscriptions.remove(world.admin(world.arg), sub.id)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/x", "http:// or https://"),
        ("http://127.0.0.1:8080/x", "non-public address"),
        ("http://[::1]/x", "non-public address"),
        ("http://169.254.169.254/latest", "non-public address"),
        ("http://10.1.2.3/x", "non-public address"),
    ],
)
def test_internal_targets_are_refused_by_default(session, world, keyring, url, message):
    service = SubscriptionService(session, keyring=keyring, allow_private=False)
    with pytest.raises(Invalid, match=message) as caught:
        service.add(world.admin(world.arg), url)
    assert caught.value.errors[0].field == "url"


def test_unknown_events_are_refused(subscriptions, world):
    with pytest.raises(Invalid, match=r"unknown event 'request\.deleted'"):
        subscriptions.add(
            world.admin(world.arg), "https://dajin.example.ar/hook", events=["request.deleted"]
        )
