"""`mla audit verify` over many requests: the chain and the replay of each row, in batches.

    .venv/bin/python bench/audit_verify.py [--requests 2000]

Builds, on a temporary SQLite database, requests taken through the request service (created,
edited, five transitions, one of them setting the executing authority, and assigned: ten
events each), then times ``verify_all`` over all of them beside the floor of reading every
event and request row once, best of three. Prints requests per second and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from mla import migrate
from mla.audit.chain import verify_all
from mla.audit.models import Event
from mla.authorities import service as authorities
from mla.authorities.models import AuthorityKind
from mla.config import PROJECT_ROOT
from mla.db import make_engine
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService
from mla.workflow import Engines, load_all
from tests.factories import MLA_FIELDS


def build(session: Session, count: int) -> None:
    add = authorities.add_authority
    add(session, "ARG-DAJIN", country="AR", name="DAJIN")
    add(session, "MEX-FGR", country="MX", name="FGR", languages=["es"])
    add(session, "MEX-FEMDO", country="MX", name="FEMDO", kind=AuthorityKind.EXECUTING,
        parent_code="MEX-FGR")  # fmt: skip

    def user(name: str, code: str, role: str) -> Actor:
        made = authorities.add_user(
            session,
            name,
            authority_code=code,
            role=role,
            email=f"{name}@example.org",
            password="correct-horse-42",
        )
        return Actor.for_user(made)

    arg, boss = user("ana", "ARG-DAJIN", "clerk"), user("beto", "ARG-DAJIN", "supervisor")
    mex, court_boss = user("carla", "MEX-FGR", "clerk"), user("diego", "MEX-FEMDO", "supervisor")
    court = user("elena", "MEX-FEMDO", "clerk")
    svc = RequestService(session, Engines(load_all(PROJECT_ROOT / "workflows")))
    for _ in range(count):
        r = svc.create(arg, kind="mla", requested_authority="MEX-FGR", legal_basis="untoc-18",
                       fields=dict(MLA_FIELDS))  # fmt: skip
        svc.update(r, arg, fields={"subject": "Lavado de activos (ampliado)"}, urgency="urgent")
        steps = [("submit_for_review", arg), ("sign", boss), ("transmit", arg)]
        steps += [("acknowledge", mex), ("pass_formal_review", mex), ("accept", mex)]
        for event, actor in steps:
            svc.fire(r, event, actor)
        svc.fire(r, "assign", mex, {"executing_authority": "MEX-FEMDO"})
        assert court.user is not None
        svc.assign(r, court.user.id, court_boss)


def best(run: object, times: int = 3) -> float:
    out = []
    for _ in range(times):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        out.append(time.perf_counter() - start)
    return min(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    count = parser.parse_args().requests
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        migrate.upgrade(engine)
        with Session(engine) as session, session.begin():
            build(session, count)
        with Session(engine) as session:
            events = session.query(Event).count()

            def floor() -> None:
                session.execute(select(Request.__table__)).all()
                for _ in session.execute(select(Event.__table__)):
                    pass

            def verify() -> None:
                assert all(r.broken is None for r in verify_all(session))

            bare, full = best(floor), best(verify)
        engine.dispose()
    print(f"{count} requests, {events} events")
    print(f"verify: {full:.2f} s ({count / full:.0f} requests/s, {events / full:.0f} events/s)")
    print(f"reading every row and event: {bare:.2f} s; verify / read = {full / bare:.1f}x")


if __name__ == "__main__":
    main()
