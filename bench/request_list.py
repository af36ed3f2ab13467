"""The clerk's pages at 10k, 100k and 1M requests: server time per page beside a real floor.

    python bench/request_list.py [--sizes 10000,100000,1000000] [--data DIR]
                                 [--postgres postgresql://postgres@127.0.0.1/test] [--repeat 7]

Seeds each size once (no service: the bench is about reading) into a database it keeps and
reuses: ``DIR/requests-N.db`` on SQLite, database ``mla_bench_N`` next to the one
``--postgres`` names. The rows are made in Python and stored through each column's own type
(as the application stores them), by executemany in 50k batches on SQLite and COPY on
PostgreSQL, the tables' secondary indexes dropped during the load and made again after it
from their own definitions. The shape is an archive: three central
authorities request from each other in turn; the newest 3,000 requests are open (in the
workflow's working states, a deadline each, some overdue), every older one is closed (with
its closed deadline); one history event per request; the clerk's authority has one in
seven of its requests assigned to the clerk. The rows of ``request_party`` and
``request_search`` are written as the recording layer writes them.

Then, through Flask's test client signed in as that clerk (MEX-FGR), times each page
(median of ``--repeat``) beside its floor: the best hand-written SELECT of the same rows over
the index made for it (a range scan of the authority's party rows; the dashboard's floor is
the sum of its sections' floors, over the party rows and the running deadlines' index, the
request page's the reads of its row, parties, history and deadlines). Each page is checked
to show seeded requests (the search by name the one it looks for). "queries" is the same
page's ``DashboardQueries`` call alone, without the session check, the template and the
response. Prints ms and ratios, sizes side by side; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from mla import create_app, migrate
from mla.authorities import service as authorities
from mla.db import Base, UTCDateTime, get_session, make_engine, utcnow
from mla.deadlines.models import Outcome
from mla.requests import search
from mla.requests.dashboard import DashboardQueries
from mla.requests.models import Request, Urgency
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


SUBJECT_WORDS = search.words("Lavado de activos, causa")
# The words of the first two names of person(i), by i % 80.
PERSON_WORDS = [search.words(f"{FIRST[i % 10]} {LAST[i // 10]}") for i in range(80)]


def _rows(
    n: int, base: datetime, now: datetime, ids: dict[str, int], clerk: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every row of the archive, table by table in request order, as the application would
    leave them (the models' column names and Python values; the loader stores them through
    the columns' own types)."""
    arg, mex, col = ids["ARG-DAJIN"], ids["MEX-FGR"], ids["COL-FGN"]
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
        reference = f"MLA-B{i % 3}-2026-{i:07d}"
        closed_at = None if is_open else at
        yield "request", dict(
            id=rid, reference=reference, their_reference=f"TR-{i}", kind="mla",
            workflow_version=1, state=state, holder_authority_id=holder,
            requesting_authority_id=requesting, requested_authority_id=requested,
            executing_authority_id=None, legal_basis="untoc-18", urgency=urgency,
            offence_categories=[], fields=fields, confidential=False, created_at=at,
            updated_at=at, version_id=1, chain_head="1" * 64, event_count=1,
            transmitted_at=at if transmitted else None, closed_at=closed_at,
            outcome=None if is_open else state,
        )  # fmt: skip
        for role, authority in [("requesting", requesting), ("requested", requested)]:
            if role == "requested" and not transmitted:
                continue
            yield "request_party", dict(
                request_id=rid, role=role, authority_id=authority,
                assignee_id=clerk if authority == mex and i % 7 == 0 else None,
                reference=reference, kind="mla", state=state, urgency=urgency,
                held=authority == holder, closed=not is_open, created_at=at, updated_at=at,
            )  # fmt: skip
        yield "event", dict(
            id=rid, request_id=rid, seq=1, at=at, kind="created", actor_user_id=None,
            actor_authority_id=requesting, on_behalf_of_id=None, data={"state": state},
            prev_hash="0" * 64, hash="1" * 64,
        )  # fmt: skip
        if transmitted:
            due = now + timedelta(days=(i % 40) - 20) if is_open else at + timedelta(days=30)
            yield "deadline", dict(
                request_id=rid, name="decision", state=state, authority_id=requested,
                started_at=at, due_at=due, closed_at=closed_at,
                outcome=None if is_open else Outcome.MET, paused_at=None, extended=False,
                level=0, next_step_at=due if is_open else None,
            )  # fmt: skip
        # search.document's words, put together from the parts (its cost over 1M rows is
        # the seed's largest); checked against it every so often.
        document = ["tr", str(i), *SUBJECT_WORDS, str(i), *PERSON_WORDS[i % 80], surname(i).lower()]
        document = list(dict.fromkeys(document))
        if i % 9973 == 0:
            made = SimpleNamespace(their_reference=f"TR-{i}", fields=fields)
            assert document == search.document(cast(Request, made)), (i, document)
        yield "request_search", {"request_id": rid, "words": document}


