"""The hash chain detects an edited, deleted, inserted or reordered event."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update

from mla.audit import chain
from mla.audit.models import Event, EventKind
from mla.requests.models import Request


@pytest.fixture
def request_with_history(session, make_authority):
    requesting = make_authority(country="AR")
    requested = make_authority(country="MX", timezone="America/Mexico_City")
    request = Request(
        reference="MLA-ARG-2026-00001",
        kind="mla",
        workflow_version=1,
        state="draft",
        holder_authority_id=requesting.id,
        requesting_authority_id=requesting.id,
        requested_authority_id=requested.id,
        legal_basis="untoc-18",
        fields={"summary": "Lavado de activos"},
    )
    session.add(request)
    session.flush()
    for i in range(4):
        chain.append(
            session,
            request,
            EventKind.COMMENT,
            actor_authority_id=requesting.id,
            data={"text": f"nota {i}", "n": i},
        )
    return request


def _events(session, request):
    return list(
        session.scalars(select(Event).where(Event.request_id == request.id).order_by(Event.seq))
    )


def test_intact_chain_verifies(session, request_with_history):
    assert chain.verify_request(session, request_with_history) is None
    assert request_with_history.event_count == 4


def test_appending_does_not_bump_the_optimistic_lock(session, request_with_history):
    before = request_with_history.version_id
    chain.append(session, request_with_history, EventKind.PROGRESS_QUERY)
    session.refresh(request_with_history)
    assert request_with_history.version_id == before


def test_edited_event_is_detected(session, request_with_history):
    third = _events(session, request_with_history)[2]
    session.execute(update(Event).where(Event.id == third.id).values(data={"text": "otra"}))
    session.expire_all()
    broken = chain.verify_request(session, request_with_history)
    assert broken is not None and broken.seq == 3 and "contents" in broken.reason


def test_deleted_event_is_detected(session, request_with_history):
    second = _events(session, request_with_history)[1]
    session.execute(delete(Event).where(Event.id == second.id))
    session.expire_all()
    broken = chain.verify_request(session, request_with_history)
    assert broken is not None and broken.seq == 2


def test_deleted_last_event_is_detected(session, request_with_history):
    last = _events(session, request_with_history)[-1]
    session.execute(delete(Event).where(Event.id == last.id))
    session.expire_all()
    broken = chain.verify_request(session, request_with_history)
    assert broken is not None and broken.seq == 4


def test_inserted_event_is_detected(session, request_with_history):
    events = _events(session, request_with_history)
    # Make room at seq 3 and slip a forged, self-consistent event in.
    for e in reversed(events[2:]):
        session.execute(update(Event).where(Event.id == e.id).values(seq=e.seq + 1))
    at = datetime(2026, 1, 1, tzinfo=UTC)
    forged_hash = chain.event_hash(
        events[1].hash,
        request_id=request_with_history.id,
        seq=3,
        at=at,
        kind="comment",
        actor_user_id=None,
        actor_authority_id=None,
        on_behalf_of_id=None,
        data={"text": "forged"},
    )
    session.add(
        Event(
            request_id=request_with_history.id,
            seq=3,
            at=at,
            kind="comment",
            data={"text": "forged"},
            prev_hash=events[1].hash,
            hash=forged_hash,
        )
    )
    session.flush()
    session.expire_all()
    broken = chain.verify_request(session, request_with_history)
    assert broken is not None and broken.seq == 4 and "previous" in broken.reason


def test_reordered_events_are_detected(session, request_with_history):
    first, second = _events(session, request_with_history)[:2]
    session.execute(update(Event).where(Event.id == first.id).values(seq=-1))
    session.execute(update(Event).where(Event.id == second.id).values(seq=1))
    session.execute(update(Event).where(Event.id == first.id).values(seq=2))
    session.expire_all()
    broken = chain.verify_request(session, request_with_history)
    assert broken is not None and broken.seq == 1
