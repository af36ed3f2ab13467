"""Full-text search of the words in a request's fields (names, subjects, authorities, facts)
and its requesting state's reference, with the database's own index: an FTS5 table on
SQLite, a ``tsvector`` column under a GIN index on PostgreSQL (the ``request_search`` table,
made by the migration, not by the models: its shape differs by database).

Both databases index the same words, made here: letters and digits (and ``_``) in runs,
accents removed and case folded, so that "Garcia" finds "García" and "FRANCOIS" finds
"François" in any of the four languages, with no stemming (names are not words of one
language; PostgreSQL's ``simple`` configuration would do the same, but the accents are taken
off here so that no ``unaccent`` extension is needed). A query's words must all appear;
the last one may be the beginning of a word (three letters or more), as the clerk types.

Written only with the request's party rows (:func:`mla.requests.recording.record_change`),
and only when the words may have changed: a new request, or one whose ``fields`` or
``their_reference`` were set (or flagged modified) since its words were last written
(:func:`stale`). Every change to those columns goes through the ORM attribute (the JSON
column tracks no change made inside it), so no change of the words is missed, and an event
that leaves them alone writes nothing here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    Text,
    cast,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import column, table

from mla.requests.models import Request

TABLE = "request_search"
_WORD = re.compile(r"\w+")
_MAX_WORD = 100  # longer runs (a pasted digest) are cut: no one types them
_MAX_WORDS = 20_000  # PostgreSQL keeps a tsvector under 1 MB

_search = table(TABLE, column("rowid"), column("request_id"), column("document"))


def words(value: str) -> list[str]:
    """The indexed words of ``value``: accents off, case folded, in order."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return [w[:_MAX_WORD] for w in _WORD.findall(plain.casefold())]


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _texts(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _texts(v)


def document(request: Request) -> list[str]:
    """The distinct words ``request`` is found by."""
    found: dict[str, None] = {}
    for value in [request.their_reference or "", *_texts(request.fields or {})]:
        found.update(dict.fromkeys(words(value)))
    return list(found)[:_MAX_WORDS]


def write(session: Session, request_id: int, found: list[str]) -> None:
    """Replace the indexed words of request ``request_id`` with ``found``."""
    if session.get_bind().dialect.name == "postgresql":
        document = func.array_to_tsvector(cast(found, ARRAY(Text)))
        session.execute(
            pg_insert(_search)
            .values(request_id=request_id, document=document)
            .on_conflict_do_update(index_elements=["request_id"], set_={"document": document})
        )
    else:
        # FTS5 has no upsert: the row goes and comes back.
        session.execute(delete(_search).where(_search.c.rowid == request_id))
        session.execute(insert(_search).values(rowid=request_id, document=" ".join(found)))


_STALE = "mla_search_stale"  # in the request's InstanceState.info


@event.listens_for(Request, "init")
def _new(target: Request, _args: Any, _kwargs: Any) -> None:
    inspect(target).info[_STALE] = True


@event.listens_for(Request.fields, "set")
@event.listens_for(Request.their_reference, "set")
def _set(target: Request, _value: Any, _old: Any, _initiator: Any) -> None:
    inspect(target).info[_STALE] = True


@event.listens_for(Request.fields, "modified")
def _modified(target: Request, _initiator: Any) -> None:
    inspect(target).info[_STALE] = True


def stale(request: Request) -> bool:
    """Whether ``request``'s words may differ from those written for it: it is new, or its
    ``fields`` or ``their_reference`` were set since :func:`written` was last called for it
    in this session."""
    return bool(inspect(request).info.get(_STALE))


def written(request: Request) -> None:
    """Note that ``request``'s words were just written (see :func:`stale`)."""
    inspect(request).info.pop(_STALE, None)


def query_words(q: str) -> list[str]:
    return words(q)[:16]


def matching(session: Session, q: str) -> Any | None:
    """The ids of requests whose words match ``q`` (every word; the last one as a prefix
    when three letters or more), as a subquery to put in ``IN``; None when ``q`` has no
    word."""
    found = query_words(q)
    if not found:
        return None
    *whole, last = found
    prefix = len(last) >= 3
    if session.get_bind().dialect.name == "postgresql":
        # Quoted lexemes cast to tsquery, not to_tsquery: nothing in them is parsed again.
        terms = [f"'{w}'" for w in whole] + [f"'{last}'" + (":*" if prefix else "")]
        wanted = cast(literal(" & ".join(terms)), TSQUERY)
        return select(_search.c.request_id).where(_search.c.document.op("@@")(wanted))
    terms = [f'"{w}"' for w in whole] + [f'"{last}"' + ("*" if prefix else "")]
    return select(_search.c.rowid).where(
        literal_column(TABLE).op("MATCH")(literal(" AND ".join(terms)))
    )
