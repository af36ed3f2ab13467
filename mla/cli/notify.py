"""``mla worker`` and ``mla notifications``.

Adapters only: parse, call one service function, print. Attached to the ``mla`` group by
:mod:`mla.cli`.
"""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from typing import Any

import click

from mla.cli.context import Group, with_app
from mla.cli.output import table
from mla.db import unit_of_work
from mla.errors import N_, FieldError, Invalid


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(
            FieldError("--now", N_("not an ISO-8601 date or time: %(value)r"), {"value": value})
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command("worker")
@click.option("--once", is_flag=True, help="one pass (sweep, then dispatch), then exit")
@click.option(
    "--now",
    "now_text",
    metavar="ISO-8601",
    help="act as if it were this time (UTC when no offset is given)",
)
@with_app
def worker_command(once: bool, now_text: str | None) -> None:
    """Fire due escalation steps and deliver notifications, every MLA_WORKER_INTERVAL s."""
    from flask import current_app

    from mla import worker
    from mla.cli.evidence import sweep_leftovers

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = _instant(now_text)
    sweep_leftovers()  # what a crash left in the evidence store
    if once:
        result = worker.run_once(app, now)
        click.echo(
            f"fired {result.fired} escalation steps ({result.skipped} already fired); "
            f"sent {result.sent}, retrying {result.retrying}, dead {result.dead}"
        )
        return
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        click.echo(f"stopping after the current pass ({signal.Signals(signum).name})", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"worker running every {app.config['MLA_WORKER_INTERVAL']} s; Ctrl-C stops it")
    worker.run(app, stop, now=now)


# --- notifications ---------------------------------------------------------------------


@click.group("notifications", cls=Group)
def notifications_group() -> None:
    """The outbox of e-mail and webhook notifications."""


@notifications_group.command("list")
@click.option("--dead", is_flag=True, help="only messages given up on after their last try")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@with_app
def notifications_list(dead: bool, limit: int) -> None:
    """List outbox messages, newest first."""
    from mla.app_services import notification_service
    from mla.notify.models import Status

    service = notification_service()
    rows = service.listing(status=Status.DEAD if dead else None, limit=limit)
    table(
        [
            (
                n.id,
                n.channel.value,
                n.event,
                n.address or (f"subscription {n.subscription_id}" if n.subscription_id else ""),
                n.status.value,
                n.attempts,
                n.created_at.strftime("%Y-%m-%d %H:%M"),
                (n.last_error or "")[:80],
            )
            for n in rows
        ],
        ("ID", "CHANNEL", "EVENT", "TO", "STATUS", "TRIES", "CREATED", "LAST ERROR"),
    )


@notifications_group.command("resend")
@click.argument("notification_id", type=int)
@with_app
def notifications_resend(notification_id: int) -> None:
    """Queue dead message ID again; the worker sends it on its next pass."""
    from mla.app_services import notification_service

    with unit_of_work():  # over the app context's session, which the service takes
        row = notification_service().resend(notification_id)
    click.echo(f"notification {row.id} queued again")


__all__ = ["notifications_group", "worker_command"]
