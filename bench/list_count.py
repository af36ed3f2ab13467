"""The request list's count: capped at 1,000 ("more than 1,000") beside an exact COUNT(*),
over the world of bench/request_list.py.

    python bench/list_count.py [--requests 1000000] [--db FILE]

Seeds ``--db`` (SQLite) once with bench/request_list.py's requests and keeps it: later runs
reuse the file. Then times, for the clerk of MEX-FGR, the list's capped count and an exact
count of the same filter (every request it may see; held by it and urgent). Prints figures,
never asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere
sys.path.insert(1, str(Path(__file__).resolve().parent))

import request_list
from sqlalchemy import select

from mla import create_app, migrate
from mla.authorities import service as authorities
from mla.db import get_session, make_engine, utcnow
from mla.requests.models import Request, Urgency
from mla.requests.queries import RequestQueries
from mla.requests.scope import party_of
from mla.requests.service import Actor


def timed(fn, repeat: int) -> tuple[float, object]:
    result = fn()  # warm up
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return sorted(samples)[len(samples) // 2], result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--db", default="bench-list-count.db")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = Path(args.db).resolve()
    fresh = not path.exists()
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app({"MLA_INSTANCE_DIR": str(path.parent / "instance"), "MLA_DATABASE_URL": url})
    if fresh:
        t0 = time.perf_counter()
        request_list.seed(app, args.requests)
        print(f"  inserted {args.requests} requests in {time.perf_counter() - t0:.1f} s")
    with app.app_context():
        db = get_session()
        actor = Actor.for_user(authorities.get_user(db, "clerk"))
        q = RequestQueries(db, utcnow())
        visible = select(Request).where(party_of(actor.authority.id))
        held_urgent = visible.where(
            Request.holder_authority_id == actor.authority.id, Request.urgency == Urgency.URGENT
        )
        for name, query in [("every request visible", visible), ("held, urgent", held_urgent)]:
            capped, n_capped = timed(lambda qq=query: q._capped_count(qq, 1000), args.repeat)
            exact, n_exact = timed(lambda qq=query: q._count(qq), args.repeat)
            print(
                f"  {name:24s} capped {capped * 1000:8.1f} ms ({n_capped})"
                f"   exact {exact * 1000:8.1f} ms ({n_exact})"
            )
        app.extensions["mla.db"].engine.dispose()


if __name__ == "__main__":
    main()
