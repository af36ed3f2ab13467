"""Look-ups the screens share beside their lists: one request's deadlines and possible
executing authorities, the actor's colleagues and counterparts, names by id or code. Scoped
to the actor's authority where they concern its requests or staff."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from mla.authorities.models import Authority, AuthorityKind, User
from mla.deadlines.models import Deadline
from mla.requests.models import Request
from mla.requests.scope import Actor


class Lookups:
    """Small reads over one session, at ``now``."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now

    def deadlines(self, request: Request) -> builtins.list[Deadline]:
        """Every deadline of ``request`` (already read through the scoped service), open
        ones first, then by due time."""
        return list(
            self.session.scalars(
                select(Deadline)
                .where(Deadline.request_id == request.id)
                .order_by(Deadline.closed_at.is_not(None), Deadline.due_at)
            )
        )

    def executing_authorities(self, request: Request) -> builtins.list[Authority]:
        """The executing authorities under the request's requested central authority."""
        return list(
            self.session.scalars(
                select(Authority)
                .where(
                    Authority.kind == AuthorityKind.EXECUTING,
                    Authority.parent_id == request.requested_authority_id,
                )
                .order_by(Authority.name)
            )
        )

    def colleagues(self, actor: Actor) -> builtins.list[User]:
        """Active users of the actor's authority (those a request can be assigned to)."""
        return list(
            self.session.scalars(
                select(User)
                .where(User.authority_id == actor.authority.id, User.active.is_(True))
                .order_by(User.username)
            )
        )

    def counterparts(self, actor: Actor) -> builtins.list[Authority]:
        """Central authorities of other states: whom a request can be addressed to."""
        return list(
            self.session.scalars(
                select(Authority)
                .where(
                    Authority.kind == AuthorityKind.CENTRAL,
                    Authority.country != actor.authority.country,
                )
                .order_by(Authority.country, Authority.code)
            )
        )

    def external_requesters(self, actor: Actor) -> builtins.list[Authority]:
        """Central authorities of other states that are not on mla (``external``): those whose
        requests the actor's authority records as received on their behalf."""
        return list(
            self.session.scalars(
                select(Authority)
                .where(
                    Authority.kind == AuthorityKind.CENTRAL,
                    Authority.external.is_(True),
                    Authority.country != actor.authority.country,
                )
                .order_by(Authority.country, Authority.code)
            )
        )

    def users_by_id(self, ids: Sequence[int]) -> dict[int, User]:
        if not ids:
            return {}
        return {u.id: u for u in self.session.scalars(select(User).where(User.id.in_(ids)))}

    def authorities_by_id(self, ids: Sequence[int]) -> dict[int, Authority]:
        if not ids:
            return {}
        rows = self.session.scalars(select(Authority).where(Authority.id.in_(ids)))
        return {a.id: a for a in rows}

    def authorities_by_code(self, codes: Iterable[str]) -> builtins.list[Authority]:
        """The directory's authorities with these codes (the directory is open to all)."""
        wanted = sorted(set(codes))
        if not wanted:
            return []
        return builtins.list(
            self.session.scalars(select(Authority).where(Authority.code.in_(wanted)))
        )

    def correspondents(self, actor: Actor) -> builtins.list[Authority]:
        """Every authority the actor's can send a request to or receive one from: the
        central authorities of other states, its own executing authorities, and the central
        authority above it; by country and code."""
        own = actor.authority
        related = [
            and_(Authority.kind == AuthorityKind.CENTRAL, Authority.country != own.country),
            Authority.parent_id == own.id,
        ]
        if own.parent_id is not None:
            related.append(Authority.id == own.parent_id)
        return list(
            self.session.scalars(
                select(Authority).where(or_(*related)).order_by(Authority.country, Authority.code)
            )
        )
