"""Every statistics query over many requests, beside a bare COUNT(*) over the same rows.

    python bench/statistics_report.py [--requests 1000000] [--db PATH | --postgres URL] [--explain]

Seeds requests between three authorities once into a database it keeps (a SQLite file,
``instance/bench/statistics-N.db`` unless ``--db``; or the PostgreSQL database of ``--postgres``,
which it owns and empties when its count differs) and reuses it on the next run. Request i
(0-based) is made by authority i mod 3 to the next one, at 2024-01-01 plus i steps of
90,000,000 s / N (so the rows span the same 2.85 years whatever N: at 1M, 90 s apart); the
odd ones are closed 10 + i mod 90 days later, one in five of those refused on two grounds,
with the closing transition in the history, an acknowledgement (1 + i mod 9 days) and a
decision (5 + i mod 40 days) deadline. SQLite is seeded by executemany in large batches,
PostgreSQL by INSERT ... SELECT over generate_series, both in the database's own loop, into
the schema of the revision before the statistics' stage runs; upgrading to head then fills
the runs from those rows by the migration's INSERT ... SELECT, as for a real history.

Then times the report of one authority for a year, for each dimension, and prints each
report's time, its slowest single SQL statement (the issue's bar: every statistics query
under 1 s) and their ratios to the floor, a bare COUNT(*) over the request table in the same
run; and a bare COUNT(*) over the stage runs the turnaround reads (its index range). With
each, the CPU time of the process that ran the queries (this one on SQLite, the server's
backend on PostgreSQL, read from /proc), since on a shared machine the wall time also counts
waiting for a core. ``--explain`` prints each statement's plan. Prints figures, never
asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session

from mla import migrate
from mla.authorities import service as authorities
from mla.db import make_engine
from mla.deadlines.service import DeadlineService
from mla.requests.models import Request
from mla.statistics import service as stats
from mla.statistics.models import StageRun

BASE = datetime(2024, 1, 1, tzinfo=UTC)
CATEGORIES = (["drug_trafficking"], ["money_laundering", "corruption"], [])
GROUNDS = ["essential_interests", "domestic_law_bar"]
BATCH = 50_000
SPAN = 90_000_000  # seconds the requests' creations spread over
BEFORE_STAGE_RUNS = "7a4e2c9d1f35"  # the revision the seed's INSERTs are written for


def _authorities(session: Session) -> list[int]:
    add = authorities.add_authority
    made = [
        add(session, "ARG-DAJIN", country="AR", name="ARG",
            timezone="America/Argentina/Buenos_Aires"),
        add(session, "MEX-FGR", country="MX", name="MEX", timezone="America/Mexico_City"),
        add(session, "COL-FGN", country="CO", name="COL", timezone="America/Bogota"),
    ]  # fmt: skip
    session.flush()
    return [a.id for a in made]


def _seed_sqlite(session: Session, n: int, ids: list[int]) -> None:
    def stamp(moment: datetime) -> str:  # how SQLAlchemy stores a UTC instant in SQLite
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    grounds = json.dumps({"grounds": GROUNDS})
    step = SPAN // n
    for start in range(0, n, BATCH):
        rows, deadlines, events = [], [], []
        for i in range(start, min(n, start + BATCH)):
            a, b = ids[i % 3], ids[(i + 1) % 3]
            moment = BASE + timedelta(seconds=step * i)
            at = stamp(moment)
            closed = stamp(moment + timedelta(days=10 + i % 90)) if i % 2 else None
            outcome = ("refused" if i % 10 == 1 else "closed") if closed else None
            rows.append((i + 1, f"B-{i}", outcome or "received", b, a, b,
                         json.dumps(CATEGORIES[i % 3]), at, closed, outcome,
                         1 if closed else 0))  # fmt: skip
            if closed:
                for name, days in (("acknowledgement", 1 + i % 9), ("decision", 5 + i % 40)):
                    deadlines.append((i + 1, name, b, at, stamp(moment + timedelta(days=7)),
                                      stamp(moment + timedelta(days=days)),
                                      "met" if days <= 7 else "missed"))  # fmt: skip
                inputs = grounds if outcome == "refused" else "{}"
                events.append((i + 1, closed, f'{{"to": "{outcome}", "inputs": {inputs}}}'))
        conn = session.connection()
        conn.exec_driver_sql(
            "INSERT INTO request (id, reference, kind, workflow_version, state,"
            " holder_authority_id, requesting_authority_id, requested_authority_id,"
            " legal_basis, urgency, fields, offence_categories, confidential, created_at,"
            " updated_at, transmitted_at, closed_at, outcome, version_id, chain_head,"
            " event_count) VALUES (?, ?, 'mla', 2, ?, ?, ?, ?, 'untoc-18', 'normal', '{}', ?,"
            f" 0, ?8, ?8, ?8, ?, ?, 1, '{'0' * 64}', ?)",
            rows,
        )
        conn.exec_driver_sql(
            "INSERT INTO deadline (request_id, name, state, authority_id, started_at, due_at,"
            " closed_at, outcome, extended, level) VALUES (?, ?, 'received', ?, ?, ?, ?, ?, 0, 0)",
            deadlines,
        )
        conn.exec_driver_sql(
            "INSERT INTO event (request_id, seq, at, kind, data, prev_hash, hash)"
            f" VALUES (?, 1, ?, 'transition', ?, '{'0' * 64}', '{'0' * 64}')",
            events,
        )
        session.commit()


# The same rows as _seed_sqlite, made by PostgreSQL itself.
_PG_SEED = """
INSERT INTO request (id, reference, kind, workflow_version, state, holder_authority_id,
    requesting_authority_id, requested_authority_id, legal_basis, urgency, fields,
    offence_categories, confidential, created_at, updated_at, transmitted_at, closed_at,
    outcome, version_id, chain_head, event_count)
