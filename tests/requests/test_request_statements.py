"""What one event costs the database: the statements a typical step sends, pinned exactly
(issue #18: 15 per event before the search words were written only when they change and
the lock read the request once; ``bench/events.py`` prints the figure and times it)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from mla.audit import chain
from mla.notify.models import Notification

# Read the request (scoped, locked; on SQLite with its party rows, which PostgreSQL reads
# after the lock: see RequestService.get), its open deadlines and one calendar's closures;
# read subscriptions and recipients; write in one flush the request (with the chain's head),
# the deadline paused or resumed, the one started, the history entry, the notification and
# the party rows (the lists' copy of the request). The search words are not written: the
# step changes no contents (tests/requests/test_request_search.py). Pinned exactly, so that
# a cut is recorded here and a statement added is a decision.
PER_EVENT = {"sqlite": 11, "postgresql": 12}


@contextmanager
def statements(session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.get_bind().engine

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_an_information_round_trip_stays_within_its_statements(session, service, world, received):
    mex, arg = world.actor(world.mex_clerk), world.actor(world.arg_clerk)
    service.fire(received, "acknowledge", mex)
    reference = received.reference
    counts = []
    for name, actor, inputs in [
        ("request_information", mex, {"questions": "¿Número de cuenta?"}),
        ("provide_information", arg, {"answer": "0123456789"}),
    ] * 2:
        session.expunge(received)  # a new unit of work starts from the reference
        with statements(session) as seen:
            received = service.get(actor, reference, for_change=True)
            service.fire(received, name, actor, inputs)
        counts.append(len(seen))
    assert counts == [PER_EVENT[session.get_bind().dialect.name]] * 4, counts
    # Nothing each event writes was dropped: the history holds and tells the row, the
    # deadline paused and resumed, and the other side was told each time.
    assert chain.verify_request(session, received) is None
    assert received.state == "formal_review" and received.event_count == 9
    told = session.scalar(select(func.count()).where(Notification.request_id == received.id))
    assert told >= 4
