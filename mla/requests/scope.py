"""Who acts, and as which party: the rules every query and action on requests starts from.

An authority is party to a request as the requesting, requested or executing authority; the
requested and executing sides only once the request has been transmitted to them. An
authority that is not on mla (``external``) has its steps recorded by its counterpart.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BindParameter, ColumnElement, and_, or_

from mla.authorities.models import ApiToken, Authority, Role, User
from mla.requests.models import Request
from mla.workflow.model import PARTIES

RECORDED_BY = {
    "requesting": ("requested",),
    "requested": ("requesting",),
    "executing": ("requested",),
}


@dataclass(frozen=True)
class Actor:
    """Who acts: a user of an authority, or an authority's system through an API token."""

    authority: Authority
    role: Role
    user: User | None = None
    token_id: int | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(authority=user.authority, role=user.role, user=user)

    @classmethod
    def for_token(cls, token: ApiToken) -> Actor:
        # A token acts as a clerk unless its authority deliberately delegated more to its
        # case system when issuing it (``mla tokens create CODE --role supervisor``).
        return cls(authority=token.authority, role=Role(token.role), token_id=token.id)

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    def __str__(self) -> str:
        who = self.user.username if self.user else f"API token {self.token_id}"
        return f"{who} ({self.authority.code})"


def party_of(authority_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """Requests ``authority_id`` (a value, or a bound parameter for a statement built once)
    is party to, as a SQL condition.

    A request being prepared (draft, legal review, translation, signature) is the
    requesting authority's own business: the requested and executing sides see it only
    once it has been transmitted to them.
    """
    return or_(
        Request.requesting_authority_id == authority_id,
        and_(
            Request.transmitted_at.is_not(None),
            or_(
                Request.requested_authority_id == authority_id,
                Request.executing_authority_id == authority_id,
            ),
        ),
    )


def parties(request: Request, actor: Actor) -> dict[str, int | None]:
    """The parties the actor may act as on ``request``: party → None when the actor's
    authority holds it, or → the external authority's id when the actor records that
    party's steps on its behalf (it is not on mla, and the actor is the other side)."""
    own = actor.authority.id
    held: dict[str, int | None] = {}
    for party in PARTIES:
        authority = request.authority_of(party)
        if party != "requesting" and request.transmitted_at is None:
            continue  # not handed over yet: the requested side is no party so far
        if authority is not None and authority.id == own:
            held[party] = None
    if not held:
        return held
    # Who may record an external authority's steps: the central authority on the other
    # side of it (requesting <-> requested), and the requested authority for its own
    # domestic executing authority.
    for party, recorders in RECORDED_BY.items():
        authority = request.authority_of(party)
        if party in held or authority is None or not authority.external:
            continue
        if any(r in held and held[r] is None for r in recorders):
            held[party] = authority.id
    return held
