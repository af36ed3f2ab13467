"""The clerk's pages at 10k, 100k and 1M requests: server time per page beside a real floor.

    python bench/request_list.py [--sizes 10000,100000,1000000] [--data DIR]
                                 [--postgres postgresql://postgres@127.0.0.1/test] [--repeat 7]

Seeds each size once with SQLAlchemy Core bulk inserts (no service: the bench is about
reading) into a database it keeps and reuses: ``DIR/requests-N.db`` on SQLite, database
``mla_bench_N`` next to the one ``--postgres`` names. The shape is an archive: three central
authorities request from each other in turn; the newest 3,000 requests are open (in the
workflow's working states, a deadline each, some overdue), every older one is closed (with
its closed deadline); one history event per request; the clerk's authority has one in
seven of its requests assigned to the clerk. The rows of ``request_party`` and
``request_search`` are written as the recording layer writes them.

Then, through Flask's test client signed in as that clerk (MEX-FGR), times each page
(median of ``--repeat``) beside its floor: the best hand-written SELECT of the same rows over
the index made for it (a range scan of the authority's party rows; the dashboard's floor is
the sum of its queries' floors, the request page's the reads of its row, parties, history
and deadlines). "queries" is the same page's ``DashboardQueries`` call alone, without the
session check, the template and the response. Prints ms and ratios, sizes side by side;
never asserts.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from mla import create_app, migrate
from mla.audit.models import Event
from mla.authorities import service as authorities
from mla.db import get_session, make_engine, utcnow
from mla.deadlines.models import Deadline
from mla.requests import search
from mla.requests.dashboard import DashboardQueries
from mla.requests.models import Request, RequestParty, Urgency
from mla.requests.queries import RequestFilter
from mla.requests.scope import Actor

PASSWORD = "bench-password-42"
OPEN = 3000
OPEN_STATES = [
    "draft",
    "received",
    "substantive_review",
    "substantive_review",
    "accepted",
    "in_execution",
]
CLOSED_STATES = ["closed", "refused", "withdrawn"]
FIRST = ["José", "María", "João", "François", "Ana", "Luis", "Inês", "Hélène", "Jorge", "Lucía"]
LAST = ["García", "Núñez", "Pérez", "Gonçalves", "Lefèvre", "Muñoz", "Araújo", "Dubois"]
SYLLABLES = ["ba", "co", "di", "fu", "ga", "le", "mo", "ni", "pa", "qui",
             "ro", "sa", "te", "vu", "xa", "ye", "zo", "lu", "ca", "me"]  # fmt: skip


def surname(i: int) -> str:
    """A made-up family name, shared by about one request in 160,000 / size."""
    return "".join(SYLLABLES[(i // 20**k) % 20] for k in range(4)).capitalize()


def person(i: int) -> str:
    return f"{FIRST[i % len(FIRST)]} {LAST[(i // 10) % len(LAST)]} {surname(i)}"


def seed(app: Any, n: int) -> None:
    with app.app_context():
        db = get_session()
        add = authorities.add_authority
        arg = add(
            db, "ARG-DAJIN", country="AR", name="ARG", timezone="America/Argentina/Buenos_Aires"
        )
        mex = add(db, "MEX-FGR", country="MX", name="MEX", timezone="America/Mexico_City")
        col = add(db, "COL-FGN", country="CO", name="COL", timezone="America/Bogota")
        clerk = authorities.add_user(
            db, "clerk", authority_code="MEX-FGR", role="clerk", email="c@example.org",
            password=PASSWORD,
        )  # fmt: skip
        db.commit()
        now = utcnow().replace(second=0, microsecond=0)
        base = now - timedelta(minutes=n + 60)  # one request a minute, up to an hour ago
        fts_pg = db.get_bind().dialect.name == "postgresql"
        batch: dict[str, list[dict[str, Any]]] = {"r": [], "p": [], "e": [], "d": [], "s": []}

        def flush() -> None:
            db.execute(insert(Request), batch["r"])
            db.execute(insert(RequestParty), batch["p"])
            db.execute(insert(Event), batch["e"])
            if batch["d"]:
                db.execute(insert(Deadline), batch["d"])
            if fts_pg:
                db.execute(
                    text(
                        "INSERT INTO request_search (request_id, document) "
                        "VALUES (:id, array_to_tsvector(CAST(:words AS text[])))"
                    ),
                    batch["s"],
                )
            else:
                db.execute(
                    text("INSERT INTO request_search (rowid, document) VALUES (:id, :document)"),
                    [{"id": s["id"], "document": " ".join(s["words"])} for s in batch["s"]],
                )
            for rows in batch.values():
                rows.clear()

        for i in range(n):
            requesting, requested = [(arg, mex), (mex, col), (col, arg)][i % 3]
            at = base + timedelta(minutes=i)
            is_open = i >= n - OPEN
            state = OPEN_STATES[i % 6] if is_open else CLOSED_STATES[i % 3]
            transmitted = state != "draft"
            holder = requested if transmitted else requesting
            fields = {"subject": f"Lavado de activos, causa {i}", "persons": [{"name": person(i)}]}
            urgency = Urgency.URGENT if i % 17 == 0 else Urgency.NORMAL
            rid = i + 1
            batch["r"].append(
                dict(
                    id=rid, reference=f"MLA-B{i % 3}-2026-{i:07d}", their_reference=f"TR-{i}",
                    kind="mla", workflow_version=1, state=state, holder_authority_id=holder.id,
                    requesting_authority_id=requesting.id, requested_authority_id=requested.id,
                    legal_basis="untoc-18", urgency=urgency, fields=fields, confidential=False,
                    created_at=at, updated_at=at, version_id=1, chain_head="1" * 64,
                    event_count=1, transmitted_at=at if transmitted else None,
                    closed_at=None if is_open else at, outcome=None if is_open else state,
                )
            )  # fmt: skip
            for role, authority in [("requesting", requesting), ("requested", requested)]:
                if role == "requested" and not transmitted:
                    continue
                batch["p"].append(
                    dict(
                        request_id=rid, role=role, authority_id=authority.id,
                        assignee_id=clerk.id if authority is mex and i % 7 == 0 else None,
                        reference=batch["r"][-1]["reference"], kind="mla", state=state,
                        urgency=urgency, held=authority is holder, closed=not is_open,
                        created_at=at, updated_at=at,
                    )
                )  # fmt: skip
            batch["e"].append(
                dict(
                    request_id=rid, seq=1, at=at, kind="created", actor_authority_id=requesting.id,
                    data={"state": state}, prev_hash="0" * 64, hash="1" * 64,
                )
            )  # fmt: skip
            if transmitted:
                due = (
                    utcnow() + timedelta(days=(i % 40) - 20) if is_open else at + timedelta(days=30)
                )
                batch["d"].append(
                    dict(
                        request_id=rid, name="decision", state=state, authority_id=requested.id,
                        started_at=at, due_at=due, level=0, extended=False,
                        closed_at=None if is_open else at,
                    )
                )  # fmt: skip
            batch["s"].append(
                {"id": rid, "words": search.words(f"TR-{i} {fields['subject']} {person(i)}")}
            )
            if len(batch["r"]) == 5_000:
                flush()
        if batch["r"]:
            flush()
        db.commit()
        db.execute(text("ANALYZE"))
        db.commit()


def timed(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return sorted(samples)[len(samples) // 2]  # the median (bench/statistics.py shadows the module)


def floors(db: Any, mex: int, clerk: int, cursor: tuple[Any, int], name: str) -> dict[str, Any]:
    """Hand-written SELECTs of each page's rows, each over the index made for it."""
    page = "ORDER BY updated_at DESC, request_id DESC LIMIT 51"
    p = "SELECT request_id FROM request_party WHERE authority_id = :a"
    pg = db.get_bind().dialect.name == "postgresql"
    words = search.words(name)
    if pg:
        fts = "SELECT request_id FROM request_search WHERE document @@ CAST(:q AS tsquery)"
        q = " & ".join(f"'{w}'" for w in words)
    else:
        fts = "SELECT rowid FROM request_search WHERE request_search MATCH :q"
        q = " AND ".join(f'"{w}"' for w in words)
    current = utcnow()

    def instant(at: datetime | str) -> Any:
        # As the columns store it: SQLite's driver would write "T" and an offset.
        if pg or isinstance(at, str):  # a value read back by text() on SQLite is its text
            return at
        return at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    now = instant(current)
    overdue = (
        "EXISTS (SELECT 1 FROM deadline d WHERE d.request_id = request_party.request_id "
        "AND d.authority_id = :a AND d.closed_at IS NULL AND d.paused_at IS NULL "
        "AND d.due_at < :now)"
    )
    sql = {
        "first page": (f"{p} {page}", {}),
        "next page": (f"{p} AND (updated_at, request_id) < (:u, :r) {page}",
                      {"u": instant(cursor[0]), "r": cursor[1]}),
        "state": (f"{p} AND state = 'substantive_review' {page}", {}),
        "kind": (f"{p} AND kind = 'mla' {page}", {}),
        "held by us": (f"{p} AND held {page}", {}),
        "held by them, urgent": (f"{p} AND urgency = 'urgent' AND NOT held {page}", {}),
        "counterpart": (
            "SELECT p.request_id FROM request_party p JOIN request r ON r.id = p.request_id "
            "WHERE p.authority_id = :a AND r.requested_authority_id = "
            "(SELECT id FROM authority WHERE code = 'COL-FGN') "
            "ORDER BY p.updated_at DESC, p.request_id DESC LIMIT 51", {}),
        "assigned to me": (f"{p} AND assignee_id = :u {page}", {"u": clerk}),
        "overdue": (f"{p} AND {overdue} {page}", {"now": now}),
        "search reference": (
            f"{p} AND reference >= 'MLA-B1-2026-00004' AND reference < 'MLA-B1-2026-00005' "
            f"{page}", {}),
        "search name": (f"{p} AND request_id IN ({fts}) {page}", {"q": q}),
    }  # fmt: skip
    # The dashboard: the queue's page and count, overdue and due-soon deadlines with their
    # counts, the changes of the last week.
    dash = [
        (f"{p} AND NOT closed AND held AND assignee_id = :u ORDER BY updated_at LIMIT 50",
         {"u": clerk}),
        (f"{p} AND NOT closed AND held AND assignee_id IS NULL ORDER BY updated_at LIMIT 50", {}),
        ("SELECT count(*) FROM request_party WHERE authority_id = :a AND NOT closed AND held", {}),
        ("SELECT id FROM deadline WHERE authority_id = :a AND closed_at IS NULL "
         "AND due_at < :now ORDER BY due_at LIMIT 20", {"now": now}),
        ("SELECT count(*) FROM deadline WHERE authority_id = :a AND closed_at IS NULL "
         "AND due_at < :now", {"now": now}),
        ("SELECT id FROM deadline WHERE authority_id = :a AND closed_at IS NULL "
         "AND due_at >= :now AND due_at < :soon ORDER BY due_at LIMIT 20",
         {"now": now, "soon": instant(current + timedelta(days=7))}),
        ("SELECT request_id FROM event WHERE at >= :since AND actor_authority_id != :a "
         "ORDER BY id DESC LIMIT 20", {"since": instant(current - timedelta(days=7))}),
    ]  # fmt: skip
    out: dict[str, Any] = {}
    for key, (statement, params) in sql.items():
        out[key] = lambda s=statement, k=params: db.execute(text(s), {"a": mex, **k}).all()
    out["dashboard"] = lambda: [db.execute(text(s), {"a": mex, **k}).all() for s, k in dash]
    request = [
        ("SELECT * FROM request WHERE reference = :ref", {}),
        ("SELECT * FROM request_party WHERE request_id = :id", {}),
        ("SELECT * FROM event WHERE request_id = :id ORDER BY seq", {}),
        ("SELECT * FROM deadline WHERE request_id = :id ORDER BY due_at", {}),
    ]
    ref = db.execute(
        text("SELECT max(reference) FROM request_party WHERE authority_id = :a"), {"a": mex}
    ).scalar()
    last = db.execute(text("SELECT id FROM request WHERE reference = :r"), {"r": ref}).scalar()
    out["request page"] = lambda: [
        db.execute(text(s), {"ref": ref, "id": last, **k}).all() for s, k in request
    ]
    return out


