"""An upload that fails at any point leaves neither row nor blob nor temporary file.

These tests commit for real, on a fresh database, so that the commit itself can fail.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from mla.authorities import service as authorities
from mla.db import make_engine, unit_of_work
from mla.evidence.models import Attachment
from mla.evidence.service import EvidenceService
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService
from tests.factories import new_mla, seed_world

from .conftest import PDF, files_under

BIG = os.urandom((2 << 20) + 5)  # three segments, so faults can strike mid-stream


@dataclass
class Setup:
    engine: Engine
    sessions: sessionmaker[Session]
    request_id: int
    actor_user_id: int


@pytest.fixture
def db(migrated_database_url: str, engines) -> Iterator[Setup]:
    engine = make_engine(migrated_database_url)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with sessions() as session, unit_of_work(session):
        world = seed_world(session)
        arg = world.arg_supervisor
        request = new_mla(RequestService(session, engines), world.actor(arg))
    yield Setup(engine, sessions, request.id, arg.id)
    engine.dispose()


@pytest.fixture
def upload_in(db, engines, store, keyring):
    """Run one upload as its own unit of work, like an HTTP request would."""

    def run(data: bytes = BIG, *, stream=None) -> int:
        with db.sessions() as session, unit_of_work(session):
            service = EvidenceService(
                session, RequestService(session, engines), store, keyring, max_bytes=64 << 20
            )
            request = session.get_one(Request, db.request_id)
            actor = Actor.for_user(session.get_one(authorities.User, db.actor_user_id))
            return service.upload(request, actor, "records.bin", stream or io.BytesIO(data)).id

    return run


def rows(db: Setup) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Attachment))


def test_a_committed_upload_keeps_its_blob(db, upload_in, store):
    upload_in()
    assert rows(db) == 1
    assert len(files_under(store.root)) == 1


def test_failure_while_streaming(db, upload_in, store):
    class Broken(io.BytesIO):
        def read(self, n=-1):
            if self.tell() > (1 << 20):
                raise ConnectionResetError("client went away")
            return super().read(n)

    with pytest.raises(ConnectionResetError):
        upload_in(stream=Broken(BIG))
    assert rows(db) == 0 and files_under(store.root) == []


@pytest.mark.parametrize("call", ["fsync", "rename"])
def test_failure_at_fsync_or_rename(db, upload_in, store, monkeypatch, call):
    real = getattr(os, call)

    def fail(*args):
        # The blob's own fsync, not a folder's: the temporary file exists by then.
        if call == "fsync" and not stat.S_ISREG(os.fstat(args[0]).st_mode):
            return real(*args)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, call, fail)
    with pytest.raises(OSError, match="No space"):
        upload_in()
    monkeypatch.undo()
    assert rows(db) == 0 and files_under(store.root) == []


def test_failure_at_flush(db, upload_in, store):
    def refuse(*_args):
        raise RuntimeError("database refused the row")

    event.listen(Attachment, "before_insert", refuse)
    try:
        with pytest.raises(RuntimeError, match="refused the row"):
            upload_in()
    finally:
        event.remove(Attachment, "before_insert", refuse)
    assert rows(db) == 0 and files_under(store.root) == []


def test_failure_at_commit(db, upload_in, store):
    def refuse(_conn):
        raise RuntimeError("commit failed: connection lost")

    event.listen(db.engine, "commit", refuse)
    try:
        with pytest.raises(RuntimeError, match="commit failed"):
            upload_in()
    finally:
        event.remove(db.engine, "commit", refuse)
    assert rows(db) == 0 and files_under(store.root) == []


def test_a_session_closed_without_commit_deletes_the_blob(db, engines, store, keyring):
    with db.sessions() as session:
        service = EvidenceService(
            session, RequestService(session, engines), store, keyring, max_bytes=1 << 20
        )
        request = session.get_one(Request, db.request_id)
        actor = Actor.for_user(session.get_one(authorities.User, db.actor_user_id))
        service.upload(request, actor, "a.pdf", io.BytesIO(PDF))
        assert len(files_under(store.root)) == 1
    assert rows(db) == 0 and files_under(store.root) == []


def test_a_rolled_back_savepoint_deletes_only_its_blob(db, engines, store, keyring):
    with db.sessions() as session, unit_of_work(session):
        service = EvidenceService(
            session, RequestService(session, engines), store, keyring, max_bytes=1 << 20
        )
        request = session.get_one(Request, db.request_id)
        actor = Actor.for_user(session.get_one(authorities.User, db.actor_user_id))
        kept = service.upload(request, actor, "kept.pdf", io.BytesIO(PDF))
        savepoint = session.begin_nested()
        service.upload(request, actor, "dropped.pdf", io.BytesIO(PDF))
        savepoint.rollback()
        released = session.begin_nested()
        also_kept = service.upload(request, actor, "also-kept.pdf", io.BytesIO(PDF))
        released.commit()
    assert rows(db) == 2
    assert sorted(store.keys()) == sorted([kept.storage_key, also_kept.storage_key])
