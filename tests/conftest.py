"""Fixtures shared by every test.

Database tests run once per backend: SQLite always, PostgreSQL too when
``MLA_TEST_POSTGRES_URL`` is set. Each test runs inside a transaction that is rolled back at
its end (services' commits become savepoints), so tests are fast and independent. Tests that
need real commits seen by other connections or processes use ``fresh_database_url``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from mla import create_app, migrate
from mla.authorities import service as authorities
from mla.authorities.models import Authority, AuthorityKind, Role, User
from mla.config import normalize_database_url
from mla.db import make_engine
from mla.keyring import Keyring
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService
from mla.workflow import Engines, WorkflowSet, load_all

# CI replays the same examples every run: a red build must mean a regression, not a new draw.
hypothesis.settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")

POSTGRES_URL = os.environ.get("MLA_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
PASSWORD = "correct-horse-42"


def _admin_engine() -> Engine:
    assert POSTGRES_URL
    return make_engine(normalize_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


def _create_database(backend: str, folder: Path) -> tuple[str, Callable[[], None]]:
    """A new, empty database of ``backend``; returns its URL and a function that drops it."""
    if backend == "sqlite":
        return f"sqlite:///{folder / f'{secrets.token_hex(4)}.db'}", lambda: None
    name = f"mla_test_{secrets.token_hex(6)}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_database_url(POSTGRES_URL)).set(database=name)  # type: ignore[arg-type]

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """scrypt is slow on purpose; tests hash the same few passwords again and again."""
    real = authorities.hash_password
    cache: dict[str, str] = {}

    def cached(password: str) -> str:
        if password not in cache:
            cache[password] = real(password)
        return cache[password]

    authorities.hash_password = cached  # type: ignore[assignment]
    yield
    authorities.hash_password = real  # type: ignore[assignment]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, drop = _create_database(backend, tmp_path_factory.mktemp("db"))
    yield url
    drop()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the current backend, dropped after the test."""
    url, drop = _create_database(backend, tmp_path)
    yield url
    drop()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


def _joined_sessionmaker(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    with _joined_sessionmaker(connection)() as session:
        yield session


@pytest.fixture
def app(database_url: str, connection: Connection, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "MLA_INSTANCE_DIR": str(tmp_path / "instance"),
            "MLA_DATABASE_URL": database_url,
        }
    )
    db = app.extensions["mla.db"]
    db.sessionmaker = _joined_sessionmaker(connection)
    yield app
    db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    """A keyring of its own for the test (one key, k1)."""
    return Keyring.open(tmp_path / "keyring.json")


@pytest.fixture(scope="session")
def workflows() -> WorkflowSet:
    return load_all(Path(__file__).resolve().parent.parent / "workflows")


@pytest.fixture(scope="session")
def engines(workflows: WorkflowSet) -> Engines:
    return Engines(workflows)


# --- factories --------------------------------------------------------------------------


@pytest.fixture
def make_authority(session: Session) -> Callable[..., Authority]:
    counter = iter(range(1, 10_000))

    def make(code: str | None = None, **kwargs: Any) -> Authority:
        n = next(counter)
        kwargs.setdefault("country", "AR")
        kwargs.setdefault("name", f"Test authority {n}")
        kwargs.setdefault("languages", ["es", "en"])
        kwargs.setdefault("timezone", "America/Argentina/Buenos_Aires")
        if kwargs.get("kind") == AuthorityKind.EXECUTING:
            kwargs.setdefault("parent_code", None)
        return authorities.add_authority(session, code or f"T-{n}", **kwargs)

    return make


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(authority: Authority, role: str = "clerk", **kwargs: Any) -> User:
        n = next(counter)
        username = kwargs.pop("username", f"{authority.code.lower()}.{role}{n}")
        kwargs.setdefault("email", f"{username}@example.org")
        kwargs.setdefault("password", PASSWORD)
        return authorities.add_user(
            session, username, authority_code=authority.code, role=role, **kwargs
        )

    return make


# --- a small world of authorities and users, and a request service over it ------------

MLA_FIELDS = {
    "conducting_authority": "Fiscalía Federal N.º 3, Buenos Aires",
    "proceeding_type": "investigation",
    "subject": "Lavado de activos provenientes del narcotráfico",
    "assistance_types": ["records"],
    "facts": "Transferencias a cuentas en México entre 2023 y 2025.",
    "assistance_sought": "Extractos de la cuenta 0123456789 del Banco Ejemplo.",
    "purpose": "Acreditar el origen de los fondos.",
    "language": "es",
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: Any) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class World:
    arg: Authority
    mex: Authority
    mex_court: Authority
    col: Authority
    arg_clerk: User
    arg_supervisor: User
    mex_clerk: User
    mex_supervisor: User
    court_clerk: User
    col_clerk: User

    def actor(self, user: User) -> Actor:
        return Actor.for_user(user)

    @staticmethod
    def admin(authority: Authority) -> Actor:
        """An admin of ``authority``, as the services that reserve work to admins see one."""
        return Actor(authority=authority, role=Role.ADMIN)


@pytest.fixture
def world(make_authority, make_user) -> World:
    arg = make_authority("ARG-DAJIN", country="AR", timezone="America/Argentina/Buenos_Aires")
    mex = make_authority("MEX-FGR", country="MX", timezone="America/Mexico_City")
    court = make_authority(
        "MEX-FEMDO",
        country="MX",
        timezone="America/Mexico_City",
        kind=AuthorityKind.EXECUTING,
        parent_code="MEX-FGR",
    )
    col = make_authority("COL-FGN", country="CO", timezone="America/Bogota")
    return World(
        arg=arg,
        mex=mex,
        mex_court=court,
        col=col,
        arg_clerk=make_user(arg, "clerk"),
        arg_supervisor=make_user(arg, "supervisor"),
        mex_clerk=make_user(mex, "clerk"),
        mex_supervisor=make_user(mex, "supervisor"),
        court_clerk=make_user(court, "clerk"),
        col_clerk=make_user(col, "clerk"),
    )


@pytest.fixture
def clock() -> Clock:
    # A Monday morning in Mexico City.
    return Clock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))


@pytest.fixture
def service(session, engines, clock) -> RequestService:
    return RequestService(session, engines, clock=clock)


@pytest.fixture
def new_mla(service, world) -> Callable[..., Request]:
    def make(**kwargs: Any) -> Request:
        kwargs.setdefault("kind", "mla")
        kwargs.setdefault("requested_authority", "MEX-FGR")
        kwargs.setdefault("legal_basis", "untoc-18")
        kwargs.setdefault("fields", dict(MLA_FIELDS))
        return service.create(world.actor(world.arg_clerk), **kwargs)

    return make


@pytest.fixture
def received(service, world, new_mla) -> Request:
    """An MLA request transmitted by Argentina, now held by Mexico."""
    request = new_mla()
    service.fire(request, "submit_for_review", world.actor(world.arg_clerk))
    service.fire(request, "sign", world.actor(world.arg_supervisor))
    service.fire(request, "transmit", world.actor(world.arg_clerk))
    return request