SELECT i + 1, 'B-' || i, 'mla', 2, coalesce(o, 'received'), b, a, b, 'untoc-18', 'normal',
    '{}', (ARRAY[:c0, :c1, :c2])[i % 3 + 1]::jsonb, false, at, at, at, closed, o, 1,
    repeat('0', 64), CASE WHEN closed IS NULL THEN 0 ELSE 1 END
FROM (SELECT i, (ARRAY[:x, :y, :z])[i % 3 + 1] AS a, (ARRAY[:y, :z, :x])[i % 3 + 1] AS b,
             :base + i * :step * interval '1 second' AS at,
             CASE WHEN i % 2 = 1 THEN :base + i * :step * interval '1 second'
                                      + (10 + i % 90) * interval '1 day' END AS closed,
             CASE WHEN i % 10 = 1 THEN 'refused' WHEN i % 2 = 1 THEN 'closed' END AS o
      FROM generate_series(0, :n - 1) AS i) AS s;
INSERT INTO deadline (request_id, name, state, authority_id, started_at, due_at, closed_at,
    outcome, extended, level)
SELECT r.id, d.name, 'received', r.requested_authority_id, r.created_at,
       r.created_at + interval '7 days', r.created_at + d.days * interval '1 day',
       CASE WHEN d.days <= 7 THEN 'met' ELSE 'missed' END, false, 0
FROM request AS r,
     LATERAL (VALUES ('acknowledgement', 1 + (r.id - 1) % 9),
                     ('decision', 5 + (r.id - 1) % 40)) AS d(name, days)
WHERE r.closed_at IS NOT NULL;
INSERT INTO event (request_id, seq, at, kind, data, prev_hash, hash)
SELECT id, 1, closed_at, 'transition',
       jsonb_build_object('to', outcome, 'inputs', CASE WHEN outcome = 'refused'
                          THEN jsonb_build_object('grounds', CAST(:grounds AS jsonb))
                          ELSE '{}'::jsonb END),
       repeat('0', 64), repeat('0', 64)
FROM request WHERE closed_at IS NOT NULL;
"""


def _seed_postgres(session: Session, n: int, ids: list[int]) -> None:
    params: dict[str, Any] = dict(
        n=n, step=SPAN // n, base=BASE, x=ids[0], y=ids[1], z=ids[2], grounds=json.dumps(GROUNDS),
        **{f"c{k}": json.dumps(c) for k, c in enumerate(CATEGORIES)},
    )  # fmt: skip
    for statement in _PG_SEED.split(";"):
        if statement.strip():
            session.execute(text(statement), params)
    session.commit()


def database(args: argparse.Namespace) -> Engine:
    """The bench's database, seeded with ``args.requests`` requests (kept between runs)."""
    if args.postgres:
        from mla.config import normalize_database_url

        url = normalize_database_url(args.postgres)
    else:
        path = Path(args.db or f"instance/bench/statistics-{args.requests}.db").resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def no_sync(dbapi_connection: Any, record: Any) -> None:
            # A bench database: no need to wait for the disk on every batch.
            dbapi_connection.execute("PRAGMA synchronous = OFF")

    with Session(engine) as session:
        try:
            have = session.scalar(select(func.count()).select_from(Request))
        except Exception:
            session.rollback()
            have = None
    if have == args.requests:
        before = migrate.current_revision(engine)
        _upgrade(engine)  # a migration added since the seeding (indexes, stage runs) applies
        print(f"reusing {have} requests ({url.split('@')[-1]})")
        if migrate.current_revision(engine) != before:
            _analyze(engine)
        return engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # the bench's own database, emptied first
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        engine.dispose()
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    # The rows go in as the revision before the statistics' stage runs has them; that
    # revision's migration then fills the runs from them, as it does for a real history.
    migrate.upgrade(engine, BEFORE_STAGE_RUNS)
    t = time.perf_counter()
    with Session(engine) as session:
        ids = _authorities(session)
        if engine.dialect.name == "postgresql":
            _seed_postgres(session, args.requests, ids)
        else:
            _seed_sqlite(session, args.requests, ids)
    print(f"seeded {args.requests} requests in {time.perf_counter() - t:.1f} s")
    _upgrade(engine)
    _analyze(engine)
    return engine


