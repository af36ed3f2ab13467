"""Every statistics query over many requests, beside a bare COUNT(*) over the same rows.

    python bench/statistics.py [--requests 1000000] [--postgres URL (a database it empties)]

Bulk-inserts requests between three authorities (half closed, with acknowledgement,
decision and execution deadlines) with SQLAlchemy Core, then times the report of one
authority for a year, for each dimension, and prints each report's time, its slowest single
SQL statement (the issue's bar: every statistics query under 1 s) and their ratios to the
floor, a bare COUNT(*) over the request table in the same run. Prints figures, never asserts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session

from mla import migrate
from mla.authorities import service as authorities
from mla.db import make_engine
from mla.deadlines.models import Deadline, Outcome
from mla.requests.models import Request, Urgency
from mla.statistics import service as stats


def seed(session: Session, n: int) -> None:
    add = authorities.add_authority
    arg = add(
        session, "ARG-DAJIN", country="AR", name="ARG", timezone="America/Argentina/Buenos_Aires"
    )
    mex = add(session, "MEX-FGR", country="MX", name="MEX", timezone="America/Mexico_City")
    col = add(session, "COL-FGN", country="CO", name="COL", timezone="America/Bogota")
    session.commit()
    base = datetime(2024, 1, 1, tzinfo=UTC)
    cats = [["drug_trafficking"], ["money_laundering", "corruption"], []]
    for start in range(0, n, 20000):
        rows, deadlines = [], []
        for i in range(start, min(n, start + 20000)):
            a, b = [(arg, mex), (mex, col), (col, arg)][i % 3]
            at = base + timedelta(minutes=i * 1.5)
            closed = at + timedelta(days=10 + i % 90) if i % 2 else None
            rows.append(dict(id=i + 1, reference=f"B-{i}", kind="mla", workflow_version=2,
                             state="closed" if closed else "received", holder_authority_id=b.id,
                             requesting_authority_id=a.id, requested_authority_id=b.id,
                             legal_basis="untoc-18", urgency=Urgency.NORMAL, fields={},
                             offence_categories=cats[i % 3], confidential=False,
                             created_at=at, updated_at=at, transmitted_at=at, closed_at=closed,
                             outcome="closed" if closed else None, version_id=1, chain_head="0" * 64,  # noqa: E501
                             event_count=0))  # fmt: skip
            if closed:
                for name, days in (("acknowledgement", 1 + i % 9), ("decision", 5 + i % 40)):
                    deadlines.append(dict(request_id=i + 1, name=name, state="received",
                                          authority_id=b.id, started_at=at,
                                          due_at=at + timedelta(days=7),
                                          closed_at=at + timedelta(days=days),
                                          outcome=Outcome.MET if days <= 7 else Outcome.MISSED,
                                          extended=False, level=0))  # fmt: skip
        session.execute(insert(Request), rows)
        session.execute(insert(Deadline), deadlines)
        session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{os.path.join(tmp, 'bench.db')}"
        if args.postgres:
            from mla.config import normalize_database_url

            url = normalize_database_url(args.postgres)
        engine = make_engine(url)
        if engine.dialect.name == "sqlite":

            @event.listens_for(engine, "connect")
            def no_sync(dbapi_connection, record):
                # A throwaway database: no need to wait for the disk on every batch.
                dbapi_connection.execute("PRAGMA synchronous = OFF")

        if args.postgres:
            with engine.begin() as conn:  # the bench's own database, emptied first
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade(engine)
        with Session(engine) as session:
            t = time.perf_counter()
            seed(session, args.requests)
            print(
                f"seeded {args.requests} requests in {time.perf_counter() - t:.1f} s ({engine.dialect.name})"  # noqa: E501
            )
            if engine.dialect.name == "postgresql":
                # What autovacuum does soon after a bulk load, done now so that runs compare.
                session.execute(text("ANALYZE"))
            mex = authorities.get_authority(session, "MEX-FGR")
            samples = []
            for _ in range(3):  # the first one also reads the table into the cache
                t = time.perf_counter()
                session.scalar(select(func.count()).select_from(Request))
                samples.append(time.perf_counter() - t)
            floor = min(samples)
            print(f"COUNT(*) over request: {floor * 1000:.0f} ms")
            now = datetime(2026, 11, 29, tzinfo=UTC)
            took_each: list[float] = []

            @event.listens_for(engine, "before_cursor_execute")
            def started(conn, cursor, statement, parameters, context, executemany):
                conn.info["bench_t"] = time.perf_counter()

            @event.listens_for(engine, "after_cursor_execute")
            def ended(conn, cursor, statement, parameters, context, executemany):
                took_each.append(time.perf_counter() - conn.info["bench_t"])

            for dimension in stats.DIMENSIONS:
                took_each.clear()
                t = time.perf_counter()
                stats.statistics(session, mex, stats.parse_period("2025"), dimension, now)
                took = time.perf_counter() - t
                slowest = max(took_each)
                print(
                    f"report by {dimension:17s} {took * 1000:7.0f} ms ({took / floor:6.1f}x COUNT(*)); "  # noqa: E501
                    f"{len(took_each)} queries, slowest {slowest * 1000:6.0f} ms ({slowest / floor:5.1f}x)"  # noqa: E501
                )


if __name__ == "__main__":
    main()
