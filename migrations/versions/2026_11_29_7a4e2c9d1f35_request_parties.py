"""request parties: each party authority's own assignee, and full-text search

One ``request_party`` row per authority that sees a request (the requesting one; the
requested and executing ones once it was transmitted), with that authority's own assignee
and copies of the columns its lists sort and filter by, under an index per page. The
request's one assignee moves to the row of the assignee's authority. The words a request is
found by go to ``request_search``: an FTS5 table on SQLite, a tsvector under a GIN index on
PostgreSQL (made here, not by the models: its shape differs by database).

Revision ID: 7a4e2c9d1f35
Revises: 7a4e2c9b1d35
Create Date: 2026-11-29 15:36:27.116174
"""

import json
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "7a4e2c9d1f35"
down_revision: str | None = "7a4e2c9b1d35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of mla.requests.search.words and document as they are at this revision (a
# migration does not import the application).
_WORD = re.compile(r"\w+")


def _words(value: str) -> list[str]:
    plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return [w[:100] for w in _WORD.findall(plain.casefold())]


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _texts(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _texts(v)


def _document(their_reference: str | None, fields: Any) -> list[str]:
    found: dict[str, None] = {}
    for value in [their_reference or "", *_texts(fields or {})]:
        found.update(dict.fromkeys(_words(value)))
    return list(found)[:20_000]


def _foreign_keys(on: bool) -> None:
    """SQLite: foreign keys off while the request table is rebuilt (dropping the old one
    would otherwise be refused by the history's RESTRICT, or cascade into other tables);
    the pragma is read only between transactions."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
        bind.exec_driver_sql("BEGIN")


_INDEXES = {
    "ix_request_party_updated": ["authority_id", "updated_at", "request_id"],
    "ix_request_party_created": ["authority_id", "created_at", "request_id"],
    "ix_request_party_reference": ["authority_id", "reference"],
    "ix_request_party_state": ["authority_id", "state", "updated_at", "request_id"],
    "ix_request_party_kind": ["authority_id", "kind", "updated_at", "request_id"],
    "ix_request_party_urgency": ["authority_id", "urgency", "updated_at", "request_id"],
    "ix_request_party_held": ["authority_id", "held", "updated_at", "request_id"],
    "ix_request_party_mine": ["authority_id", "assignee_id", "updated_at", "request_id"],
    "ix_request_party_open": ["authority_id", "closed", "held", "updated_at", "request_id"],
    "ix_request_party_open_assignee": [
        "authority_id",
        "closed",
        "held",
        "assignee_id",
        "updated_at",
    ],
    "ix_request_party_assignee_id": ["assignee_id"],
}

_PARTIES = (
    ("requesting", "r.requesting_authority_id", "1 = 1"),
    ("requested", "r.requested_authority_id", "r.transmitted_at IS NOT NULL"),
    (
        "executing",
        "r.executing_authority_id",
        "r.transmitted_at IS NOT NULL AND r.executing_authority_id IS NOT NULL",
    ),
)


def _create_search() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE request_search (request_id INTEGER PRIMARY KEY "
            "REFERENCES request (id) ON DELETE CASCADE, document tsvector NOT NULL)"
        )
        op.execute("CREATE INDEX ix_request_search_document ON request_search USING gin (document)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE request_search USING fts5(document, "
            "tokenize = \"unicode61 remove_diacritics 2 tokenchars '_'\")"
        )
    rows = bind.execute(sa.text("SELECT id, their_reference, fields FROM request")).all()
    for request_id, their_reference, fields in rows:
        if isinstance(fields, str):
            fields = json.loads(fields)
        found = _document(their_reference, fields)
        if bind.dialect.name == "postgresql":
            bind.execute(
                sa.text(
                    "INSERT INTO request_search (request_id, document) "
                    "VALUES (:id, array_to_tsvector(CAST(:words AS text[])))"
                ),
                {"id": request_id, "words": found},
            )
        else:
            bind.execute(
                sa.text("INSERT INTO request_search (rowid, document) VALUES (:id, :document)"),
                {"id": request_id, "document": " ".join(found)},
            )


def upgrade() -> None:
    # The one assignee of each request, kept aside while its column goes.
    op.execute(
        "CREATE TABLE request_assignee_moving AS "
        "SELECT id AS request_id, assignee_id FROM request WHERE assignee_id IS NOT NULL"
    )
    _foreign_keys(False)
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_assignee_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_request_assignee_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("assignee_id")
    _foreign_keys(True)
    op.create_table(
        "request_party",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.String(length=16),
            nullable=False,
            comment="requesting, requested or executing",
        ),
        sa.Column(
            "authority_id", sa.Integer(), nullable=False, comment="the authority that is this party"
        ),
        sa.Column(
            "assignee_id",
            sa.Integer(),
            nullable=True,
            comment="the user of this authority responsible for the request; no other party sees it",
        ),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column(
            "urgency",
            sa.Enum(
                "normal",
                "urgent",
                name="urgency",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "held", sa.Boolean(), nullable=False, comment="this authority holds the request now"
        ),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user_account.id"],
            name=op.f("fk_request_party_assignee_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_request_party_authority_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["request.id"],
            name=op.f("fk_request_party_request_id_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "role", name=op.f("pk_request_party")),
    )
    for name, columns in _INDEXES.items():
        op.create_index(name, "request_party", columns, unique=False)
    for role, authority, seen in _PARTIES:
        # The assignee goes to the row of its own authority: each party has its own now.
        # Built from this module's constants only.
        statement = (
            "INSERT INTO request_party (request_id, role, authority_id, "  # noqa: S608
            "assignee_id, reference, kind, state, urgency, held, closed, created_at, updated_at) "
            f"SELECT r.id, '{role}', {authority}, "
            "(SELECT m.assignee_id FROM request_assignee_moving m "
            " JOIN user_account u ON u.id = m.assignee_id "
            f" WHERE m.request_id = r.id AND u.authority_id = {authority}), "
            f"r.reference, r.kind, r.state, r.urgency, r.holder_authority_id = {authority}, "
            "r.closed_at IS NOT NULL, r.created_at, r.updated_at "
            f"FROM request r WHERE {seen}"
        )
        op.execute(statement)
    op.drop_table("request_assignee_moving")
    op.create_index("ix_event_at", "event", ["at"], unique=False)
    _create_search()


def downgrade() -> None:
    op.execute("DROP TABLE request_search")
    op.drop_index("ix_event_at", "event")
    _foreign_keys(False)
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_id", sa.INTEGER(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_request_assignee_id_user_account"),
            "user_account",
            ["assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_request_assignee_id"), ["assignee_id"], unique=False)
    _foreign_keys(True)
    # One assignee again: the holding authority's, else any party's.
    op.execute(
        "UPDATE request SET assignee_id = (SELECT p.assignee_id FROM request_party p "
        "WHERE p.request_id = request.id AND p.assignee_id IS NOT NULL "
        "ORDER BY p.held DESC, p.role LIMIT 1)"
    )
    for name in _INDEXES:
        op.drop_index(name, "request_party")
    op.drop_table("request_party")