def _upgrade(engine: Engine) -> None:
    t = time.perf_counter()
    migrate.upgrade(engine)
    print(f"migrated to head in {time.perf_counter() - t:.1f} s")


def _analyze(engine: Engine) -> None:
    """What autovacuum does soon after a bulk load or new indexes (statistics; on
    PostgreSQL also the visibility map that index-only scans need), done now so that runs
    compare. (SQLite's plans for the report do not depend on it.)"""
    t = time.perf_counter()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()
    print(f"analyzed in {time.perf_counter() - t:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--db", help="SQLite file to keep the seeded rows in")
    parser.add_argument("--postgres", help="a PostgreSQL database the bench owns")
    parser.add_argument("--explain", action="store_true", help="print each statement's plan")
    parser.add_argument("--dimensions", default=",".join(stats.DIMENSIONS))
    args = parser.parse_args()
    engine = database(args)
    print(f"{engine.dialect.name}, {args.requests} requests")
    with Session(engine) as session:
        mex = authorities.get_authority(session, "MEX-FGR")
        samples = []
        for _ in range(3):  # the first one also reads the table into the cache
            t = time.perf_counter()
            session.scalar(select(func.count()).select_from(Request))
            samples.append(time.perf_counter() - t)
        floor = min(samples)
        print(f"COUNT(*) over request: {floor * 1000:.0f} ms")
        now = datetime(2026, 11, 29, tzinfo=UTC)
        # And over what the turnaround reads: the authority's stage runs ended in the year.
        year = stats.parse_period("2025")
        calendar = DeadlineService(session).calendar(mex)
        runs = select(func.count()).where(
            StageRun.authority_id == mex.id,
            StageRun.ended_at >= calendar.start_of_day(year.start),
            StageRun.ended_at < calendar.start_of_day(year.end),
        )
        samples = []
        for _ in range(3):
            t = time.perf_counter()
            n = session.scalar(runs)
            samples.append(time.perf_counter() - t)
        print(
            f"COUNT(*) over the {n} stage runs the turnaround reads: {min(samples) * 1000:.0f} ms"
        )
        cpu_time = _cpu_clock(session)
        took_each: list[tuple[float, float, str]] = []
        plans: list[tuple[str, Any]] = []

        @event.listens_for(engine, "before_cursor_execute")
        def started(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            conn.info["bench_t"] = (time.perf_counter(), cpu_time())

        @event.listens_for(engine, "after_cursor_execute")
        def ended(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            wall, cpu = conn.info["bench_t"]
            took_each.append((time.perf_counter() - wall, cpu_time() - cpu, statement))
            if args.explain and statement.lstrip().upper().startswith(("SELECT", "WITH")):
                plans.append((statement, parameters))

        for dimension in args.dimensions.split(","):
            took_each.clear()
            t, cpu = time.perf_counter(), cpu_time()
            stats.statistics(session, mex, year, dimension, now)
            took, cpu = time.perf_counter() - t, cpu_time() - cpu
            slowest = max(w for w, _c, _s in took_each)
            slowest_cpu = max(c for _w, c, _s in took_each)
            # The CPU time of the process that runs the queries (this one on SQLite, the
            # server's backend on PostgreSQL): what the report costs on a core of its own
            # (the wall time also counts waiting for a shared one).
            own = f"; CPU {cpu * 1000:.0f} ms, slowest query {slowest_cpu * 1000:.0f} ms"
            print(
                f"report by {dimension:17s} {took * 1000:7.0f} ms ({took / floor:6.1f}x COUNT(*)); "
                f"{len(took_each)} queries, slowest {slowest * 1000:6.0f} ms ({slowest / floor:5.1f}x){own}"  # noqa: E501
            )
            if args.explain:
                for ms, cpu_ms, statement in sorted(took_each, reverse=True):
                    text_ = " ".join(statement.split())[:150]
                    print(f"  {ms * 1000:7.0f} ms (CPU {cpu_ms * 1000:5.0f})  {text_}")
        if args.explain:
            _explain(engine, plans)


def _cpu_clock(session: Session) -> Callable[[], float]:
    """The CPU seconds used so far by the process that runs ``session``'s queries: this one
    on SQLite; on PostgreSQL its server backend (read from /proc: the server on this
    machine), with parallel workers off for the session so that the backend does all of a
    query's work (on two shared cores they would only wait for each other)."""
    if session.get_bind().dialect.name != "postgresql":
        return time.process_time
    session.execute(text("SET max_parallel_workers_per_gather = 0"))
    pid = session.scalar(text("SELECT pg_backend_pid()"))
    ticks = os.sysconf("SC_CLK_TCK")

    def backend() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    return backend


def _explain(engine: Engine, plans: list[tuple[str, Any]]) -> None:
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    seen = set()
    with engine.connect() as conn:
        for statement, parameters in plans:
            if statement in seen:
                continue
            seen.add(statement)
            print("\n" + " ".join(statement.split())[:300])
            cursor = conn.connection.cursor()
            cursor.execute(prefix + statement, parameters)
            for row in cursor.fetchall():
                print("   ", row if engine.dialect.name == "sqlite" else row[0])


if __name__ == "__main__":
    main()
