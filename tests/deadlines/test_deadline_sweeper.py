"""The sweeper over real requests: each escalation step fires once, to the right people."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mla.cli import cli
from mla.db import make_engine
from mla.deadlines.calendar import Calendar
from mla.deadlines.closures import add_closure, list_closures
from mla.deadlines.models import Deadline
from mla.errors import Conflict, Invalid
from mla.notify.models import Channel, Escalation, Notification
from mla.notify.sweeper import sweep
from mla.requests.service import RequestService
from mla.workflow import Engines
from tests.factories import MLA_FIELDS, seed_world
from tests.workers import run_worker_passes

MEXICO = Calendar("MX", timezone="America/Mexico_City")


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def _deadline(session: Session, request, name: str) -> Deadline:
    return session.scalars(
        select(Deadline).where(Deadline.request_id == request.id, Deadline.name == name)
    ).one()


def _sent(session: Session, deadline: Deadline, level: int, channel: Channel) -> list:
    return list(
        session.scalars(
            select(Notification)
            .where(
                Notification.deadline_id == deadline.id,
                Notification.level == level,
                Notification.channel == channel,
            )
            .order_by(Notification.user_id)
        )
    )


def test_the_ladder_fires_each_step_once_to_its_recipients(session, engines, world, received):
    world.mex_clerk.language = "es"
    world.arg_clerk.language = "pt"
    ack = _deadline(session, received, "acknowledgement")
    # 7 calendar days from Monday 2 March: the end of Monday 9 March in Mexico City.
    assert ack.due_at == MEXICO.end_of_day(date(2026, 3, 9))
    # Step 1 (-1 business day): the end of Friday 6 March.
    assert ack.next_step_at == MEXICO.end_of_day(date(2026, 3, 6))

    assert sweep(session, engines, _at(6)).fired == 0

    # Past the reminder: the assignee, or (nobody assigned) the clerks, are told.
    result = sweep(session, engines, _at(7), base_url="https://mla.example.mx")
    assert result.fired == 1
    emails = _sent(session, ack, 1, Channel.EMAIL)
    assert [n.address for n in emails] == [world.mex_clerk.email]
    assert emails[0].language == "es"
    assert "Acusar recibo" in emails[0].subject and "vence el 2026-03-09" in emails[0].subject
    link = f"https://mla.example.mx/requests/{received.reference}"
    assert link in emails[0].payload["text"]
    assert [n.user_id for n in _sent(session, ack, 1, Channel.IN_APP)] == [world.mex_clerk.id]
    assert (ack.level, ack.next_step_at) == (1, ack.due_at)

    # Sweeping again, at the same time or later before the next step, fires nothing.
    assert sweep(session, engines, _at(7)).fired == 0
    assert sweep(session, engines, _at(9)).fired == 0
    assert len(_sent(session, ack, 1, Channel.EMAIL)) == 1

    # Due: supervisors, and the counterpart (the requesting state's clerks, in Portuguese).
    assert sweep(session, engines, _at(10)).fired == 1
    by_user = {n.user_id: n for n in _sent(session, ack, 2, Channel.EMAIL)}
    assert set(by_user) == {world.mex_supervisor.id, world.arg_clerk.id}
    assert "vencido desde 2026-03-09" in by_user[world.arg_clerk.id].subject
    assert "MEX-FGR" in by_user[world.arg_clerk.id].payload["text"]
    assert "overdue since 2026-03-09" in by_user[world.mex_supervisor.id].subject

    # After: +3 business days, the end of Thursday 12 March; MEX has no admin, so the
    # highest role present (its supervisor) is told.
    assert ack.next_step_at == MEXICO.end_of_day(date(2026, 3, 12))
    assert sweep(session, engines, _at(12)).fired == 0
    assert sweep(session, engines, _at(13)).fired == 1
    assert [n.user_id for n in _sent(session, ack, 3, Channel.EMAIL)] == [world.mex_supervisor.id]
    assert (ack.level, ack.next_step_at) == (3, None)

    assert sweep(session, engines, _at(31)).fired >= 0  # other deadlines may be due by then
    assert session.scalar(
        select(func.count()).select_from(Escalation).where(Escalation.deadline_id == ack.id)
    ) == 3  # fmt: skip


def test_a_late_sweeper_catches_up_in_order(session, engines, world, received):
    ack = _deadline(session, received, "acknowledgement")
    result = sweep(session, engines, _at(20))
    assert result.fired >= 3
    levels = session.scalars(
        select(Escalation.level).where(Escalation.deadline_id == ack.id).order_by(Escalation.id)
    ).all()
    assert levels == [1, 2, 3]
    assert ack.next_step_at is None


def test_a_closed_deadline_does_not_escalate(session, engines, service, world, received, clock):
    ack = _deadline(session, received, "acknowledgement")
    service.fire(received, "acknowledge", world.actor(world.mex_clerk))
    assert ack.next_step_at is None
    sweep(session, engines, _at(20))
    assert session.scalar(select(func.count()).where(Escalation.deadline_id == ack.id)) == 0


def test_closure_days_move_business_day_steps(session, engines, world, service, new_mla):
    # Closing Friday 6 March moves the -1 business day reminder back to Thursday 5 March.
    add_closure(session, world.mex, date(2026, 3, 6), "Mudanza de oficinas")
    request = new_mla()
    for event, user in (
        ("submit_for_review", world.arg_clerk),
        ("sign", world.arg_supervisor),
        ("transmit", world.arg_clerk),
    ):
        service.fire(request, event, world.actor(user))
    ack = _deadline(session, request, "acknowledgement")
    assert ack.next_step_at == MEXICO.end_of_day(date(2026, 3, 5))
    assert [c.reason for c in list_closures(session, world.mex)] == ["Mudanza de oficinas"]
    with pytest.raises(Conflict):
        add_closure(session, world.mex, date(2026, 3, 6), "again")
    with pytest.raises(Invalid, match="reason"):
        add_closure(session, world.mex, date(2026, 3, 7), " ")


# --- two workers at once -------------------------------------------------------------------


def _populate(url: str, engines: Engines, requests: int) -> None:
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        world = seed_world(session)
        service = RequestService(
            session, engines, clock=lambda: datetime(2026, 3, 2, 15, tzinfo=UTC)
        )
        clerk = world.actor(world.arg_clerk)
        supervisor = world.actor(world.arg_supervisor)
        for _ in range(requests):
            r = service.create(
                clerk,
                kind="mla",
                requested_authority="MEX-FGR",
                legal_basis="untoc-18",
                fields=dict(MLA_FIELDS),
            )
            service.fire(r, "submit_for_review", clerk)
            service.fire(r, "sign", supervisor)
            service.fire(r, "transmit", clerk)
    engine.dispose()


def test_two_worker_processes_fire_each_step_once(
    backend, migrated_database_url, tmp_path, engines
):
    _populate(migrated_database_url, engines, requests=60)
    passes = run_worker_passes(
        [
            {
                "MLA_DATABASE_URL": migrated_database_url,
                "MLA_INSTANCE_DIR": str(tmp_path / f"instance{i}"),
                "MLA_SECRET_KEY": "k" * 64,
            }
            for i in range(2)
        ],
        datetime(2026, 3, 20, 12, tzinfo=UTC),
    )

    engine = make_engine(migrated_database_url)
    with Session(engine) as session:
        escalations = session.scalar(select(func.count()).select_from(Escalation))
        emails = session.scalar(select(func.count()).where(Notification.channel == Channel.EMAIL))
        twice = session.execute(
            select(Notification.deadline_id, Notification.level, Notification.user_id)
            .where(Notification.channel == Channel.EMAIL)
            .group_by(Notification.deadline_id, Notification.level, Notification.user_id)
            .having(func.count() > 1)
        ).all()
        tried = session.scalars(
            select(Notification.attempts).where(Notification.channel == Channel.EMAIL)
        ).all()
    engine.dispose()
    # By 20 March each request's acknowledgement ladder (3 steps) has run out, and nothing else.
    assert escalations == sum(p.fired for p in passes) == 60 * 3
    if backend == "postgresql":  # SKIP LOCKED shares the work; SQLite runs sweeps in turn
        assert all(p.fired > 0 for p in passes), passes
    assert twice == []
    # Step 1: MEX clerk; step 2: MEX supervisor + ARG clerk; step 3: MEX supervisor.
    assert emails == 60 * 4
    # Each message was tried exactly once (e-mail is off here), by one of the two.
    assert set(tried) == {1}


def test_worker_command_once_with_now(migrated_database_url, tmp_path, engines):
    _populate(migrated_database_url, engines, requests=2)
    env = {"MLA_DATABASE_URL": migrated_database_url, "MLA_INSTANCE_DIR": str(tmp_path / "i")}
    runner = CliRunner()
    result = runner.invoke(cli, ["worker", "--once", "--now", "2026-03-07T12:00Z"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("fired 2 escalation steps")
    again = runner.invoke(cli, ["worker", "--once", "--now", "2026-03-07T12:00Z"], env=env)
    assert again.output.startswith("fired 0 escalation steps")
    listing = runner.invoke(cli, ["notifications", "list"], env=env)
    assert listing.output.count("deadline.escalated") == 2
    assert "MLA_SMTP_URL is not set" in listing.output
    bad = runner.invoke(cli, ["worker", "--once", "--now", "next week"], env=env)
    assert bad.exit_code == 1 and "--now" in bad.output
