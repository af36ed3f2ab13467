"""``mla workflows migrate``: open extradition requests of version 1 moved to version 2 by an
operator, on a database of its own (both backends)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mla import create_app
from mla.audit import chain
from mla.audit.models import Event
from mla.authorities import service as authorities
from mla.authorities.models import AuthorityKind, Role
from mla.cli import cli
from mla.db import make_engine
from mla.deadlines.models import Deadline
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService
from mla.workflow import Engines, WorkflowSet, load_all

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
FIELDS = {
    "person_description": "Varón, 45 años",
    "probable_location": "Cancún",
    "facts": "Homicidio en Rosario, 12 de enero de 2026.",
    "laws_violated": "Art. 79 Código Penal",
    "warrant_or_judgment": "Orden de detención",
    "undertaking": True,
    "channel": "interpol",
    "laws_text": "Art. 79: 8 a 25 años",
    "identification": "Huellas",
}


@pytest.fixture
def v1_requests(migrated_database_url, tmp_path):
    """Three open requests opened while version 1 was the current one: one arrested, one in
    the consultation a "not extraditable" ruling led to, one in document review. (An app
    would no longer start with version 1 as the newest, for its dead ends: the requests are
    opened through engines of version 1 alone.)"""
    every = load_all(WORKFLOWS).workflows
    v1 = Engines(WorkflowSet({("extradition", 1): every[("extradition", 1)]}))
    app = create_app(
        {
            "MLA_DATABASE_URL": migrated_database_url,
            "MLA_INSTANCE_DIR": str(tmp_path / "instance"),
            "MLA_WORKFLOWS_DIR": str(WORKFLOWS),
        }
    )
    with app.app_context():
        session: Session = app.extensions["mla.db"].sessionmaker()
        add = authorities.add_authority
        arg = add(session, "ARG-DAJIN", country="AR", name="DAJIN",
                  timezone="America/Argentina/Buenos_Aires")  # fmt: skip
        mex = add(session, "MEX-FGR", country="MX", name="FGR", timezone="America/Mexico_City")
        court = add(session, "MEX-FEMDO", country="MX", name="FEMDO",
                    timezone="America/Mexico_City", kind=AuthorityKind.EXECUTING,
                    parent_code="MEX-FGR")  # fmt: skip
        svc = RequestService(session, v1)
        a, m = Actor(arg, Role.CLERK), Actor(mex, Role.CLERK)
        refs = []
        for _ in range(3):
            r = svc.create(
                a, kind="extradition", requested_authority="MEX-FGR", legal_basis="iace",
                fields=dict(FIELDS),
            )  # fmt: skip
            refs.append(r)
        arrested, ruled, review = refs
        svc.fire(arrested, "request_provisional_arrest", a)
        svc.fire(arrested, "record_arrest", m, {"arrest_date": "2026-03-02"})
        for r in (ruled, review):
            svc.fire(r, "transmit_formal_request", a)
            svc.fire(r, "acknowledge", m)
        svc.fire(ruled, "refer_to_court", m)
        ruled.executing_authority = court  # version 1 could not name the court
        svc.fire(ruled, "rule_not_extraditable", Actor(court, Role.CLERK), {"ruling": "No."})
        assert [r.workflow_version for r in refs] == [1, 1, 1]
        out = [r.reference for r in refs]
        session.commit()
        session.close()
    app.extensions["mla.db"].engine.dispose()
    env = {
        "MLA_DATABASE_URL": migrated_database_url,
        "MLA_INSTANCE_DIR": str(tmp_path / "instance"),
        "MLA_WORKFLOWS_DIR": str(WORKFLOWS),
    }

    def mla(*args: str):
        return CliRunner().invoke(cli, list(args), env=env)

    return out, mla, migrated_database_url


def _rows(url: str) -> dict[str, tuple[int, str, str]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = {
            r.reference: (r.workflow_version, r.state, r.holder_authority.code)
            for r in session.scalars(select(Request))
        }
    engine.dispose()
    return rows


def test_dry_run_then_apply(v1_requests):
    (arrested, ruled, review), mla, url = v1_requests
    before = _rows(url)
    plan = mla("workflows", "migrate", "extradition", "--from", "1", "--to", "2")
    assert plan.exit_code == 0, plan.output
    assert f"{ruled}\tconsultation -> consultation_after_ruling" in plan.output
    assert f"{arrested}\tperson_arrested\n" in plan.output
    assert "3 open requests of extradition would move" in plan.output
    assert _rows(url) == before  # a dry run changes nothing

    done = mla("workflows", "migrate", "extradition", "--from", "1", "--to", "2", "--apply")
    assert done.exit_code == 0, done.output
    assert "moved 3 open requests" in done.output
    rows = _rows(url)
    assert rows[arrested] == (2, "person_arrested", "ARG-DAJIN")
    assert rows[ruled] == (2, "consultation_after_ruling", "MEX-FGR")
    assert rows[review] == (2, "document_review", "MEX-FGR")

    engine = make_engine(url)
    with Session(engine) as session:
        request = session.scalar(select(Request).where(Request.reference == arrested))
        assert request is not None
        last = session.scalars(
            select(Event).where(Event.request_id == request.id).order_by(Event.seq.desc())
        ).first()
        assert last is not None and last.kind == "workflow_migrated"
        assert last.data["from_version"] == 1 and last.data["to_version"] == 2
        assert last.data["deadlines"] == {"formal_request": "kept"}
        # The detention clock is now the requested state's, counted in Mexico City.
        formal = session.scalar(
            select(Deadline).where(
                Deadline.request_id == request.id, Deadline.name == "formal_request"
            )
        )
        assert formal is not None and formal.authority_id == request.requested_authority_id
        assert formal.due_at.isoformat() == "2026-05-02T05:59:59.999999+00:00"
        ruled_row = session.scalar(select(Request).where(Request.reference == ruled))
        assert ruled_row is not None
        open_names = set(
            session.scalars(
                select(Deadline.name).where(
                    Deadline.request_id == ruled_row.id, Deadline.closed_at.is_(None)
                )
            )
        )
        assert open_names == {"ruling_consultation"}
        assert chain.verify_request(session, request) is None
    engine.dispose()

    again = mla("workflows", "migrate", "extradition", "--from", "1", "--to", "2")
    assert "0 open requests" in again.output


def test_unmapped_states_stop_the_command(v1_requests, tmp_path):
    (arrested, _ruled, _review), mla, url = v1_requests
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        # As if version 1 had had a state version 2 dropped.
        session.execute(
            update(Request).where(Request.reference == arrested).values(state="awaiting_papers")
        )
    engine.dispose()
    result = mla("workflows", "migrate", "extradition", "--from", "1", "--to", "2", "--apply")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: no state of extradition version 2 for: awaiting_papers (add them to the state map)"
    ]
    bad = tmp_path / "map.yaml"
    bad.write_text("person_arrested: nowhere\n")
    result = mla(
        "workflows", "migrate", "extradition", "--from", "1", "--to", "2", "--map", str(bad)
    )
    assert result.exit_code == 1 and "'nowhere', not a state of version 2" in result.stderr
    backwards = mla("workflows", "migrate", "extradition", "--from", "2", "--to", "1")
    assert backwards.exit_code == 1 and "later version" in backwards.stderr
    assert _rows(url)[arrested][0] == 1
