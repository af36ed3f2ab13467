"""The one way tests seed their world: authorities, users, the shared small world, an MLA draft.

Everything here takes a session and flushes, like the services it calls; the caller decides
whether the rows are rolled back (the ``session`` fixture) or committed (tests on a database
of their own: workers, the CLI, the browser, concurrency). The fixtures of tests/conftest.py
(``make_authority``, ``make_user``, ``world``, ``new_mla``) are these functions bound to the
test's session.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from mla.authorities import service as authorities
from mla.authorities.models import Authority, AuthorityKind, Role, User
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService

PASSWORD = "correct-horse-42"

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


@dataclass
class World:
    """Argentina requests, Mexico (with an executing court under it) is requested, Colombia
    is party to nothing. Each user's username is its name here (``arg_clerk``...)."""

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


class Seeder:
    """Adds authorities and users to ``session`` with defaults a test need not spell out."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._authorities = itertools.count(1)
        self._users = itertools.count(1)

    def authority(self, code: str | None = None, **kwargs: Any) -> Authority:
        n = next(self._authorities)
        kwargs.setdefault("country", "AR")
        kwargs.setdefault("name", f"Test authority {n}")
        kwargs.setdefault("languages", ["es", "en"])
        kwargs.setdefault("timezone", "America/Argentina/Buenos_Aires")
        if kwargs.get("kind") == AuthorityKind.EXECUTING:
            kwargs.setdefault("parent_code", None)
        return authorities.add_authority(self.session, code or f"T-{n}", **kwargs)

    def user(self, authority: Authority, role: str = "clerk", **kwargs: Any) -> User:
        n = next(self._users)
        username = kwargs.pop("username", f"{authority.code.lower()}.{role}{n}")
        kwargs.setdefault("email", f"{username}@example.org")
        kwargs.setdefault("password", PASSWORD)
        return authorities.add_user(
            self.session, username, authority_code=authority.code, role=role, **kwargs
        )

    def world(self) -> World:
        arg = self.authority("ARG-DAJIN", country="AR", timezone="America/Argentina/Buenos_Aires")
        mex = self.authority("MEX-FGR", country="MX", timezone="America/Mexico_City")
        court = self.authority(
            "MEX-FEMDO",
            country="MX",
            timezone="America/Mexico_City",
            kind=AuthorityKind.EXECUTING,
            parent_code="MEX-FGR",
        )
        col = self.authority("COL-FGN", country="CO", timezone="America/Bogota")
        users = {
            name: self.user(authority, role, username=name)
            for name, authority, role in [
                ("arg_clerk", arg, "clerk"),
                ("arg_supervisor", arg, "supervisor"),
                ("mex_clerk", mex, "clerk"),
                ("mex_supervisor", mex, "supervisor"),
                ("court_clerk", court, "clerk"),
                ("col_clerk", col, "clerk"),
            ]
        }
        return World(arg=arg, mex=mex, mex_court=court, col=col, **users)


def seed_world(session: Session) -> World:
    """The small world of :class:`World`, added to ``session`` (flushed, not committed)."""
    return Seeder(session).world()


def new_mla(service: RequestService, actor: Actor, **kwargs: Any) -> Request:
    """An MLA draft by ``actor`` to MEX-FGR under UNTOC 18, with :data:`MLA_FIELDS`."""
    kwargs.setdefault("kind", "mla")
    kwargs.setdefault("requested_authority", "MEX-FGR")
    kwargs.setdefault("legal_basis", "untoc-18")
    kwargs.setdefault("fields", dict(MLA_FIELDS))
    return service.create(actor, **kwargs)


def mexico_today() -> date:
    """Today on Mexico's calendar: the date the service checks a date of MEX-FGR's against
    ("not in the future"), which is not the machine's (UTC) date for hours every evening."""
    return datetime.now(ZoneInfo("America/Mexico_City")).date()
