"""Who acts, and as which party: the rules every query and action on requests starts from.

An authority is party to a request as the requesting, requested or executing authority; the
requested and executing sides only once the request has been transmitted to them
(:func:`seeing`). That rule is kept in the ``request_party`` table, one row per party that
sees the request, which every query is scoped by (:func:`party_of`, :func:`own_rows`). An
authority that is not on mla (``external``) has its steps recorded by its counterpart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, exists

from mla.authorities.models import ApiToken, Authority, Role, User
from mla.requests.models import Request, RequestParty

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


def seeing(request: Request) -> dict[str, int]:
    """The parties that see ``request`` now, party -> authority id: the one rule of who may
    see a request, which :func:`mla.requests.recording.sync_parties` writes down as its
    ``request_party`` rows.

    A request being prepared (draft, legal review, translation, signature) is the
    requesting authority's own business: the requested and executing sides see it only
    once it has been transmitted to them.
    """
    # Read through the relationships: a change not flushed yet counts already.
    seen = {"requesting": request.requesting_authority.id}
    if request.transmitted_at is not None:
        seen["requested"] = request.requested_authority.id
        if request.executing_authority is not None:
            seen["executing"] = request.executing_authority.id
    return seen


def own_rows(authority_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """The ``request_party`` rows of ``authority_id``: what a query that starts from the
    party table (the lists, the queue) is scoped by."""
    return RequestParty.authority_id == authority_id


def party_of(authority_id: int | BindParameter[int], request: Any = Request) -> ColumnElement[bool]:
    """Requests ``authority_id`` (a value, or a bound parameter for a statement built once)
    is party to and sees (:func:`seeing`), as a SQL condition on ``request`` (the request
    table, or an alias of it)."""
    return exists().where(
        RequestParty.request_id == request.id, RequestParty.authority_id == authority_id
    )


def parties(request: Request, actor: Actor) -> dict[str, int | None]:
    """The parties the actor may act as on ``request``: party → None when the actor's
    authority holds it, or → the external authority's id when the actor records that
    party's steps on its behalf (it is not on mla, and the actor is the other side)."""
    own = actor.authority.id
    held: dict[str, int | None] = {
        party: None for party, authority_id in seeing(request).items() if authority_id == own
    }
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
