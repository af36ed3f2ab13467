"""The statistics' stage runs: written by the requests' own transitions (the seeded history of
test_statistics), moved when a closed request is opened again, and filled for an existing
history by the migration that adds them, with the same durations the application counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import MetaData, insert, select

from mla import migrate
from mla.db import make_engine
from mla.deadlines.calendar import Calendar
from mla.statistics import service as stats
from mla.statistics.models import StageRun
from tests.statistics import test_statistics
from tests.statistics.test_statistics import ACK, AFTER, T0

history = test_statistics.history  # the seeded history, as a fixture here too

MEXICO = Calendar("MX", timezone="America/Mexico_City")


def _runs(session, authority, stage):
    return session.scalars(
        select(StageRun)
        .where(StageRun.authority_id == authority.id, StageRun.stage == stage)
        .order_by(StageRun.ended_at)
    ).all()


def test_transitions_write_a_run_per_stage_and_party(history, session, world):
    acks = _runs(session, world.mex, "acknowledgement")
    assert sorted(r.days for r in acks) == [1.0, 2.0, 3.0, 4.0, 5.0, 10.0]
    # T0 a Monday: the fifth day a Saturday, so four business days; ten days, eight.
    assert sorted(r.business_days for r in acks) == [1, 2, 3, 4, 4, 8]
    assert {(r.direction, r.counterpart_id, r.kind) for r in acks} == {
        ("incoming", world.arg.id, "mla")
    }
    whole = _runs(session, world.mex, "whole")
    assert [r.days for r in whole] == [a + b for a, b in zip(ACK, AFTER, strict=True)]
    assert [r.business_days for r in whole] == [
        MEXICO.business_days_between(r.started_at, r.ended_at) for r in whole
    ]
    assert {r.outcome for r in whole} == {"closed"}
    assert all(r.ended_year == r.ended_at.astimezone(UTC).year for r in [*acks, *whole])
    # The requesting side counts the same runs as outgoing, on its own calendar.
    outgoing = _runs(session, world.arg, "acknowledgement")
    assert len(outgoing) == 6 and {r.direction for r in outgoing} == {"outgoing"}
    # The executing authority, assigned on each closing day, counts the five requests it
    # executed from their transmission: their acknowledgements too.
    court = _runs(session, world.mex_court, "acknowledgement")
    assert len(court) == 5 and {r.direction for r in court} == {"incoming"}
    assert len(_runs(session, world.mex_court, "whole")) == 5


def test_a_request_opened_again_after_closure_moves_its_whole_run(
    history, service, session, world, clock
):
    arg, mex = world.actor(world.arg_clerk), world.actor(world.mex_clerk)
    closed = history[0]
    before = [r for r in _runs(session, world.mex, "whole") if r.request_id == closed.id]
    assert len(before) == 1
    service.fire(closed, "request_use_consent", arg, {"purpose": "Otro proceso penal."})
    session.flush()
    assert [r for r in _runs(session, world.mex, "whole") if r.request_id == closed.id] == []
    clock.now += timedelta(days=3)
    service.fire(closed, "grant_use_consent", mex)
    session.flush()
    after = [r for r in _runs(session, world.mex, "whole") if r.request_id == closed.id]
    assert [(r.started_at, r.ended_at) for r in after] == [(T0, clock.now)]
    assert after[0].days == round((clock.now - T0).total_seconds() / 86400, 1)
    # The answer on further use is not a stage of the report.
    assert {r.stage for r in session.scalars(select(StageRun))} <= {
        "acknowledgement",
        "decision",
        "execution",
        "whole",
    }


def test_a_period_counts_the_runs_of_each_utc_year_it_touches(history, session, world, clock):
    # Mexico's 2026 runs until 2027-01-01 06:00 UTC: a run ended at 03:00 UTC that day is in
    # it (read from the 2027 range of the histogram index on SQLite), one at 07:00 is not.
    def whole_requests() -> int:
        report = stats.statistics(session, world.mex, stats.parse_period("2026"), "kind", now)
        return sum(r[3] for r in report.tables["turnaround"].rows if r[2] == "whole")

    now = clock.now
    assert whole_requests() == 5
    run = _runs(session, world.mex, "whole")[0]
    for at, counted in (
        (datetime(2027, 1, 1, 3, tzinfo=UTC), 5),
        (datetime(2027, 1, 1, 7, tzinfo=UTC), 4),
    ):
        run.ended_at, run.ended_year = at, 2027
        session.flush()
        assert whole_requests() == counted


def test_the_migration_fills_the_runs_of_an_existing_history(fresh_database_url):
    engine = make_engine(fresh_database_url)
    migrate.upgrade(engine, "7a4e2c9d1f35")
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    # Madrid changes its offset on 29 March 2026 at 01:00 UTC: a run starting at 23:30 UTC
    # on 28 March is on the 29th locally (UTC+1), one ending at 22:30 UTC on 29 March on the
    # 30th (UTC+2).
    madrid = Calendar("ES", timezone="Europe/Madrid")
    t0 = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    t1 = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)
    t2 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    with engine.begin() as conn:
        for i, (code, country, zone) in enumerate(
            [
                ("ESP-MJ", "ES", "Europe/Madrid"),
                ("MEX-FGR", "MX", "America/Mexico_City"),
                ("MEX-FEMDO", "MX", "America/Mexico_City"),
            ],
            1,
        ):
            conn.execute(
                insert(t["authority"]).values(
                    id=i, code=code, country=country, name=code, kind="central", languages=[],
                    timezone=zone, contact_points=[], external=False, target_overrides={},
                    created_at=t0,
                )
            )  # fmt: skip
        for rid, transmitted, closed, executing in [
            (1, t0, t2, 3),  # transmitted, executed by another authority, closed
            (2, t0, None, None),  # transmitted, still open
            (3, None, None, None),  # a draft: nothing of it counts
        ]:
            conn.execute(
                insert(t["request"]).values(
                    id=rid, reference=f"MLA-ESP-2026-0000{rid}", kind="mla", workflow_version=1,
                    state="closed" if closed else "received", holder_authority_id=2,
                    requesting_authority_id=1, requested_authority_id=2,
                    executing_authority_id=executing, legal_basis="untoc-18", urgency="urgent",
                    offence_categories=["corruption"], fields={}, confidential=False,
                    created_at=t0 - timedelta(days=1), updated_at=t0, transmitted_at=transmitted,
                    closed_at=closed, outcome="closed" if closed else None, version_id=1,
                    chain_head="0" * 64, event_count=0,
                )
            )  # fmt: skip
        for rid, name, closed, outcome in [
            (1, "acknowledgement", t1, "met"),
            (2, "acknowledgement", t1, "missed"),
            (2, "decision", t2, "cancelled"),  # cancelled: not a run
            (3, "acknowledgement", t1, "met"),  # of a draft
        ]:
            conn.execute(
                insert(t["deadline"]).values(
                    request_id=rid, name=name, state="received", authority_id=2, started_at=t0,
                    due_at=t2, closed_at=closed, outcome=outcome, extended=False, level=0,
                )
            )  # fmt: skip
        # The closing step of request 1, with grounds (as a refusal gives them), and an
        # earlier step with grounds that did not lead to its final state.
        for seq, to, grounds in [(1, "consultation", ["x"]), (2, "closed", ["b", "a", "b"])]:
            conn.execute(
                insert(t["event"]).values(
                    request_id=1, seq=seq, at=t2, kind="transition",
                    data={"to": to, "inputs": {"grounds": grounds}},
                    prev_hash="0" * 64, hash="0" * 64,
                )
            )  # fmt: skip
    migrate.upgrade(engine)
    with engine.connect() as conn:
        found = {
            (r.request_id, r.authority_id, r.direction, r.stage): r
            for r in conn.execute(select(StageRun.__table__))
        }
    mexico_days = MEXICO.business_days_between(t0, t1)
    assert sorted(found) == [
        (1, 1, "outgoing", "acknowledgement"),
        (1, 1, "outgoing", "whole"),
        (1, 2, "incoming", "acknowledgement"),
        (1, 2, "incoming", "whole"),
        (1, 3, "incoming", "acknowledgement"),
        (1, 3, "incoming", "whole"),
        (2, 1, "outgoing", "acknowledgement"),
        (2, 2, "incoming", "acknowledgement"),
    ]
    ack = found[(1, 1, "outgoing", "acknowledgement")]
    # Sunday the 29th to Monday the 30th in Madrid: one business day, as the calendar counts.
    assert ack.business_days == madrid.business_days_between(t0, t1) == 1
    assert found[(1, 2, "incoming", "acknowledgement")].business_days == mexico_days
    assert ack.days == round((t1 - t0).total_seconds() / 86400, 1) == 1.0
    whole = found[(1, 2, "incoming", "whole")]
    assert whole.business_days == MEXICO.business_days_between(t0, t2)
    outgoing = found[(1, 1, "outgoing", "whole")]
    assert outgoing.business_days == madrid.business_days_between(t0 - timedelta(days=1), t2)
    assert (outgoing.counterpart_id, whole.counterpart_id) == (2, 1)
    assert (whole.urgency, whole.outcome, whole.deadline_id) == ("urgent", "closed", None)
    assert list(whole.offence_categories) == ["corruption"]
    # The year the histogram index leads with, as the application writes it.
    assert {r.ended_year for r in found.values()} == {t1.astimezone(UTC).year}
    assert all(r.ended_year == r.ended_at.astimezone(UTC).year for r in found.values())
    assert list(whole.grounds) == list(outgoing.grounds) == ["a", "b"]
    assert list(ack.grounds) == []
    engine.dispose()
