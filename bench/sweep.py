"""One sweep with 100 escalation steps due among 10k, 100k and 1M open deadlines.

    .venv/bin/python bench/sweep.py [--sizes 10000,100000,1000000] [--postgres URL]

Runs on SQLite (a temporary file) and, when ``--postgres`` or ``MLA_TEST_POSTGRES_URL`` names a
server, on a throwaway PostgreSQL database. Deadlines are bulk-inserted with Core (``COPY`` on
PostgreSQL) into one database that grows from size to size; at each size one sweep fires 100
due steps (queueing their notifications) and is rolled back, best of five. Prints the time per
sweep and the ratio of each size to the smallest, the floor measured in the same run (target:
the 1M sweep within 2x the 10k sweep: the cost follows what is due, not what is open).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, make_url, select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from mla import migrate
from mla.authorities import service as authorities
from mla.config import PROJECT_ROOT, normalize_database_url
from mla.db import make_engine
from mla.deadlines.models import Deadline
from mla.notify.sweeper import sweep
from mla.requests.service import Actor, RequestService
from mla.workflow import Engines, load_all
from tests.factories import MLA_FIELDS

DUE = 100
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def setup(engine: Engine, engines: Engines) -> tuple[int, int]:
    """One transmitted request (held by MEX-FGR) to hang the deadlines on."""
    migrate.upgrade(engine)
    with Session(engine) as session, session.begin():
        for code, country, tz in (
            ("ARG-DAJIN", "AR", "America/Argentina/Buenos_Aires"),
            ("MEX-FGR", "MX", "America/Mexico_City"),
        ):
            authorities.add_authority(
                session, code, country=country, name=code, timezone=tz, languages=["es"]
            )
            for role in ("clerk", "supervisor"):
                authorities.add_user(
                    session, f"{code.lower()}-{role}", authority_code=code, role=role,
                    email=f"{role}@{code.lower()}.example", password="bench-password-42",
                )  # fmt: skip
        arg = session.scalars(select(authorities.User).where(
            authorities.User.username == "arg-dajin-clerk")).one()  # fmt: skip
        sup = session.scalars(select(authorities.User).where(
            authorities.User.username == "arg-dajin-supervisor")).one()  # fmt: skip
        service = RequestService(session, engines, clock=lambda: datetime(2026, 3, 2, tzinfo=UTC))
        request = service.create(Actor.for_user(arg), kind="mla", requested_authority="MEX-FGR",
                                 legal_basis="untoc-18", fields=dict(MLA_FIELDS))  # fmt: skip
        for event, user in (("submit_for_review", arg), ("sign", sup), ("transmit", arg)):
            service.fire(request, event, Actor.for_user(user))
        # Its own deadlines would be due too: only the bench's 100 should be.
        session.execute(text("UPDATE deadline SET next_step_at = NULL"))
        return request.id, request.requested_authority_id


def rows(request_id: int, authority_id: int, start: int, count: int, due: bool):
    for i in range(start, start + count):
        # Not due: next steps spread over the coming years, so the index has a real range.
        step = NOW - timedelta(minutes=1 + i % 50) if due else NOW + timedelta(minutes=1 + i)
        yield {
            "request_id": request_id, "name": "acknowledgement", "state": "received",
            "authority_id": authority_id, "started_at": NOW - timedelta(days=10),
            "due_at": NOW + timedelta(days=3650), "extended": False, "level": 0,
            "next_step_at": step,
        }  # fmt: skip


def bulk_insert(engine: Engine, request_id: int, authority_id: int, start: int, count: int):
    if engine.dialect.name == "postgresql":
        columns = list(next(rows(request_id, authority_id, 0, 1, False)))
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            with cursor.copy(f"COPY deadline ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows(request_id, authority_id, start, count, False):
                    copy.write_row([row[c] for c in columns])
            raw.commit()
        finally:
            raw.close()
        with engine.begin() as conn:
            conn.execute(text("ANALYZE deadline"))
        return
    chunk = 50_000
    with engine.begin() as conn:
        for offset in range(start, start + count, chunk):
            n = min(chunk, start + count - offset)
            conn.execute(insert(Deadline), list(rows(request_id, authority_id, offset, n, False)))


def time_sweep(engine: Engine, engines: Engines, request_id: int, authority_id: int) -> float:
    best = float("inf")
    for _ in range(5):
        with Session(engine) as session:
            session.begin()
            session.execute(insert(Deadline), list(rows(request_id, authority_id, 0, DUE, True)))
            session.expire_all()
            started = time.perf_counter()
            result = sweep(session, engines, NOW, batch=DUE)
            elapsed = time.perf_counter() - started
            session.rollback()
        assert result.fired == DUE, result
        best = min(best, elapsed)
    return best


def bench(label: str, url: str, sizes: list[int], engines: Engines) -> None:
    engine = make_engine(url)
    try:
        request_id, authority_id = setup(engine, engines)
        have = 0
        results: list[tuple[int, float]] = []
        for size in sizes:
            started = time.perf_counter()
            bulk_insert(engine, request_id, authority_id, have, size - have)
            have = size
            load = time.perf_counter() - started
            seconds = time_sweep(engine, engines, request_id, authority_id)
            results.append((size, seconds))
            ratio = seconds / results[0][1]
            print(
                f"{label:10} {size:>9,} open  sweep {seconds * 1000:8.1f} ms  "
                f"ratio to {sizes[0]:,}: {ratio:4.2f}  (loaded in {load:.0f} s)",
                flush=True,
            )
        verdict = "OK" if results[-1][1] / results[0][1] <= 2 else "ABOVE TARGET"
        print(
            f"{label:10} {sizes[-1]:,}/{sizes[0]:,} ratio "
            f"{results[-1][1] / results[0][1]:.2f} (target <= 2): {verdict}",
            flush=True,
        )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--postgres", default=os.environ.get("MLA_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    engines = Engines(load_all(PROJECT_ROOT / "workflows"))
    authorities.hash_password = lambda password: "bench"  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as folder:
        bench("sqlite", f"sqlite:///{Path(folder) / 'sweep.db'}", sizes, engines)
    if args.postgres:
        admin = make_engine(normalize_database_url(args.postgres), isolation_level="AUTOCOMMIT")
        name = f"mla_bench_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(normalize_database_url(args.postgres)).set(database=name)
            bench("postgresql", url.render_as_string(hide_password=False), sizes, engines)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
