"""Concurrency with real commits: two clerks act at once; references stay unique.

Each unit of work is begun as the boundaries begin theirs (:func:`mla.db.unit_of_work`, as a
CLI command or worker job; the web and API boundaries do the same per request).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mla.audit import chain
from mla.authorities import service as authorities
from mla.db import make_engine, unit_of_work
from mla.errors import Conflict
from mla.requests.models import RequestParty
from mla.requests.service import Actor, RequestService
from tests.factories import MLA_FIELDS, Seeder


@pytest.fixture
def db(migrated_database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated_database_url, pool_size=10)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        seeder = Seeder(session)
        world = seeder.world()
        seeder.user(world.mex, "clerk", username="mex_clerk2")
        session.commit()
    yield factory
    engine.dispose()


def _user(session: Session, username: str) -> Actor:
    return Actor.for_user(authorities.get_user(session, username))


def _in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # the test inspects what each thread got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_of_two_concurrent_events_exactly_one_wins(db, engines):
    with db() as session:
        service = RequestService(session, engines)
        request = service.create(
            _user(session, "arg_clerk"), kind="mla", requested_authority="MEX-FGR",
            legal_basis="untoc-18", fields=dict(MLA_FIELDS),
        )  # fmt: skip
        service.fire(request, "submit_for_review", _user(session, "arg_clerk"))
        service.fire(request, "sign", _user(session, "arg_supervisor"))
        service.fire(request, "transmit", _user(session, "arg_clerk"))
        reference = request.reference
        session.commit()

    def act(i: int) -> str:
        with db() as session, unit_of_work(session):
            service = RequestService(session, engines)
            actor = _user(session, ("mex_clerk", "mex_clerk2")[i])
            loaded = service.get(actor, reference)
            service.fire(loaded, "acknowledge", actor)
            return actor.user.username if actor.user else ""

    results = _in_threads(2, act)
    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    with db() as session:
        service = RequestService(session, engines)
        request = service.get(_user(session, "mex_clerk"), reference)
        assert request.state == "formal_review"
        assert [e.data.get("event") for e in service.history(request)].count("acknowledge") == 1
        assert chain.verify_request(session, request) is None


def test_a_stale_edit_names_the_winner(db, engines):
    with db() as session:
        service = RequestService(session, engines)
        request = service.create(
            _user(session, "arg_clerk"), kind="mla", requested_authority="MEX-FGR",
            legal_basis="untoc-18", fields=dict(MLA_FIELDS),
        )  # fmt: skip
        reference = request.reference
        session.commit()
    # Two sessions read version 1 (two clerks' pages); the first commits a change, the second
    # then acts on the version its page showed.
    first, second = db(), db()
    try:
        a = RequestService(first, engines)
        b = RequestService(second, engines)
        seen = b.get(_user(second, "arg_clerk"), reference).version_id
        second.commit()
        with unit_of_work(first):
            mine = a.get(_user(first, "arg_clerk"), reference)
            a.fire(mine, "submit_for_review", _user(first, "arg_clerk"))
        with unit_of_work(second), pytest.raises(Conflict, match=r"changed by arg_clerk at .* UTC"):
            theirs = b.get(_user(second, "arg_clerk"), reference)
            b.fire(
                theirs, "withdraw", _user(second, "arg_clerk"), {"reasons": "Ya no se necesita"},
                expected_version=seen,
            )  # fmt: skip
    finally:
        first.close()
        second.close()


def test_references_are_unique_under_concurrency(db, engines):
    def create(_i: int) -> str:
        with db() as session, unit_of_work(session):
            service = RequestService(session, engines)
            request = service.create(
                _user(session, "arg_clerk"), kind="mla", requested_authority="MEX-FGR",
                legal_basis="untoc-18",
            )  # fmt: skip
        return request.reference

    results: list[Any] = []
    for _ in range(3):
        results += _in_threads(4, create)
    # Every creator got a reference (SQLite writers queue, PostgreSQL locks the counter row),
    # all distinct and numbered without gaps.
    assert all(isinstance(r, str) for r in results), results
    references = [r for r in results if isinstance(r, str)]
    assert len(references) == len(set(references)) == 12
    numbers = sorted(int(r.rsplit("-", 1)[1]) for r in references)
    assert numbers == list(range(1, len(numbers) + 1))


def test_steps_read_for_change_at_once_queue_up_and_keep_the_copies(db, engines):
    """Each side reads the request for its step (locked) while the other's step may hold it:
    the one that waited acts on what was committed meanwhile, so the chain holds and the
    party rows (the lists' copies: state, who holds it) say what the request says."""
    with db() as session:
        service = RequestService(session, engines)
        request = service.create(
            _user(session, "arg_clerk"), kind="mla", requested_authority="MEX-FGR",
            legal_basis="untoc-18", fields=dict(MLA_FIELDS),
        )  # fmt: skip
        for name, who in [("submit_for_review", "arg_clerk"), ("sign", "arg_supervisor"),
                          ("transmit", "arg_clerk"), ("acknowledge", "mex_clerk")]:  # fmt: skip
            service.fire(request, name, _user(session, who))
        reference = request.reference
        session.commit()
    steps = [
        ("mex_clerk", "formal_review", "request_information", {"questions": "¿Cuenta?"}),
        ("arg_clerk", "information_requested", "provide_information", {"answer": "0123"}),
    ]

    def act(i: int) -> int:
        username, when, event, inputs = steps[i]
        taken = 0
        for _ in range(8):
            with db() as session, unit_of_work(session):
                service = RequestService(session, engines)
                actor = _user(session, username)
                loaded = service.get(actor, reference, for_change=True)
                time.sleep(0.02)  # holding the lock: the other side's read waits for it
                if loaded.state == when:
                    service.fire(loaded, event, actor, inputs)
                    taken += 1
                    # What this step wrote to the copies, as the database holds them now.
                    copies = session.execute(
                        select(
                            RequestParty.state, RequestParty.held, RequestParty.authority_id
                        ).where(RequestParty.request_id == loaded.id)
                    ).all()
                    assert copies and all(
                        (state, held) == (loaded.state, authority == loaded.holder_authority_id)
                        for state, held, authority in copies
                    ), (copies, loaded.state)
        return taken

    results = _in_threads(2, act)
    assert all(isinstance(r, int) for r in results), results
    with db() as session:
        request = RequestService(session, engines).get(_user(session, "mex_clerk"), reference)
        assert request.event_count == 5 + sum(results)
        assert chain.verify_request(session, request) is None
        for party in request.parties:
            assert (party.state, party.updated_at) == (request.state, request.updated_at)
            assert party.held == (party.authority_id == request.holder_authority_id)
