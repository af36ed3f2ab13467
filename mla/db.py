"""Engine, sessions, the declarative base and the column types every model shares.

Services take a :class:`~sqlalchemy.orm.Session` and flush; the boundary (an HTTP request, a
CLI command, a worker job) begins a unit of work that may write as one that writes
(:func:`begin_write`), and commits or rolls back once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from werkzeug.routing import IntegerConverter

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


MAX_ID = 2**63 - 1  # the largest primary key PostgreSQL's BIGINT and SQLite hold


def parse_id(value: object) -> int | None:
    """A row id from user input (path, form, cursor), or None when it cannot be one: only
    ASCII digits, 1 to MAX_ID. Anything else must read as "no such thing", never as a 500."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) < 20:
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in URLs, bounded to ids the database can hold (1 to MAX_ID)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    SQLite has no time zones: values are stored as naive UTC and handed back aware, so that
    comparisons in Python never mix naive and aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSON on SQLite, JSONB on PostgreSQL (indexable, compact).
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys, a busy timeout and real BEGINs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide where transactions begin, so that
            # SAVEPOINTs and transactional DDL work (SQLAlchemy's pysqlite recipe).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            immediate = bool(conn.get_execution_options().get("mla_immediate"))
            conn.info["mla_immediate"] = immediate
            conn.info["mla_wrote"] = False
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        @event.listens_for(engine, "before_cursor_execute")
        def _sqlite_track_writes(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
                conn.info["mla_wrote"] = True

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """The Flask extension: one engine per app, one session per application context."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["MLA_DATABASE_URL"])
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        app.extensions["mla.db"] = self
        app.teardown_appcontext(self._close)

    def _close(self, _exc: BaseException | None) -> None:
        session: Session | None = g.pop("mla_session", None)
        if session is not None:
            session.close()


def get_session() -> Session:
    """The session of the current application context (created on first use)."""
    if "mla_session" not in g:
        g.mla_session = current_app.extensions["mla.db"].sessionmaker()
    session: Session = g.mla_session
    return session


def begin_write(session: Session) -> None:
    """Make the session's transaction one that may write, before anything reads what it will
    change. The boundaries call it when a unit of work begins (web and API requests that
    write, :func:`unit_of_work` for CLI commands and worker jobs); the evidence service calls
    it late on purpose, once a file has streamed in (upload) or been decrypted (verify).

    On SQLite a transaction that has only read holds a snapshot; if another writer commits
    before it writes, its write fails at once ("database is locked"), and neither the winner
    nor the new state can be seen. Unless it has written already, the transaction is restarted
    as ``BEGIN IMMEDIATE``, which waits for other writers and then reads what they committed.
    Loaded objects are expired by the restart and reload on access. PostgreSQL needs nothing:
    row locks (``FOR UPDATE``) do this there. Sessions bound to a connection (tests joining an
    outer transaction) are left alone.
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or not isinstance(bind, Engine):
        return
    if session.in_transaction():
        info = session.connection().info
        if info.get("mla_immediate") or info.get("mla_wrote"):
            return
        if session.new or session.dirty or session.deleted:
            return
        session.rollback()
    session.connection(execution_options={"mla_immediate": True})


@contextlib.contextmanager
def unit_of_work(session: Session | None = None, *, lock_late: bool = False) -> Iterator[Session]:
    """A unit of work that may write, for a CLI command or a worker job: begun as one
    (:func:`begin_write`), committed when the block ends, rolled back entirely if it raised.
    Web and API requests get the same from their boundaries (:mod:`mla.web.boundary`,
    :mod:`mla.api.routing`).

    ``lock_late``: the block's service takes the write lock itself, after long work that
    must not hold it (decrypting evidence to verify it), as an upload does after streaming.
    """
    session = session or get_session()
    try:
        if not lock_late:
            begin_write(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def StrEnumType(enum_cls: type, name: str) -> SAEnum:
    """Store a ``StrEnum`` by value, as a VARCHAR with a CHECK constraint on every database."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