PAGES = {
    "first page": "/requests",
    "next page": "/requests?cursor={cursor}",
    "state": "/requests?state=substantive_review",
    "kind": "/requests?kind=mla",
    "held by us": "/requests?holder=us",
    "held by them, urgent": "/requests?holder=them&urgency=urgent",
    "counterpart": "/requests?counterpart=COL-FGN",
    "assigned to me": "/requests?mine=1",
    "overdue": "/requests?overdue=1",
    "search reference": "/requests?q=MLA-B1-2026-00004",
    "search name": "/requests?q={name}",
    "dashboard": "/",
    "request page": "/requests/{reference}",
}
FILTERS = {
    "first page": {},
    "state": {"state": "substantive_review"},
    "kind": {"kind": "mla"},
    "held by us": {"holder": "us"},
    "held by them, urgent": {"holder": "them", "urgency": "urgent"},
    "counterpart": {"counterpart": "COL-FGN"},
    "assigned to me": {"mine": True},
    "overdue": {"overdue": True},
    "search reference": {"q": "MLA-B1-2026-00004"},
    "search name": {},
}


def measure(
    url: str, n: int, repeat: int, instance: Path, seed_only: bool = False
) -> dict[str, tuple[float, ...]]:
    engine: Engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM request")).scalar_one()
    engine.dispose()
    app = create_app({"MLA_INSTANCE_DIR": str(instance), "MLA_DATABASE_URL": url})
    if have == 0:
        t0 = time.perf_counter()
        seed(app, n)
        print(f"  seeded {n} requests in {time.perf_counter() - t0:.0f} s", flush=True)
    elif have != n:
        raise SystemExit(f"{url} holds {have} requests, not {n}: remove it first")
    if seed_only:
        return {}
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "clerk", "password": PASSWORD, "csrf_token": token})
    i = (n - OPEN - 10) // 3 * 3  # an archived request MEX-FGR received
    name = f"{FIRST[i % len(FIRST)]} {surname(i)}"
    first = client.get("/requests").get_data(as_text=True)
    cursor = re.search(r'cursor=([^&"]+)', first).group(1)  # type: ignore[union-attr]
    results: dict[str, tuple[float, ...]] = {}
    with app.app_context():
        db = get_session()
        mex = db.execute(text("SELECT id FROM authority WHERE code = 'MEX-FGR'")).scalar_one()
        clerk_id = db.execute(text("SELECT id FROM user_account WHERE username = 'clerk'")).scalar()
        user = db.get_one(authorities.User, clerk_id)
        actor = Actor.for_user(user)
        queries = DashboardQueries(db, utcnow())
        reference = db.execute(
            text("SELECT max(reference) FROM request_party WHERE authority_id = :a"), {"a": mex}
        ).scalar()
        page1 = queries.list(actor, RequestFilter(), limit=50)
        last = page1.rows[-1]
        key = db.execute(
            text(
                "SELECT updated_at FROM request_party WHERE request_id = :r AND authority_id = :a"
            ),
            {"r": last.id, "a": mex},
        ).scalar()
        floor = floors(db, mex, clerk_id, (key, last.id), name)
        for label, path in PAGES.items():
            path = path.format(cursor=cursor, name=name, reference=reference)
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            server = timed(lambda p=path: client.get(p), repeat)
            base = timed(floor[label], repeat)
            if label in FILTERS or label == "next page":
                flt = RequestFilter(**FILTERS.get(label, {}))
                if label == "search name":
                    flt = RequestFilter(q=name)
                c = page1.next_cursor if label == "next page" else None
                layer = timed(lambda f=flt, c=c: queries.list(actor, f, cursor=c), repeat)
            elif label == "dashboard":
                layer = timed(
                    lambda: (
                        queries.worklist(actor), queries.overdue(actor), queries.due_soon(actor),
                        queries.recent_from_others(actor),
                    ),
                    repeat,
                )  # fmt: skip
            else:
                layer = float("nan")
            results[label] = (server, layer, base)
        db.close()
    app.extensions["mla.db"].engine.dispose()
    return results


