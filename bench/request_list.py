"""The request list page with 100,000 requests: time per page against a bare SELECT floor.

    python bench/request_list.py [--requests 100000] [--postgres postgresql://postgres@127.0.0.1/test]

Bulk-inserts the requests with SQLAlchemy Core (no service: the bench is about reading),
half with the clerk's authority requesting and half requested, with open deadlines on a
tenth (some overdue). Then, through Flask's test client signed in as that clerk, times the
list page (first page, a later page by cursor, filtered by state, overdue only, a search by
their reference) and prints each against the floor: the bare keyset SELECT of 50 ids in the
same run. Prints figures, never asserts.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from mla import create_app, migrate
from mla.authorities import service as authorities
from mla.db import get_session, make_engine
from mla.deadlines.models import Deadline
from mla.requests.models import Request, Urgency
from mla.requests.scope import party_of

PASSWORD = "bench-password-42"
STATES = ["draft", "received", "formal_review", "substantive_review", "accepted", "in_execution"]


def seed(app, n: int) -> None:
    with app.app_context():
        db = get_session()
        add = authorities.add_authority
        arg = add(
            db, "ARG-DAJIN", country="AR", name="ARG", timezone="America/Argentina/Buenos_Aires"
        )
        mex = add(db, "MEX-FGR", country="MX", name="MEX", timezone="America/Mexico_City")
        col = add(db, "COL-FGN", country="CO", name="COL", timezone="America/Bogota")
        authorities.add_user(
            db, "clerk", authority_code="MEX-FGR", role="clerk", email="c@example.org",
            password=PASSWORD,
        )  # fmt: skip
        db.commit()
        base = datetime(2026, 1, 1, tzinfo=UTC)
        rows, deadlines = [], []
        for i in range(n):
            requesting, requested = [(arg, mex), (mex, col), (col, arg)][i % 3]
            at = base + timedelta(minutes=i)
            state = STATES[i % len(STATES)]
            rows.append(
                dict(
                    id=i + 1, reference=f"MLA-B{i % 3}-2026-{i:06d}", their_reference=f"TR-{i}",
                    kind="mla", workflow_version=1, state=state,
                    holder_authority_id=(requesting if state == "draft" else requested).id,
                    requesting_authority_id=requesting.id, requested_authority_id=requested.id,
                    legal_basis="untoc-18",
                    urgency=Urgency.URGENT if i % 17 == 0 else Urgency.NORMAL,
                    fields={"subject": f"case {i}", "persons": [{"name": f"Person {i}"}]},
                    confidential=False, created_at=at, updated_at=at, version_id=1,
                    chain_head="0" * 64, event_count=0,
                )
            )  # fmt: skip
            if i % 10 == 0 and state != "draft":
                due = datetime.now(UTC) + timedelta(days=(i % 40) - 20)
                deadlines.append(
                    dict(request_id=i + 1, name="decision", state=state,
                         authority_id=requested.id, started_at=at, due_at=due, level=0,
                         extended=False)
                )  # fmt: skip
            if hasattr(Request, "transmitted_at") and state != "draft":
                rows[-1]["transmitted_at"] = at  # the requested side sees it from then on
            if len(rows) == 10_000:
                db.execute(insert(Request), rows)
                rows = []
        if rows:
            db.execute(insert(Request), rows)
        if deadlines:
            db.execute(insert(Deadline), deadlines)
        db.commit()


def timed(fn, repeat: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    # The median, by hand: bench/statistics.py shadows the standard library's module here.
    return sorted(samples)[len(samples) // 2]


def run(url: str, n: int, repeat: int) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"MLA_INSTANCE_DIR": instance, "MLA_DATABASE_URL": url})
        t0 = time.perf_counter()
        seed(app, n)
        print(f"  inserted {n} requests in {time.perf_counter() - t0:.1f} s")
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/login", data={"username": "clerk", "password": PASSWORD, "csrf_token": token})
        with app.app_context():
            db = get_session()
            mex_id = db.scalar(text("SELECT id FROM authority WHERE code = 'MEX-FGR'"))
            floor_query = (
                select(Request.id)
                .where(party_of(mex_id))
                .order_by(Request.updated_at.desc(), Request.id.desc())
                .limit(50)
            )
            floor = timed(lambda: list(db.execute(floor_query)), repeat)
        first = client.get("/requests").get_data(as_text=True)
        cursor = re.search(r'cursor=([^&"]+)', first).group(1)
        print(f"  floor: bare keyset SELECT of 50 ids: {floor * 1000:.2f} ms")
        for name, path in [
            ("first page", "/requests"),
            ("next page (cursor)", f"/requests?cursor={cursor}"),
            ("state filter", "/requests?state=formal_review"),
            ("held by us, urgent", "/requests?holder=us&urgency=urgent"),
            ("overdue only", "/requests?overdue=1"),
            ("search their reference", "/requests?q=TR-4242"),
            ("search a person named", "/requests?q=Person%2077777"),
            ("dashboard", "/"),
            ("dashboard, queue page 3", "/?queue=3"),
            ("previous page (cursor)", f"/requests?cursor={cursor}&dir=prev"),
            ("CSV, held by us, urgent", "/requests.csv?holder=us&urgency=urgent"),
        ]:
            assert client.get(path).status_code == 200, path
            t = timed(lambda p=path: client.get(p), repeat)
            print(f"  {name:26s} {t * 1000:8.1f} ms   {t / floor:6.1f}x floor")
        app.extensions["mla.db"].engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("MLA_BENCH_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(f"SQLite, {args.requests} requests:")
        run(f"sqlite:///{folder}/bench.db", args.requests, args.repeat)
    if args.postgres:
        from mla.config import normalize_database_url

        print(f"PostgreSQL, {args.requests} requests (database emptied first):")
        url = normalize_database_url(args.postgres)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        run(url, args.requests, args.repeat)


if __name__ == "__main__":
    main()