class _Loader:
    """Bulk writes of plain rows: SQLite through the driver's executemany in large batches,
    PostgreSQL through COPY, each value stored as its column's type stores it. The tables'
    secondary indexes are dropped first and made again by their own definitions at the end
    (one sort each instead of 1M insertions), and foreign keys are not checked per row: the
    rows are made consistent by construction."""

    BATCH = 50_000

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self.pg = self.dialect.name == "postgresql"
        self.raw: Any = connection.connection.driver_connection
        self.pending: dict[str, list[tuple[Any, ...]]] = {}
        self.columns: dict[str, list[str]] = {}
        self.processors: dict[str, list[Any]] = {}
        self.indexes: list[str] = []
        self.caches: list[dict[Any, Any]] = []

    def __enter__(self) -> _Loader:
        cur = self.raw.cursor()
        tables = ("request", "request_party", "event", "deadline")
        if self.pg:
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                ([*tables, "request_search"],),
            )
            found = cur.fetchall()
            cur.execute("SET session_replication_role = replica")  # no FK triggers per row
        else:
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({', '.join('?' for _ in tables)})",
                tables,
            )
            found = cur.fetchall()
            cur.execute("PRAGMA foreign_keys = OFF")
            cur.execute("PRAGMA synchronous = OFF")
            cur.execute("BEGIN")
        for name, definition in found:
            cur.execute(f'DROP INDEX "{name}"')
            self.indexes.append(definition)
        return self

    def _processor(self, kind: Any) -> Any:
        """What the column type ``kind`` does to a value it stores; for instants,
        remembering its answers until the next batch (a request's instant is stored a
        dozen times over its rows)."""
        process = kind.dialect_impl(self.dialect).bind_processor(self.dialect)
        if process is None or not isinstance(kind, UTCDateTime):
            return process
        seen: dict[Any, Any] = {}
        self.caches.append(seen)

        def remembered(value: Any) -> Any:
            found = seen.get(value)
            if found is None:
                found = seen[value] = process(value)
            return found

        return remembered

    def add(self, table: str, row: dict[str, Any]) -> None:
        if table == "request_search":
            # Made by the migration, not the models: its shape differs by database.
            if self.pg:
                lexemes = " ".join(f"'{w}'" for w in row["words"])  # \w+: nothing to escape
                value: tuple[Any, ...] = (row["request_id"], lexemes)
            else:
                value = (row["request_id"], " ".join(row["words"]))
            self.columns.setdefault(table, ["request_id" if self.pg else "rowid", "document"])
        else:
            if table not in self.columns:
                columns = Base.metadata.tables[table].columns
                self.columns[table] = list(row)
                self.processors[table] = [self._processor(columns[c].type) for c in row]
            value = tuple(
                p(v) if p is not None and v is not None else v
                for p, v in zip(self.processors[table], row.values(), strict=True)
            )
        batch = self.pending.setdefault(table, [])
        batch.append(value)
        if len(batch) >= self.BATCH:
            self._write(table)

    def _write(self, table: str) -> None:
        rows = self.pending.pop(table, [])
        for seen in self.caches:
            seen.clear()
        if not rows:
            return
        names = ", ".join(self.columns[table])
        cur = self.raw.cursor()
        if self.pg:
            with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in self.columns[table])
            cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None:
            return
        for table in list(self.pending):
            self._write(table)
        cur = self.raw.cursor()
        for definition in self.indexes:
            cur.execute(definition)
        if self.pg:
            cur.execute("SET session_replication_role = DEFAULT")
            # The sequences the application draws ids from go on after the seeded ids.
            for table in ("request", "event", "deadline"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        else:
            cur.execute("COMMIT")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA synchronous = NORMAL")


def seed(app: Any, n: int) -> None:
    with app.app_context():
        db = get_session()
        add = authorities.add_authority
        made = [
            add(db, "ARG-DAJIN", country="AR", name="ARG",
                timezone="America/Argentina/Buenos_Aires"),
            add(db, "MEX-FGR", country="MX", name="MEX", timezone="America/Mexico_City"),
            add(db, "COL-FGN", country="CO", name="COL", timezone="America/Bogota"),
        ]  # fmt: skip
        clerk = authorities.add_user(
            db, "clerk", authority_code="MEX-FGR", role="clerk", email="c@example.org",
            password=PASSWORD,
        )  # fmt: skip
        db.commit()
        ids = {a.code: a.id for a in made}
        clerk_id = clerk.id
        db.close()
    engine: Engine = app.extensions["mla.db"].engine
    now = utcnow().replace(second=0, microsecond=0)
    base = now - timedelta(minutes=n + 60)  # one request a minute, up to an hour ago
    with engine.connect() as connection:
        with _Loader(connection) as loader:
            for table, row in _rows(n, base, now, ids, clerk_id):
                loader.add(table, row)
        raw = connection.connection.driver_connection
        if connection.dialect.name == "postgresql":
            raw.commit()
            raw.autocommit = True
            raw.execute("VACUUM ANALYZE")  # the visibility map, for index-only scans
            raw.autocommit = False
        else:
            raw.execute("ANALYZE")


def timed(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


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
    # The dashboard: the queue's page (by each request's nearest running deadline) and count,
    # what it chases on the other side, its overdue and due-soon deadlines with their counts
    # (over the running deadlines' index), the changes of the last week.
    running = "d.closed_at IS NULL AND d.paused_at IS NULL"
    dash = [
        (f"SELECT p.request_id, (SELECT min(d.due_at) FROM deadline d WHERE "
         f"d.request_id = p.request_id AND {running}) AS due FROM request_party p "
         "WHERE p.authority_id = :a AND p.closed = false AND p.held = true "
         "ORDER BY due NULLS LAST, p.updated_at, p.request_id LIMIT 50", {}),
        ("SELECT count(*) FROM request_party WHERE authority_id = :a AND closed = false "
         "AND held = true", {}),
        ("SELECT d.id FROM request_party p JOIN deadline d ON d.request_id = p.request_id "
         f"WHERE p.authority_id = :a AND p.closed = false AND p.held = false AND {running} "
         "AND d.authority_id != :a AND d.due_at < :now ORDER BY d.due_at LIMIT 20", {"now": now}),
        (f"SELECT d.id FROM deadline d WHERE d.authority_id = :a AND {running} "
         "AND d.due_at < :now ORDER BY d.due_at LIMIT 20", {"now": now}),
        (f"SELECT count(*) FROM deadline d WHERE d.authority_id = :a AND {running} "
         "AND d.due_at < :now", {"now": now}),
        (f"SELECT d.id FROM deadline d WHERE d.authority_id = :a AND {running} "
         "AND d.due_at >= :now AND d.due_at < :soon ORDER BY d.due_at LIMIT 20",
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
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM request")).scalar_one()
        if have and migrate.current_revision(engine) != before:
            conn.execute(text("ANALYZE"))  # a kept database: its new indexes measured too
            conn.commit()
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
            # The seeded rows, as the pages show them.
            html = response.get_data(as_text=True)
            shown = set(re.findall(r">(MLA-B\d-2026-\d{7})\s*<", html))
            assert shown, (path, "no request shown")
            if label == "search name":
                assert f"MLA-B{i % 3}-2026-{i:07d}" in shown, (path, shown)
            if label == "dashboard":
                assert 'id="queue"' in html and "deadlines are overdue" in html, path
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
                        queries.worklist(actor), queries.awaiting_others(actor),
                        queries.deadlines_due(actor), queries.recent_from_others(actor),
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