def postgres_url(base: str, n: int) -> str:
    from mla.config import normalize_database_url

    url = make_url(normalize_database_url(base))
    name = f"mla_bench_{n}"
    admin = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": name}
        ).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def report(title: str, sizes: list[int], found: dict[int, dict[str, tuple[float, ...]]]) -> None:
    print(f"\n{title}: ms (server through the test client / RequestQueries alone / floor), "
          "and server ÷ floor")  # fmt: skip
    head = "".join(f"{f'{n:,}':>34s}" for n in sizes)
    print(f"  {'page':22s}{head}")
    for label in PAGES:
        cells = []
        for n in sizes:
            server, layer, base = found[n][label]
            q = "—" if layer != layer else f"{layer * 1000:.1f}"
            cells.append(f"{server * 1000:7.1f} /{q:>6s} /{base * 1000:6.2f} {server / base:6.0f}x")
        print(f"  {label:22s}" + "".join(f"{c:>34s}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parent / ".data"))
    parser.add_argument("--postgres", default=os.environ.get("MLA_BENCH_POSTGRES_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--seed-only", action="store_true", help="seed the databases, time nothing")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    if not args.no_sqlite:
        found = {}
        for n in sizes:
            print(f"SQLite, {n} requests:", flush=True)
            url = f"sqlite:///{data}/requests-{n}.db"
            found[n] = measure(url, n, args.repeat, data / "instance", args.seed_only)
        if not args.seed_only:
            report("SQLite", sizes, found)
    if args.postgres:
        found = {}
        for n in sizes:
            print(f"PostgreSQL, {n} requests:", flush=True)
            url = postgres_url(args.postgres, n)
            found[n] = measure(url, n, args.repeat, data / "instance", args.seed_only)
        if not args.seed_only:
            report("PostgreSQL", sizes, found)


if __name__ == "__main__":
    main()
