"""The dispatcher against real servers on loopback: aiosmtpd for e-mail, an HTTP server for
webhooks (signature verified as a receiver would); retries, dead messages and re-sending."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from mla.errors import Conflict, NotFound
from mla.notify.channels import MAX_ATTEMPTS, DeliveryError, verify
from mla.notify.dispatcher import dispatch
from mla.notify.models import Channel, Notification, Status
from mla.notify.service import NotificationService, SubscriptionService
from mla.notify.sweeper import sweep

KEY = "k" * 64
SEVENTH = datetime(2026, 3, 7, 12, tzinfo=UTC)  # past the acknowledgement reminder


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        )
        return "250 OK"


@contextmanager
def smtp_server(port: int) -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def settings(port: int | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "MLA_SMTP_URL": f"smtp://127.0.0.1:{port}?timeout=5" if port else None,
        "MLA_MAIL_FROM": "Autoridad Central <mla@fgr.example.mx>",
        "MLA_SECRET_KEY": KEY,
        "MLA_WEBHOOK_ALLOW_PRIVATE": True,
        **extra,
    }


def _emails(session) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.channel == Channel.EMAIL)))


def test_escalation_email_arrives_in_the_recipients_language_with_a_link(
    session, engines, world, received
):
    world.mex_clerk.language = "fr"
    sweep(session, engines, SEVENTH, base_url="https://mla.fgr.example.mx")
    port = free_port()
    with smtp_server(port) as box:
        result = dispatch(session, settings(port), SEVENTH)
    assert (result.sent, result.dead) == (1, 0)
    (message,) = box.messages
    assert message["To"] == world.mex_clerk.email
    assert message["Subject"].startswith(f"{received.reference} : Accuser réception")
    body = message.get_content()
    assert f"https://mla.fgr.example.mx/requests/{received.reference}" in body
    assert "Ouvrir la demande" in body
    (row,) = _emails(session)
    assert (row.status, row.attempts, row.next_attempt_at) == (Status.SENT, 1, None)


def test_smtp_down_then_up_retries_and_loses_nothing(session, engines, world, received):
    sweep(session, engines, SEVENTH)
    port = free_port()  # nothing listens there yet
    down = dispatch(session, settings(port), SEVENTH)
    assert (down.sent, down.retrying, down.dead) == (0, 1, 0)
    (row,) = _emails(session)
    assert row.status == Status.PENDING and "cannot reach SMTP server" in row.last_error
    assert SEVENTH < row.next_attempt_at <= SEVENTH + timedelta(minutes=1)
    # Not yet due again: the dispatcher leaves it alone.
    assert dispatch(session, settings(port), SEVENTH).taken == 0
    with smtp_server(port) as box:
        up = dispatch(session, settings(port), SEVENTH + timedelta(hours=1))
        again = dispatch(session, settings(port), SEVENTH + timedelta(days=2))
    assert up.sent == 1 and again.taken == 0
    assert len(box.messages) == 1
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 2, None)


def test_without_smtp_email_waits_then_dies_and_can_be_resent(session, engines, world, received):
    sweep(session, engines, SEVENTH)
    (row,) = _emails(session)
    now = SEVENTH
    for _ in range(MAX_ATTEMPTS):
        dispatch(session, settings(None), now)
        now += timedelta(days=1)
    assert row.status == Status.DEAD and row.attempts == MAX_ATTEMPTS
    assert "MLA_SMTP_URL is not set" in row.last_error
    notify = NotificationService(session, engines)
    assert notify.dead() == [row]
    assert notify.dead(world.arg) == []  # scoped to the recipient's authority
    with pytest.raises(NotFound):
        notify.resend(row.id, world.arg)
    notify.resend(row.id, world.mex, now=now)
    assert (row.status, row.attempts) == (Status.PENDING, 0)
    with pytest.raises(Conflict):
        notify.resend(row.id)
    port = free_port()
    with smtp_server(port) as box:
        dispatch(session, settings(port), now)
    assert row.status == Status.SENT and len(box.messages) == 1


# --- webhooks -----------------------------------------------------------------------------


class Receiver:
    def __init__(self) -> None:
        self.status = 204
        self.received: list[tuple[dict[str, str], bytes]] = []


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hooks/mla"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_webhook_arrives_signed(session, world, service, received, receiver, keyring):
    state, url = receiver
    subscriptions = SubscriptionService(session, keyring=keyring, allow_private=True)
    _, secret = subscriptions.add(world.admin(world.arg), url)
    service.fire(received, "acknowledge", world.actor(world.mex_clerk))
    result = dispatch(session, settings(), datetime.now(UTC), keyring=keyring)
    assert result.sent == 1
    ((headers, body),) = state.received
    assert headers["x-mla-event"] == "request.state_changed"
    assert headers["x-mla-delivery"].startswith("mla-")
    assert verify(secret.encode(), headers["x-mla-timestamp"], body, headers["x-mla-signature"])
    assert not verify(b"another secret", headers["x-mla-timestamp"], body,
                      headers["x-mla-signature"])  # fmt: skip
    assert b'"reference":"' + received.reference.encode() in body
    assert b'"holder":"MEX-FGR"' in body


def test_a_refused_webhook_goes_dead_and_a_removed_subscription_stops(
    session, world, service, received, receiver, keyring
):
    state, url = receiver
    state.status = 410
    subscriptions = SubscriptionService(session, keyring=keyring, allow_private=True)
    sub, _ = subscriptions.add(world.admin(world.arg), url)
    service.fire(received, "acknowledge", world.actor(world.mex_clerk))
    now = datetime.now(UTC)
    assert dispatch(session, settings(), now, keyring=keyring).dead == 1
    (row,) = session.scalars(
        select(Notification).where(Notification.subscription_id == sub.id)
    ).all()
    assert "answered 410" in row.last_error
    # Private targets are refused at delivery too unless allowed.
    row.status, row.next_attempt_at = Status.PENDING, now
    strict = settings(MLA_WEBHOOK_ALLOW_PRIVATE=False)
    assert dispatch(session, strict, now, keyring=keyring).dead == 1
    assert "non-public address" in row.last_error
    row.status, row.next_attempt_at = Status.PENDING, now
    subscriptions.remove(world.admin(world.arg), sub.id)
    assert dispatch(session, settings(), now, keyring=keyring).dead == 1
    assert "removed" in row.last_error
    assert len(state.received) == 1


def test_a_dns_answer_changed_after_the_check_cannot_redirect_a_webhook(
    session, world, service, received, receiver, monkeypatch, keyring
):
    """DNS rebinding: the name is public when checked and loopback a moment later. The
    delivery connects to the address that was checked, never to the later answer."""
    state, url = receiver
    port = int(url.split(":")[2].split("/")[0])
    subscriptions = SubscriptionService(session, keyring=keyring, allow_private=True)
    subscriptions.add(world.admin(world.arg), f"http://rebind.example.org:{port}/hook")
    service.fire(received, "acknowledge", world.actor(world.mex_clerk))

    answers = iter(["93.184.215.14", "127.0.0.1"])

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        assert host == "rebind.example.org"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    dialled: list[tuple[str, int]] = []

    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        dialled.append(address)  # record instead of sending anything off this machine
        raise ConnectionRefusedError("refused by the test")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(socket, "create_connection", connect)
    result = dispatch(
        session, settings(MLA_WEBHOOK_ALLOW_PRIVATE=False), datetime.now(UTC), keyring=keyring
    )
    assert result.retrying == 1
    assert dialled == [("93.184.215.14", port)]
    assert state.received == []


def test_a_late_outcome_does_not_overwrite_the_next_claim(session, engines, world, received):
    """A dispatcher whose lease ran out while it sent must not overwrite the outcome of the
    dispatcher that claimed the message after it."""
    from mla.notify import dispatcher

    sweep(session, engines, SEVENTH)
    first = dispatcher._claim(session, SEVENTH, 50)
    slow = first[0]
    later = SEVENTH + dispatcher.LEASE + timedelta(seconds=1)
    second = dispatcher._claim(session, later, 50)
    fast = next(m for m in second if m.id == slow.id)
    assert fast.attempts == slow.attempts + 1
    assert dispatcher._record(session, fast, None, later) == Status.SENT
    refused = DeliveryError("550 no such user", retryable=False)
    assert dispatcher._record(session, slow, refused, later) is None
    row = session.get(Notification, slow.id)
    assert (row.status, row.last_error) == (Status.SENT, None)


def test_a_pass_past_half_its_lease_hands_the_rest_back(
    session, engines, world, received, monkeypatch
):
    from mla.notify import dispatcher

    sweep(session, engines, SEVENTH)
    monkeypatch.setattr(dispatcher, "LEASE", timedelta(0))
    result = dispatch(session, settings(), SEVENTH)
    assert result.taken > result.sent  # taken, then handed back untried
    emails = _emails(session)
    assert emails and all(
        (e.status, e.attempts, e.next_attempt_at) == (Status.PENDING, 0, SEVENTH) for e in emails
    )
