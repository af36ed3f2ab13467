"""Receivers that stall: one that drips a byte at a time, several that accept and never
answer, an SMTP server that drips its greeting. The real worker pass must cut each attempt
off at its budget, keep other authorities' mail flowing, hand back what it had no time for,
and still run the sweep."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from datetime import timedelta

from sqlalchemy import select

from mla import worker
from mla.keyring import app_keyring
from mla.notify.dispatcher import dispatch
from mla.notify.models import Channel, Escalation, Notification, Status
from mla.notify.subscriptions import SubscriptionService
from tests.notify.test_notify_dispatch import SEVENTH, free_port, settings, smtp_server


class Drip(socketserver.ThreadingTCPServer):
    """Accepts, reads what it is sent, then answers ``greeting`` one byte every half second,
    for half a minute at most: an answer that never ends within any sane budget."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, greeting: bytes, read_first: bool) -> None:
        self.greeting = greeting
        self.read_first = read_first
        self.connections = 0
        super().__init__(("127.0.0.1", 0), DripHandler)


class DripHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        assert isinstance(server, Drip)
        server.connections += 1
        sock: socket.socket = self.request
        try:
            if server.read_first:
                sock.settimeout(5)
                sock.recv(65536)
            for n in range(60):
                byte = server.greeting[n : n + 1] or b"a"
                sock.sendall(byte)
                time.sleep(0.5)
        except OSError:
            pass  # the client cut the connection off: what we wanted


@contextmanager
def dripping(greeting: bytes, *, read_first: bool) -> Iterator[Drip]:
    server = Drip(greeting, read_first)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def silent() -> Iterator[int]:
    """A port whose connections are accepted by the kernel and never answered."""
    with closing(socket.socket()) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def _fast_limits(app) -> None:
    app.config.update(
        MLA_DELIVERY_TIMEOUT=2,
        MLA_DELIVERY_WORKERS=4,
        MLA_WORKER_INTERVAL=3,
        MLA_WEBHOOK_ALLOW_PRIVATE=True,
    )


def test_stalled_receivers_neither_hold_the_pass_nor_other_authorities_mail(
    app, session, world, received
):
    """ARG's ten receivers stall (one drips, nine never answer) under thirty queued webhooks,
    all older than the acknowledgement reminder the sweep is about to send MEX's clerk."""
    _fast_limits(app)
    port = free_port()
    app.config["MLA_SMTP_URL"] = f"smtp://127.0.0.1:{port}?timeout=5"
    subscriptions = SubscriptionService(session, keyring=app_keyring(app), allow_private=True)
    with ExitStack() as stack:
        drip = stack.enter_context(dripping(b"HTTP/1.1 200 OK\r\nX-Drip: ", read_first=True))
        urls = [f"http://127.0.0.1:{drip.server_address[1]}/hook"]
        for _ in range(9):
            urls.append(f"http://127.0.0.1:{stack.enter_context(silent())}/hook")
        subs = [subscriptions.add(world.admin(world.arg), url)[0] for url in urls]
        queued = SEVENTH - timedelta(hours=1)
        session.add_all(
            Notification(
                channel=Channel.WEBHOOK,
                event="request.state_changed",
                authority_id=world.arg.id,
                subscription_id=sub.id,
                payload={"reference": received.reference, "n": n},
                next_attempt_at=queued + timedelta(seconds=n),
                created_at=queued,
            )
            for n in range(3)
            for sub in subs
        )
        session.commit()
        box = stack.enter_context(smtp_server(port))
        result = worker.run_once(app, SEVENTH)

    # The sweep ran: the reminder fired and its e-mail reached MEX's clerk in the same pass.
    assert result.fired >= 1
    assert session.scalars(select(Escalation)).all()
    assert [m["To"] for m in box.messages] == [world.mex_clerk.email]
    hooks = list(
        session.scalars(select(Notification).where(Notification.channel == Channel.WEBHOOK))
    )
    tried = [h for h in hooks if h.attempts == 1]
    untried = [h for h in hooks if h.attempts == 0]
    # The dripping receiver was reached first, cut off, and its message waits for a retry,
    # like every attempt the pass made at ARG's receivers.
    drip_rows = [h for h in tried if h.subscription_id == subs[0].id]
    assert drip.connections >= 1 and drip_rows
    for row in tried:
        assert row.status == Status.PENDING, row.last_error
        assert "cut off" in row.last_error
        assert row.next_attempt_at > SEVENTH
    # The pass stopped starting attempts when its time was up, and handed the rest back,
    # due now and with no attempt counted.
    assert len(tried) <= 3 * app.config["MLA_DELIVERY_WORKERS"]
    assert untried
    assert all((h.status, h.next_attempt_at) == (Status.PENDING, SEVENTH) for h in untried)
    assert result.sent == 1 and result.retrying == len(tried)


def test_an_smtp_server_that_drips_its_greeting_is_cut_off(session, engines, world, received):
    from mla.notify.sweeper import sweep

    sweep(session, engines, SEVENTH)
    with dripping(b"220 mail.example.mx ESMTP ", read_first=False) as drip:
        port = drip.server_address[1]
        result = dispatch(
            session,
            settings(port, MLA_DELIVERY_TIMEOUT=1, MLA_DELIVERY_WORKERS=2),
            SEVENTH,
        )
    assert drip.connections >= 1
    assert (result.sent, result.retrying, result.dead) == (0, 1, 0)
    (row,) = session.scalars(select(Notification).where(Notification.channel == Channel.EMAIL))
    assert row.status == Status.PENDING and "cut off" in row.last_error
    assert row.next_attempt_at > SEVENTH
