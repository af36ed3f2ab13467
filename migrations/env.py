"""Alembic environment: mla's metadata, the URL from mla's settings, batch mode for SQLite."""

from __future__ import annotations

from typing import Any

from alembic import context

from mla import config as mla_config
from mla.db import UTCDateTime, make_engine
from mla.model_registry import metadata

alembic_config = context.config


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations must not import application types: render ours as the plain types they are.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _include_name(name: str | None, type_: str, _parents: Any) -> bool:
    # Full-text search (mla.requests.search) is made by its migration, not by the models:
    # an FTS5 table (and its shadow tables) on SQLite, a tsvector table on PostgreSQL.
    return not (type_ == "table" and name is not None and name.startswith("request_search"))


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=metadata,
        include_name=_include_name,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        **kwargs,
    )


def run_migrations_online() -> None:
    connection = alembic_config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = alembic_config.get_main_option("sqlalchemy.url") or mla_config.load()["MLA_DATABASE_URL"]
    engine = make_engine(url)
    with engine.connect() as connection:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def run_migrations_offline() -> None:
    url = alembic_config.get_main_option("sqlalchemy.url") or mla_config.load()["MLA_DATABASE_URL"]
    _configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
