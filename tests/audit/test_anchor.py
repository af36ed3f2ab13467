"""Anchors catch what the chain alone cannot: a history rewritten whole, every hash and the
request's head recomputed, as someone with write access to the database could."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mla import demo
from mla.audit import anchor, chain
from mla.audit.models import Event
from mla.cli import cli
from mla.db import make_engine
from mla.errors import Invalid
from mla.requests.models import GENESIS_HASH, Request

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def rewrite_history(session: Session, request_id: int, seq: int, data: dict[str, object]) -> None:
    """Add ``data`` to event ``seq``'s data and recompute every hash from it on, and the
    head: a forgery the chain itself cannot see (nor the replay of the row: what the event
    left on the row is kept)."""
    events = session.scalars(
        select(Event).where(Event.request_id == request_id).order_by(Event.seq)
    ).all()
    head = GENESIS_HASH
    for event in events:
        if event.seq == seq:
            event.data = {**event.data, **data}
        event.prev_hash = head
        event.hash = chain._row_hash(event)
        head = event.hash
    session.execute(update(Request).where(Request.id == request_id).values(chain_head=head))
    session.flush()
    session.expire_all()


def test_histories_that_only_grew_still_hold(session, service, world, received):
    document = anchor.load(json.dumps(anchor.take(session, NOW)))
    service.fire(received, "acknowledge", world.actor(world.mex_clerk))
    assert list(anchor.check(session, document)) == []


def test_a_rewritten_history_verifies_alone_but_not_against_its_anchor(session, world, received):
    document = anchor.take(session, NOW)
    rewrite_history(session, received.id, 1, {"forged": True})
    assert chain.verify_request(session, received) is None  # the gap anchors close
    [broken] = anchor.check(session, document)
    assert broken.reference == received.reference
    assert "rewritten since the anchor of 2026-03-10" in broken.reason


def test_a_deleted_or_shortened_history_is_caught(session, received, new_mla):
    other = new_mla()
    document = anchor.take(session, NOW)
    session.execute(delete(Event).where(Event.request_id == other.id))
    session.execute(delete(Request).where(Request.id == other.id))
    last = received.event_count
    session.execute(delete(Event).where(Event.request_id == received.id, Event.seq == last))
    session.execute(update(Request).where(Request.id == received.id).values(event_count=last - 1))
    session.expire_all()
    reasons = {b.reference: b.reason for b in anchor.check(session, document)}
    assert "deleted since the anchor" in reasons[other.reference]
    assert "shorter than at the anchor" in reasons[received.reference]


@pytest.mark.parametrize(
    ("text_", "message"),
    [
        ("not json", "is not an mla anchor file"),
        ("[1, 2]", "is not an mla anchor file"),
        ('{"format": "x", "taken_at": "t", "heads": []}', "has format 'x'"),
        ('{"format": "mla-anchor/1", "taken_at": "t", "heads": [{"reference": 1}]}', "is not"),
    ],
)
def test_a_malformed_anchor_is_refused(text_: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        anchor.load(text_)


def test_an_edited_anchor_is_refused(session, received):
    document = anchor.take(session, NOW)
    document["heads"][0]["head"] = "0" * 64
    with pytest.raises(Invalid, match="altered"):
        anchor.load(json.dumps(document))


# --- the command, on a real database ------------------------------------------------------


def test_mla_audit_anchor_and_verify(migrated_database_url: str, tmp_path: Path) -> None:
    env = {
        "MLA_INSTANCE_DIR": str(tmp_path / "instance"),
        "MLA_DATABASE_URL": migrated_database_url,
    }
    runner = CliRunner()

    def mla(*args: str):
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    assert mla("init").exit_code == 0
    assert mla("demo").exit_code == 0
    file = tmp_path / "anchor.json"
    made = mla("audit", "anchor", str(file))
    assert made.exit_code == 0, made.output
    digest = json.loads(file.read_text())["digest"]
    assert made.output.strip().endswith(f"digest {digest}")
    seeded = len(demo.data().requests)
    assert f"anchored {seeded} request histories" in made.output

    again = mla("audit", "anchor", str(file))
    assert again.exit_code == 1 and "never overwritten" in again.stderr

    held = mla("audit", "verify", "--anchor", str(file))
    assert held.exit_code == 0, held.stderr
    assert f"{seeded} still hold at the anchor {file}" in held.output and digest in held.output

    engine = make_engine(migrated_database_url)
    with Session(engine) as session, session.begin():
        first = session.scalars(select(Request).order_by(Request.id)).first()
        assert first is not None
        reference = first.reference
        rewrite_history(session, first.id, 1, {"forged": True})
    engine.dispose()

    assert mla("audit", "verify").exit_code == 0  # the chain alone cannot see it
    caught = mla("audit", "verify", "--anchor", str(file))
    assert caught.exit_code == 1
    [line] = caught.stderr.strip().splitlines()
    assert line.startswith(f"error: broken history: {reference}: event ")
    assert "rewritten since the anchor" in line

    garbled = tmp_path / "garbled.json"
    garbled.write_bytes(b"\xff\xfe not text")
    unreadable = mla("audit", "verify", "--anchor", str(garbled))
    assert unreadable.exit_code == 1
    assert unreadable.stderr.startswith("error: cannot read the anchor")
    assert len(unreadable.stderr.strip().splitlines()) == 1

    file.write_text(file.read_text().replace(digest, "0" * 64))
    altered = mla("audit", "verify", "--anchor", str(file))
    assert altered.exit_code == 1 and "altered" in altered.stderr
