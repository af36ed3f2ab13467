"""The worker: sweeps due escalation steps, then dispatches the outbox, again and again.

The sweep comes first in every pass, and a pass delivers for at most ``MLA_WORKER_INTERVAL``
seconds (plus one ``MLA_DELIVERY_TIMEOUT`` for the attempts under way), handing back what it
has not started. So deadlines escalate at least every two intervals plus one delivery
timeout, however many receivers stall; the rest of the outbox waits for the next pass. One
thread doing both in turn is simpler than a sweeper thread of its own, and the bound holds.

``mla worker`` runs it in the foreground (clean stop on SIGTERM or SIGINT, after the current
batch); ``mla serve`` runs it in a background thread so that one command runs everything.
Each batch is its own transaction: the sweeper's notifications commit with the steps that
caused them, and the dispatcher sends only what is committed.

``now`` (``mla worker --now``) makes the worker act as if it were that time, for tests, drills
and backfills; in a loop the clock then runs on from there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask

from mla.db import unit_of_work, utcnow
from mla.keyring import app_keyring
from mla.notify.dispatcher import dispatch
from mla.notify.subscriptions import reseal_secrets
from mla.notify.sweeper import sweep

log = logging.getLogger("mla.worker")

SWEEP_BATCH = 100
DISPATCH_BATCH = 50


@dataclass(frozen=True)
class Pass:
    """What one pass did."""

    fired: int
    skipped: int
    sent: int
    retrying: int
    dead: int


def run_once(app: Flask, now: datetime | None = None) -> Pass:
    """Seal webhook secrets not yet under the keyring's current key
    (:func:`~mla.notify.subscriptions.reseal_secrets`), sweep until nothing is due at
    ``now`` (default: the clock), then dispatch until no message is due or the pass has
    delivered for ``MLA_WORKER_INTERVAL`` seconds. Each batch commits on its own."""
    now = now or utcnow()
    db = app.extensions["mla.db"]
    engines = app.extensions["mla.engines"]
    keyring = app_keyring(app)
    fired = skipped = sent = retrying = dead = 0
    with db.sessionmaker() as session, unit_of_work(session):
        # Secrets an older version sealed, or sealed under a key rotated out since.
        reseal_secrets(session, keyring, app.config["MLA_SECRET_KEY"])
    while True:
        with db.sessionmaker() as session, unit_of_work(session):
            s = sweep(session, engines, now, SWEEP_BATCH, base_url=app.config["MLA_BASE_URL"])
        fired, skipped = fired + s.fired, skipped + s.skipped
        if s.deadlines < SWEEP_BATCH:
            break
    until = time.monotonic() + float(app.config["MLA_WORKER_INTERVAL"])
    while time.monotonic() < until:
        with db.sessionmaker() as session:  # dispatch commits its claim and each outcome
            d = dispatch(session, app.config, now, DISPATCH_BATCH, until=until, keyring=keyring)
        sent, retrying, dead = sent + d.sent, retrying + d.retrying, dead + d.dead
        if d.taken < DISPATCH_BATCH:
            break
    return Pass(fired, skipped, sent, retrying, dead)


def run(
    app: Flask,
    stop: threading.Event,
    *,
    interval: float | None = None,
    now: datetime | None = None,
    report: Callable[[Pass], None] | None = None,
) -> None:
    """Run passes every ``interval`` seconds (default ``MLA_WORKER_INTERVAL``) until ``stop``
    is set. A failing pass is logged and retried at the next interval; it never ends the
    loop (the database may be restarting)."""
    interval = float(interval or app.config["MLA_WORKER_INTERVAL"])
    offset = (now - utcnow()) if now is not None else timedelta(0)
    while not stop.is_set():
        try:
            result = run_once(app, utcnow() + offset)
            if report is not None:
                report(result)
        except Exception:
            log.exception("worker pass failed; retrying in %s s", interval)
        stop.wait(interval)


def start_background(app: Flask) -> threading.Event:
    """Run the worker in a daemon thread of this process (``mla serve``); returns the event
    that stops it."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(app, stop), name="mla-worker", daemon=True)
    thread.start()
    return stop
