"""Events per second through the request service, beside a bare version-checked UPDATE commit.

    .venv/bin/python bench/events.py [--events 400] [--postgres URL] [--log] [--profile]
        [--sort tottime] [--only sqlite|postgres]

Each event is one unit of work as the API's boundary runs it: a fresh session, begun as a
writer (:func:`mla.db.begin_write`), the request read through the service for the change
(scoped to the caller, locked, ``get(..., for_change=True)`` as the API and web step views
read it), ``RequestService.fire``, one commit. The loop is formal review <-> information
requested (request_information, provide_information): each step changes the holder, pauses
or resumes a deadline, queues notifications and appends to the hash chain.

The floor, measured in the same run on the same database: ``UPDATE request SET version_id =
v + 1, updated_at = now WHERE id = ? AND version_id = v`` and a commit, one transaction each
(the least any event must do). Prints events/s, the floor, their ratio (issue #18's target:
at least 0.3) and the statements per event, counted by a ``before_cursor_execute`` listener
(``BEGIN`` not counted). ``--log`` prints the statements of one event; ``--profile`` the
top of a cProfile of the event loop.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, make_url, text, update
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from mla import migrate
from mla.authorities import service as authorities
from mla.config import PROJECT_ROOT, normalize_database_url
from mla.db import begin_write, make_engine
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService
from mla.workflow import Engines, load_all
from tests.factories import MLA_FIELDS

cpu_seconds = 0.0  # this process's CPU time in the last events() call

LOOP = [
    ("request_information", "requested", {"questions": "¿Número de cuenta?"}),
    ("provide_information", "requesting", {"answer": "0123456789"}),
]


class Statements:
    """Counts (and, when asked, keeps) the statements an engine sends while ``on``."""

    def __init__(self, engine: Engine) -> None:
        self.on = False
        self.count = 0
        self.kept: list[str] | None = None
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not self.on or statement.lstrip().upper().startswith("BEGIN"):
            return
        self.count += 1
        if self.kept is not None:
            self.kept.append(" ".join(statement.split())[:160])

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.on = True
        try:
            yield
        finally:
            self.on = False


def seed(factory: sessionmaker[Session], engines: Engines) -> tuple[dict[str, Actor], str]:
    """Two authorities with a supervisor each, and one request acknowledged by the requested
    side (in formal review): the actors and the request's reference."""
    with factory() as session:
        begin_write(session)
        for code, country in (("BEN-ARG", "AR"), ("BEN-MEX", "MX")):
            if session.scalar(text("SELECT 1 FROM authority WHERE code = :c"), {"c": code}) is None:
                authorities.add_authority(
                    session, code, country=country, name=code, languages=["es", "en"]
                )
                for role in ("clerk", "supervisor"):
                    authorities.add_user(
                        session, f"{code.lower()}.{role}", authority_code=code, role=role,
                        email=f"{code.lower()}.{role}@example.org", password="bench-password-1",
                    )  # fmt: skip
        session.commit()
        actors = {
            "requesting": Actor.for_user(authorities.get_user(session, "ben-arg.supervisor")),
            "requested": Actor.for_user(authorities.get_user(session, "ben-mex.supervisor")),
        }
        for actor in actors.values():
            assert actor.user is not None
            _ = actor.user.authority, actor.authority.country  # loaded before detaching
        service = RequestService(session, engines)
        request = service.create(
            actors["requesting"], kind="mla", requested_authority="BEN-MEX",
            legal_basis="untoc-18", fields=dict(MLA_FIELDS),
        )  # fmt: skip
        for name, party in [
            ("submit_for_review", "requesting"), ("sign", "requesting"),
            ("transmit", "requesting"), ("acknowledge", "requested"),
        ]:  # fmt: skip
            service.fire(request, name, actors[party])
        session.commit()
        return actors, request.reference


def events(factory: sessionmaker[Session], engines: Engines, actors: dict[str, Actor],
           reference: str, n: int, statements: Statements | None = None) -> float:  # fmt: skip
    """Seconds for ``n`` events, one unit of work each (counted when ``statements``)."""
    global cpu_seconds
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        name, party, inputs = LOOP[i % 2]
        with factory() as session:
            if statements is not None:
                statements.on = True
            begin_write(session)
            service = RequestService(session, engines)
            request = service.get(actors[party], reference, for_change=True)
            service.fire(request, name, actors[party], inputs)
            session.commit()
            if statements is not None:
                statements.on = False
    cpu_seconds = time.process_time() - cpu
    return time.perf_counter() - start


def floor(engine: Engine, reference: str, n: int) -> float:
    """Seconds for ``n`` bare version-checked UPDATEs of the same row, one commit each."""
    with engine.connect() as conn:
        request_id, version = conn.execute(
            text("SELECT id, version_id FROM request WHERE reference = :r"), {"r": reference}
        ).one()
    start = time.perf_counter()
    for _ in range(n):
        with engine.connect().execution_options(mla_immediate=True) as conn, conn.begin():
            stmt = (
                update(Request)
                .where(Request.id == request_id, Request.version_id == version)
                .values(version_id=version + 1, updated_at=datetime.now(UTC))
            )
            assert conn.execute(stmt).rowcount == 1
            version += 1
    return time.perf_counter() - start


def run(name: str, url: str, engines: Engines, n: int, args: argparse.Namespace) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    actors, reference = seed(factory, engines)
    statements = Statements(engine)
    events(factory, engines, actors, reference, 20)  # warm caches (workflows, calendars)
    rates, floors, cpu = [], [], []
    for _ in range(3):
        rates.append(n / events(factory, engines, actors, reference, n))
        cpu.append(cpu_seconds / n)
        floors.append(n / floor(engine, reference, n))
    statements.count = 0
    if args.log:
        statements.kept = []
    events(factory, engines, actors, reference, 2, statements)
    per_event = statements.count / 2
    rate, bare = sorted(rates)[1], sorted(floors)[1]  # medians of three
    print(f"{name:10s}: events {rate:7.0f}/s  floor (bare version-checked UPDATE commit) "
          f"{bare:7.0f}/s  ratio {rate / bare:.2f} (target >= 0.3)  "
          f"statements per event {per_event:.1f}  this process's CPU per event "
          f"{min(cpu) * 1e3:.2f} ms")  # fmt: skip
    if statements.kept is not None:
        for line in statements.kept[: len(statements.kept) // 2]:
            print("   ", line)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        events(factory, engines, actors, reference, n)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(35)
    engine.dispose()


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    """A throwaway database on the server ``url`` names, dropped afterwards."""
    server = make_engine(url, isolation_level="AUTOCOMMIT")
    name = f"mla_bench_events_{os.getpid()}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--postgres", default=os.environ.get("MLA_TEST_POSTGRES_URL"))
    parser.add_argument("--log", action="store_true", help="print one event's statements")
    parser.add_argument("--profile", action="store_true", help="cProfile the event loop")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (pstats)")
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    engines = Engines(load_all(PROJECT_ROOT / "workflows"))
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", engines, args.events, args)
    if args.postgres and args.only != "sqlite":
        with postgres_database(normalize_database_url(args.postgres)) as url:
            run("PostgreSQL", url, engines, args.events, args)


if __name__ == "__main__":
    main()
