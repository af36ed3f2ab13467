from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mla.db import Base, JSONType, StrEnumType, utcnow


class AuthorityKind(enum.StrEnum):
    CENTRAL = "central"
    EXECUTING = "executing"


class Role(enum.StrEnum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    def includes(self, other: Role) -> bool:
        """Roles nest: an admin may do what a supervisor may, a supervisor what a clerk may."""
        order = [Role.CLERK, Role.SUPERVISOR, Role.ADMIN]
        return order.index(self) >= order.index(other)


class Authority(Base):
    """A central authority of a state, or a domestic authority that executes requests."""

    __tablename__ = "authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(
        String(32), unique=True, comment="short stable code, e.g. MEX-FGR; used in the API"
    )
    country: Mapped[str] = mapped_column(String(2), comment="ISO 3166-1 alpha-2 of the state")
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[AuthorityKind] = mapped_column(
        StrEnumType(AuthorityKind, "authority_kind"), default=AuthorityKind.CENTRAL
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT"),
        index=True,
        comment="the central authority an executing authority belongs to",
    )
    languages: Mapped[list[str]] = mapped_column(
        JSONType, default=list, comment="languages in which it accepts requests (Palermo 18.14)"
    )
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    holiday_subdivision: Mapped[str | None] = mapped_column(
        String(16), comment="subdivision of the country whose holidays also apply, if any"
    )
    contact_points: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    external: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        comment="not on mla: the other party's clerks record its steps on its behalf",
    )
    target_overrides: Mapped[dict[str, Any]] = mapped_column(
        JSONType,
        default=dict,
        server_default="{}",
        comment="its own service-level targets per workflow, e.g. {mla: {decide_days: 20}}",
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Authority | None] = relationship(remote_side=[id])
    users: Mapped[list[User]] = relationship(back_populates="authority")

    def __repr__(self) -> str:
        return f"<Authority {self.code}>"


class User(Base):
    """A person who signs in to the web UI on behalf of one authority."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT"), index=True
    )
    role: Mapped[Role] = mapped_column(StrEnumType(Role, "role"))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(Text, comment="scrypt hash; never the password")
    language: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),
        comment="an admin reset the password: the user chooses a new one before anything else",
    )
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    authority: Mapped[Authority] = relationship(back_populates="users", lazy="joined")

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Treaty(Base):
    """A bilateral treaty between two states, with its own deadline figures (LEGAL.md: "18
    days extendable to 40", "two months"). A request on the ``bilateral`` basis names one;
    its deadlines take these figures over the basis's and the targets."""

    __tablename__ = "treaty"
    __table_args__ = (UniqueConstraint("code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(
        String(32), comment="short stable code requests name it by, e.g. ARG-MEX-1990"
    )
    name: Mapped[str] = mapped_column(String(300))
    state_a: Mapped[str] = mapped_column(String(2), comment="ISO 3166-1 alpha-2 of one party")
    state_b: Mapped[str] = mapped_column(String(2), comment="ISO 3166-1 alpha-2 of the other")
    figures: Mapped[dict[str, Any]] = mapped_column(
        JSONType,
        default=dict,
        comment="its deadline figures by name (e.g. decide_days: 18), over the basis defaults",
    )
    reference: Mapped[str | None] = mapped_column(
        Text, comment="where its text is published (official gazette, treaty series)"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def between(self, country: str, other: str) -> bool:
        """Whether the treaty binds exactly these two states (either order)."""
        return {self.state_a, self.state_b} == {country.upper(), other.upper()}

    def __repr__(self) -> str:
        return f"<Treaty {self.code}>"


class SessionEnd(enum.StrEnum):
    """Why a web session ended before it expired."""

    SIGNED_OUT = "signed_out"
    DEACTIVATED = "deactivated"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a password
    PASSWORD_RESET = "password_reset"  # noqa: S105


class UserSession(Base):
    """A signed-in browser: the server-side half of the session cookie.

    The cookie carries a random session id; only its SHA-256 is stored, so a copy of this table
    signs nobody in. A session is live while ``ended_at`` is empty, ``expires_at`` is ahead and
    it was seen within the idle limit (:mod:`mla.authorities.sessions`).
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    id_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="SHA-256 of the session id in the cookie; never the id"
    )
    created_at: Mapped[datetime] = mapped_column(comment="when the user signed in")
    last_seen_at: Mapped[datetime] = mapped_column(
        comment="last request, to within a minute; the idle limit counts from here"
    )
    expires_at: Mapped[datetime] = mapped_column(
        index=True, comment="absolute end, however active the session is"
    )
    ended_at: Mapped[datetime | None] = mapped_column(
        comment="when sign-out, deactivation or a password change ended it"
    )
    end_reason: Mapped[SessionEnd | None] = mapped_column(
        StrEnumType(SessionEnd, "session_end"), comment="why it was ended"
    )

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(Base):
    """A bearer token with which an authority's case system calls the API."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(16), comment="first characters, to recognise it")
    secret_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="SHA-256 of the token; the token itself is never stored"
    )
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    role: Mapped[Role] = mapped_column(
        StrEnumType(Role, "role"),
        default=Role.CLERK,
        server_default=Role.CLERK.value,
        comment="the role the calling system acts with; above clerk is a deliberate delegation",
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    authority: Mapped[Authority] = relationship(lazy="joined")
