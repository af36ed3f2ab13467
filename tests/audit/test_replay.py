"""mla audit verify replays each request's history and compares the request row: a column
changed in the database without an event in the history is named like a broken link."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from mla.audit import chain
from mla.audit.models import Event
from mla.cli import cli
from mla.db import make_engine, utcnow
from mla.requests.models import GENESIS_HASH, Request, RequestParty
from mla.requests.service import Actor, RequestService
from mla.workflow import Engines
from tests.factories import MLA_FIELDS, Seeder

REQUEST = Request.__table__


def _strip_recorded_values(session: Session, request_id: int) -> None:
    """Make a request's history what the code before recorded values wrote: the same
    events without ``row``, every hash recomputed."""
    head = GENESIS_HASH
    for event in session.scalars(
        select(Event).where(Event.request_id == request_id).order_by(Event.seq)
    ):
        event.data = {k: v for k, v in event.data.items() if k != "row"}
        event.prev_hash = head
        event.hash = chain._row_hash(event)
        head = event.hash
    session.execute(update(Request).where(Request.id == request_id).values(chain_head=head))
    session.flush()


# --- the service, inside a test transaction ------------------------------------------------


def test_a_field_set_by_a_transition_is_replayed(session, service, world):
    arg, mex = world.actor(world.arg_clerk), world.actor(world.mex_clerk)
    request = service.create(
        arg,
        kind="extradition",
        requested_authority="MEX-FGR",
        legal_basis="iace",
        fields={
            "person_description": "Varón, 45 años, 1,80 m.",
            "probable_location": "Cancún, Quintana Roo",
            "facts": "Homicidio en Rosario, 12 de enero de 2026.",
            "laws_violated": "Art. 79 Código Penal",
            "warrant_or_judgment": "Orden de detención del Juzgado Federal de Rosario",
            "undertaking": True,
            "channel": "central_authority",
        },
    )
    service.fire(request, "request_provisional_arrest", arg)
    moved = service.fire(request, "record_arrest", mex, {"arrest_date": "2026-03-02"})
    assert moved.data["row"]["fields_set"] == {"arrest_date": "2026-03-02"}
    assert moved.data["row"]["holder"] == "ARG-DAJIN"
    assert chain.verify_request(session, request) is None

    session.execute(
        update(REQUEST)
        .where(REQUEST.c.id == request.id)
        .values(fields={**request.fields, "arrest_date": "2026-02-01"})
    )
    session.expire_all()
    broken = chain.verify_request(session, request)
    assert broken is not None and broken.seq == moved.seq
    assert "field 'arrest_date' set to '2026-03-02'" in broken.reason
    assert "the request row has '2026-02-01'" in broken.reason


def test_a_history_from_before_recorded_values_verifies_in_part(session, service, world, received):
    mex = world.actor(world.mex_clerk)
    service.fire(received, "acknowledge", mex)
    service.assign(received, world.mex_clerk.id, world.actor(world.mex_supervisor))
    _strip_recorded_values(session, received.id)
    session.expire_all()

    [result] = [r for r in chain.verify_all(session) if r.reference == received.reference]
    assert result.broken is None and result.partial

    # What the old events tell is still compared: the state and the assignee.
    session.execute(update(REQUEST).where(REQUEST.c.id == received.id).values(state="closed"))
    session.expire_all()
    broken = chain.verify_request(session, received)
    assert broken is not None
    assert broken.reason == "set the state to 'formal_review', but the request row has 'closed'"


def test_a_new_event_after_old_ones_makes_its_columns_known_again(
    session, service, world, received
):
    _strip_recorded_values(session, received.id)
    session.expire_all()
    service.fire(received, "acknowledge", world.actor(world.mex_clerk))
    session.execute(
        update(REQUEST).where(REQUEST.c.id == received.id).values(holder_authority_id=world.col.id)
    )
    session.expire_all()
    broken = chain.verify_request(session, received)
    assert broken is not None and "holding authority to 'MEX-FGR'" in broken.reason


# --- the command, as an operator runs it, on a real database -------------------------------


def _walk(engine: Engine, engines: Engines) -> dict[str, Any]:
    """A request taken through creation, an edit, transitions (one of them setting the
    executing authority) and an assignment, committed; returns what the test needs."""
    with Session(engine) as session, session.begin():
        seeder = Seeder(session)
        world = seeder.world()
        col = world.col
        arg, arg_boss = world.actor(world.arg_clerk), world.actor(world.arg_supervisor)
        mex = world.actor(world.mex_clerk)
        court_boss = Actor.for_user(
            seeder.user(world.mex_court, "supervisor", username="court_supervisor")
        )
        court = world.actor(world.court_clerk)
        other = Actor.for_user(seeder.user(world.mex_court, "clerk", username="court_clerk2"))

        service = RequestService(session, engines)
        request = service.create(
            arg,
            kind="mla",
            requested_authority="MEX-FGR",
            legal_basis="untoc-18",
            fields=dict(MLA_FIELDS),
        )
        service.update(
            request,
            arg,
            fields={"subject": "Lavado de activos (ampliado)", "purpose": None},
            urgency="urgent",
            needed_by=(utcnow() + timedelta(days=60)).date(),
            needed_by_reason="Audiencia fijada",
        )
        service.update(request, arg, fields={"purpose": "Acreditar el origen de los fondos."})
        service.fire(request, "submit_for_review", arg)
        service.fire(request, "sign", arg_boss)
        service.fire(request, "transmit", arg)
        service.fire(request, "acknowledge", mex)
        service.fire(request, "pass_formal_review", mex)
        service.fire(request, "accept", mex)
        service.fire(request, "assign", mex, {"executing_authority": "MEX-FEMDO"})
        assert court.user is not None
        service.assign(request, court.user.id, court_boss)
        return {
            "reference": request.reference,
            "id": request.id,
            "col": col.id,
            "arg": request.requesting_authority_id,
            "other": other.user_id,
            "fields": dict(request.fields),
        }


def test_mla_audit_verify_names_each_column_changed_behind_the_history(
    migrated_database_url: str, tmp_path: Path, engines: Engines
) -> None:
    env = {
        "MLA_INSTANCE_DIR": str(tmp_path / "instance"),
        "MLA_DATABASE_URL": migrated_database_url,
    }
    runner = CliRunner()

    def mla(*args: str) -> Result:
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    assert mla("init").exit_code == 0
    engine = make_engine(migrated_database_url)
    walked = _walk(engine, engines)
    reference = walked["reference"]
    untouched = mla("audit", "verify")
    assert untouched.exit_code == 0, untouched.stderr
    assert "1 request histories verified, no broken link" in untouched.output
    assert "in part" not in untouched.output

    where = REQUEST.c.id == walked["id"]
    tampering: list[tuple[dict[str, Any], str]] = [
        ({"state": "closed"}, "set the state to 'assigned', but the request row has 'closed'"),
        ({"holder_authority_id": walked["arg"]}, "holding authority to 'MEX-FEMDO'"),
        ({"requesting_authority_id": walked["col"]}, "requesting authority to 'ARG-DAJIN'"),
        ({"requested_authority_id": walked["col"]}, "requested authority to 'MEX-FGR'"),
        ({"executing_authority_id": None}, "executing authority to 'MEX-FEMDO'"),
        (
            {"fields": {**walked["fields"], "subject": "Otro asunto"}},
            "field 'subject' set to 'Lavado de activos (ampliado)', "
            "but the request row has 'Otro asunto'",
        ),
        (
            {"fields": {**walked["fields"], "extra": "x"}},
            "the request row has field 'extra', which its history never set",
        ),
        (
            {"fields": {k: v for k, v in walked["fields"].items() if k != "purpose"}},
            "field 'purpose' set to 'Acreditar el origen de los fondos.', "
            "but the request row does not have it",
        ),
        ({"urgency": "normal"}, "set the urgency to 'urgent'"),
        ({"confidential": True}, "set the confidentiality to False"),
        ({"transmitted_at": None}, "set the transmitted at to '"),
        ({"outcome": "refused"}, "set the outcome to None"),
        ({"needed_by_reason": None}, "needed by reason to 'Audiencia fijada'"),
    ]
    with engine.connect() as conn:
        original = dict(conn.execute(select(REQUEST).where(where)).one()._mapping)
    for change, reason in tampering:
        with engine.begin() as conn:
            conn.execute(update(REQUEST).where(where).values(**change))
        caught = mla("audit", "verify")
        assert caught.exit_code == 1, change
        [line] = caught.stderr.strip().splitlines()
        assert line.startswith(f"error: broken history: {reference}: event "), line
        assert reason in line, (change, line)
        with engine.begin() as conn:
            conn.execute(update(REQUEST).where(where).values(**{k: original[k] for k in change}))
        assert mla("audit", "verify").exit_code == 0, change

    # Each party's assignee is on its own row: the court's, and the requesting side's (nobody).
    party = RequestParty.__table__
    for role, change, reason in [
        (
            "executing",
            walked["other"],
            "set the assignee of MEX-FEMDO to 'court_clerk', but the request row has "
            "'court_clerk2'",
        ),
        ("executing", None, "set the assignee of MEX-FEMDO to 'court_clerk', but the request "),
        ("requesting", walked["other"], "set the assignee of ARG-DAJIN to None, but the request"),
    ]:
        row = (party.c.request_id == walked["id"]) & (party.c.role == role)
        with engine.connect() as conn:
            before = conn.execute(select(party.c.assignee_id).where(row)).scalar_one()
        with engine.begin() as conn:
            conn.execute(update(party).where(row).values(assignee_id=change))
        caught = mla("audit", "verify")
        assert caught.exit_code == 1, (role, change)
        assert reason in caught.stderr, caught.stderr
        with engine.begin() as conn:
            conn.execute(update(party).where(row).values(assignee_id=before))
        assert mla("audit", "verify").exit_code == 0

    # A history written before values were recorded: verified for what it tells, and said so.
    with Session(engine) as session, session.begin():
        _strip_recorded_values(session, walked["id"])
    older = mla("audit", "verify")
    assert older.exit_code == 0, older.stderr
    assert "(1 of them checked in part" in older.output
    with engine.begin() as conn:
        conn.execute(update(REQUEST).where(where).values(state="closed"))
    assert mla("audit", "verify").exit_code == 1
    engine.dispose()


@pytest.mark.parametrize("column", ["reference", "created_by_id"])
def test_mla_audit_verify_names_a_reference_or_creator_changed_behind_the_history(
    migrated_database_url: str, tmp_path: Path, engines: Engines, column: str
) -> None:
    env = {
        "MLA_INSTANCE_DIR": str(tmp_path / "instance"),
        "MLA_DATABASE_URL": migrated_database_url,
    }
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    engine = make_engine(migrated_database_url)
    try:
        walked = _walk(engine, engines)
        change = {"reference": "MLA-ARG-2026-09999", "created_by_id": walked["other"]}[column]
        with engine.begin() as conn:
            conn.execute(
                update(REQUEST).where(REQUEST.c.id == walked["id"]).values({column: change})
            )
    finally:
        # A pooled connection left to the garbage collector would fail whichever test runs
        # when it is collected.
        engine.dispose()
    caught = runner.invoke(cli, ["audit", "verify"], env=env, catch_exceptions=False)
    assert caught.exit_code == 1, caught.output
    assert "broken history" in caught.stderr
