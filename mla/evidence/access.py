"""Who may read and attach a confidential request's evidence (Palermo 18.20).

Confidentiality limits disclosure outside the authorities handling the request, not to their
own staff: on each party's side, that party's assignee and its supervisors (admins included)
may read and attach, whichever side holds the request now. An executing authority often has
no supervisor account, so its assignee is who works the evidence there. Nobody else is
cleared: not a party's other clerks, not an API token (it acts for no named person), not a
central authority recording an external party's steps on its behalf.
"""

from __future__ import annotations

from mla.authorities.models import Role, User
from mla.requests.models import Request
from mla.requests.scope import Actor, parties


def is_party_assignee(request: Request, party: str, user: User) -> bool:
    """Whether ``user`` is the assignee of ``party`` (requesting, requested, executing) on
    ``request``: each party authority assigns one of its own users."""
    authority = request.authority_of(party)
    return authority is not None and request.assignee_id_for(authority.id) == user.id


def cleared_for_confidential(request: Request, actor: Actor) -> bool:
    """Whether ``actor`` may read and attach the evidence of confidential ``request``: a named
    user who is, for a party their own authority is on the request, its assignee or one of its
    supervisors (or admins)."""
    user = actor.user
    if user is None:
        return False
    for party, on_behalf_of in parties(request, actor).items():
        if on_behalf_of is not None:
            continue  # recording an external authority's steps is not being that authority
        if actor.role.includes(Role.SUPERVISOR) or is_party_assignee(request, party, user):
            return True
    return False
