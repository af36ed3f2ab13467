"""IPv6 addresses that carry an IPv4 address are judged by it: each form that leads to the
server's own network is refused when subscribing and again at delivery."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from mla.errors import Invalid
from mla.notify.dispatcher import dispatch
from mla.notify.models import Notification, Status
from mla.notify.subscriptions import SubscriptionService
from tests.notify.test_notify_dispatch import settings

EMBEDDED = [
    pytest.param("::127.0.0.1", id="ipv4-compatible"),
    pytest.param("::ffff:127.0.0.1", id="ipv4-mapped"),
    pytest.param("::ffff:0:a9fe:a9fe", id="ipv4-translated"),
    pytest.param("2002:7f00:1::1", id="6to4-loopback"),
    pytest.param("2002:a9fe:a9fe::1", id="6to4-metadata"),
    pytest.param("64:ff9b::7f00:1", id="nat64-loopback"),
    pytest.param("64:ff9b::a00:1", id="nat64-private"),
    pytest.param("64:ff9b:1::808:808", id="nat64-local-use"),
    pytest.param("2001:0:4136:e378:8000:63bf:80ff:fffe", id="teredo"),
]


@pytest.mark.parametrize("address", EMBEDDED)
def test_an_embedded_internal_ipv4_address_is_refused_when_subscribing(
    session, world, keyring, address
):
    service = SubscriptionService(session, keyring=keyring, allow_private=False)
    with pytest.raises(Invalid, match="non-public address") as caught:
        service.add(world.admin(world.arg), f"http://[{address}]:8080/hook")
    assert caught.value.errors[0].field == "url"


@pytest.mark.parametrize("address", ["2002:808:808::1", "64:ff9b::808:808", "::ffff:8.8.8.8"])
def test_an_embedded_public_ipv4_address_may_be_subscribed(session, world, keyring, address):
    service = SubscriptionService(session, keyring=keyring, allow_private=False)
    sub, _secret = service.add(world.admin(world.arg), f"https://[{address}]/hook")
    assert sub.active


@pytest.mark.parametrize("address", EMBEDDED)
def test_an_embedded_internal_ipv4_address_is_refused_at_delivery(
    session, world, service, received, keyring, address
):
    # Subscribed while private targets were allowed (or DNS said otherwise then): the
    # delivery checks again, and gives up for good without connecting.
    lenient = SubscriptionService(session, keyring=keyring, allow_private=True)
    sub, _ = lenient.add(world.admin(world.arg), f"http://[{address}]:8080/hook")
    service.fire(received, "acknowledge", world.actor(world.mex_clerk))
    result = dispatch(
        session, settings(MLA_WEBHOOK_ALLOW_PRIVATE=False), datetime.now(UTC), keyring=keyring
    )
    assert (result.sent, result.dead) == (0, 1)
    (row,) = session.scalars(select(Notification).where(Notification.subscription_id == sub.id))
    assert row.status == Status.DEAD and "non-public address" in row.last_error
