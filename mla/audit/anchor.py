"""Anchors: every request's chain head at one moment, to be kept outside the database.

The hash chain shows an edit by anyone who does not also recompute every later hash and the
request's head. Someone who can write the whole database can do that, and the chain then
verifies. An anchor closes the gap: taken periodically (``mla audit anchor FILE``) and kept
where that person cannot reach, with its digest recorded elsewhere again (the auditor's
mail, a register), it fixes each request's history up to that moment. Each event's hash
covers every event before it, so a history still holds at its anchor exactly when its event
number ``events`` still has the anchored hash (and the chain verifies).

File format (JSON, ``format`` ``mla-anchor/1``)::

    {"format": "mla-anchor/1", "taken_at": "<UTC ISO 8601>",
     "heads": [{"reference": "...", "events": <count>, "head": "<hex SHA-256>"}, ...],
     "digest": "<hex SHA-256 of the canonical JSON of format, taken_at and heads>"}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from mla.audit.chain import Break
from mla.audit.models import Event
from mla.errors import N_, FieldError, Invalid
from mla.requests.models import Request

FORMAT = "mla-anchor/1"
_CHUNK = 500  # anchored histories checked per pair of queries


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def take(session: Session, now: datetime) -> dict[str, Any]:
    """The anchor of every request's history as of ``now``, as its JSON document."""
    rows = session.execute(
        select(Request.reference, Request.event_count, Request.chain_head).order_by(Request.id)
    )
    body: dict[str, Any] = {
        "format": FORMAT,
        "taken_at": now.isoformat(),
        "heads": [{"reference": r, "events": n, "head": h} for r, n, h in rows],
    }
    return {**body, "digest": _digest(body)}


def load(text: str) -> dict[str, Any]:
    """An anchor document read back, checked to be well formed and unaltered in itself.

    (Unaltered *in itself* only: whoever could rewrite the database could also rewrite this
    file and its digest, which is why the digest is recorded somewhere else too.)
    """
    try:
        document: dict[str, Any] = json.loads(text)
        body = {k: document[k] for k in ("format", "taken_at", "heads")}
        heads = [(h["reference"], h["events"], h["head"]) for h in body["heads"]]
    except (ValueError, TypeError, KeyError):
        raise Invalid(FieldError("anchor", N_("is not an mla anchor file"))) from None
    if body["format"] != FORMAT:
        raise Invalid(
            FieldError(
                "anchor",
                N_("has format %(format)r, not %(FORMAT)s"),
                {"format": body["format"], "FORMAT": FORMAT},
            )
        )
    if not all(
        isinstance(r, str) and isinstance(n, int) and isinstance(h, str) for r, n, h in heads
    ):
        raise Invalid(FieldError("anchor", N_("is not an mla anchor file")))
    if document.get("digest") != _digest(body):
        raise Invalid(FieldError("anchor", N_("does not match its own digest: it was altered")))
    return document


def check(session: Session, document: dict[str, Any]) -> Iterator[Break]:
    """Each anchored history that no longer holds at its anchor: deleted, shorter, or with
    a different event at the anchored position (rewritten). Run with
    :func:`mla.audit.chain.verify_all`, which checks that each chain holds together."""
    at = document["taken_at"]
    heads = document["heads"]
    for first in range(0, len(heads), _CHUNK):
        chunk = heads[first : first + _CHUNK]
        found = {
            row.reference: row
            for row in session.execute(
                select(Request.id, Request.reference, Request.event_count).where(
                    Request.reference.in_([h["reference"] for h in chunk])
                )
            )
        }
        positions = [
            (found[h["reference"]].id, h["events"]) for h in chunk if h["reference"] in found
        ]
        hashes = {
            (row.request_id, row.seq): row.hash
            for row in session.execute(
                select(Event.request_id, Event.seq, Event.hash).where(
                    tuple_(Event.request_id, Event.seq).in_(positions)
                )
            )
        }
        for anchored in chunk:
            reference, events = anchored["reference"], anchored["events"]
            request = found.get(reference)
            if request is None:
                yield Break(reference, events, f"the request was deleted since the anchor of {at}")
            elif request.event_count < events:
                yield Break(reference, events, f"the history is shorter than at the anchor of {at}")
            elif events and hashes.get((request.id, events)) != anchored["head"]:
                yield Break(
                    reference, events, f"the history was rewritten since the anchor of {at}"
                )
