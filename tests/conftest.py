"""Fixtures shared by every test.

Database tests run once per backend: SQLite always, PostgreSQL too when
``MLA_TEST_POSTGRES_URL`` is set. Each test runs inside a transaction that is rolled back at
its end (services' commits become savepoints), so tests are fast and independent. Tests that
need real commits seen by other connections or processes use ``fresh_database_url``.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import generate_password_hash

from mla import create_app, migrate
from mla.api.cache import RecentReads, StatusCache
from mla.api.ratelimit import TokenBuckets
from mla.authorities import service as authorities
from mla.authorities.models import Authority, User
from mla.authorities.signin import SignInThrottle
from mla.config import normalize_database_url, parse_rate
from mla.db import make_engine
from mla.keyring import Keyring
from mla.requests.models import Request
from mla.requests.service import RequestService
from mla.workflow import Engines, WorkflowSet, load_all
from tests import factories
from tests.factories import Seeder, World

# CI replays the same examples every run: a red build must mean a regression, not a new draw.
hypothesis.settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")

POSTGRES_URL = os.environ.get("MLA_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def _admin_engine() -> Engine:
    assert POSTGRES_URL
    return make_engine(normalize_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


def _create_database(
    backend: str, folder: Path, template: str | None = None
) -> tuple[str, Callable[[], None]]:
    """A new database of ``backend``, empty or (PostgreSQL) a copy of ``template``; returns
    its URL and a function that drops it."""
    if backend == "sqlite":
        return f"sqlite:///{folder / f'{secrets.token_hex(4)}.db'}", lambda: None
    name = f"mla_test_{secrets.token_hex(6)}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(
            text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        )
    url = make_url(normalize_database_url(POSTGRES_URL)).set(database=name)  # type: ignore[arg-type]

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """scrypt is slow on purpose (about 0.1 s per hash and per check at its default cost);
    tests sign in thousands of times, so their users' hashes are scrypt at a low cost, each
    password hashed once. A hash names its cost, so checking one costs what making it did.
    tests/authorities/test_service.py checks the cost real users get."""
    real = authorities.hash_password
    cache: dict[str, str] = {}

    def cached(password: str) -> str:
        if password not in cache:
            cache[password] = generate_password_hash(password, method="scrypt:1024:8:1")
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


@pytest.fixture(scope="session")
def _migrated_template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of ``backend`` at the newest revision, migrated once per session; the
    databases of ``migrated_database_url`` are copies of it."""
    url, drop = _create_database(backend, tmp_path_factory.mktemp("template"))
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()  # no connection may be open on a PostgreSQL template; SQLite checkpoints
    yield url
    drop()


@pytest.fixture
def migrated_database_url(backend: str, _migrated_template: str, tmp_path: Path) -> Iterator[str]:
    """A database of the current backend at the newest revision, with no rows, dropped after
    the test: a copy of the session's migrated template (copying is several times faster than
    running every revision again). Tests of the migrations themselves use
    ``fresh_database_url``."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
        shutil.copyfile(make_url(_migrated_template).database, make_url(url).database)  # type: ignore[arg-type]
        yield url
        return
    url, drop = _create_database(backend, tmp_path, template=make_url(_migrated_template).database)
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


@pytest.fixture(scope="session")
def _app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app per backend for the whole session: building one loads and checks every
    workflow definition, which is most of what a test would otherwise wait for."""
    app = create_app(
        {
            "TESTING": True,
            "MLA_INSTANCE_DIR": str(tmp_path_factory.mktemp("instance")),
            "MLA_DATABASE_URL": database_url,
        }
    )
    yield app
    app.extensions["mla.db"].engine.dispose()


# What the app keeps in its process's memory. A test starts with these empty, as a newly
# started process would; an extension not named here or in _SHARED_EXTENSIONS fails the
# test, so that a new one is sorted deliberately.
_PER_TEST_EXTENSIONS: dict[str, Callable[[Flask], object]] = {
    "mla.signin_throttle": lambda app: SignInThrottle(),
    "mla.api.ratelimit": lambda app: TokenBuckets(parse_rate(app.config["MLA_API_RATE"])),
    "mla.api.status_cache": lambda app: StatusCache(),
    "mla.api.recent_reads": lambda app: RecentReads(),
}
# Built from settings no test changes (engine, workflows, translations, the after-step hooks).
# The keyring, the evidence store and the signing keys are opened lazily from the instance
# folder: the test's own, as they are dropped after each test.
_SHARED_EXTENSIONS = {"mla.db", "mla.engines", "babel", "mla.after_step"}


@pytest.fixture
def app(_app: Flask, connection: Connection, tmp_path: Path) -> Iterator[Flask]:
    """The session's app, for this test: its database session joins the test's rolled-back
    connection, its instance folder (evidence, keyring) is the test's own, its in-memory
    state is new, and whatever the test changes in ``app.config`` is undone afterwards."""
    app = _app
    unknown = set(app.extensions) - set(_PER_TEST_EXTENSIONS) - _SHARED_EXTENSIONS
    assert not unknown, f"sort the app extensions {unknown} in tests/conftest.py"
    config, extensions = dict(app.config), dict(app.extensions)
    instance_path = app.instance_path
    db = app.extensions["mla.db"]
    sessionmaker = db.sessionmaker

    instance = tmp_path / "instance"
    instance.mkdir()
    app.instance_path = str(instance)
    app.config.update(
        MLA_INSTANCE_DIR=instance,
        MLA_EVIDENCE_DIR=instance / "evidence",
        MLA_KEYRING_FILE=instance / "keyring.json",
        MLA_SIGNING_DIR=instance / "signing",
    )
    for name, fresh in _PER_TEST_EXTENSIONS.items():
        app.extensions[name] = fresh(app)
    db.sessionmaker = _joined_sessionmaker(connection)
    try:
        yield app
    finally:
        db.sessionmaker = sessionmaker
        app.instance_path = instance_path
        app.config.clear()
        app.config.update(config)
        app.extensions.clear()
        app.extensions.update(extensions)


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


# --- the world, seeded through tests/factories.py -------------------------------------


@pytest.fixture
def seeder(session: Session) -> Seeder:
    return Seeder(session)


@pytest.fixture
def make_authority(seeder: Seeder) -> Callable[..., Authority]:
    return seeder.authority


@pytest.fixture
def make_user(seeder: Seeder) -> Callable[..., User]:
    return seeder.user


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: Any) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def world(seeder: Seeder) -> World:
    return seeder.world()


@pytest.fixture
def clock() -> Clock:
    # A Monday morning in Mexico City.
    return Clock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))


@pytest.fixture
def service(session, engines, clock) -> RequestService:
    return RequestService(session, engines, clock=clock)


@pytest.fixture
def new_mla(service, world) -> Callable[..., Request]:
    """``new_mla(**overrides)``: an MLA draft by ARG-DAJIN's clerk (:func:`factories.new_mla`)."""

    def make(**kwargs: Any) -> Request:
        return factories.new_mla(service, world.actor(world.arg_clerk), **kwargs)

    return make


@pytest.fixture
def received(service, world, new_mla) -> Request:
    """An MLA request transmitted by Argentina, now held by Mexico."""
    request = new_mla()
    service.fire(request, "submit_for_review", world.actor(world.arg_clerk))
    service.fire(request, "sign", world.actor(world.arg_supervisor))
    service.fire(request, "transmit", world.actor(world.arg_clerk))
    return request
