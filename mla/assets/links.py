"""Links between requests (one arises from, relates to or supplements another), and
"request freezing for this case", which drafts an assets request linked to the case.
Functions flush; the boundary commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from mla.assets.models import LinkKind, RequestLink
from mla.assets.moves import KIND
from mla.errors import N_, Conflict, FieldError, Invalid, NotAllowed, NotFound
from mla.requests.models import Request
from mla.requests.scope import Actor, party_of

if TYPE_CHECKING:
    from mla.requests.service import RequestService


@dataclass(frozen=True)
class Link:
    """A link as one end sees it: how this request relates to ``other`` (``outgoing``: this
    request is the link's source, e.g. it arises from ``other``)."""

    id: int
    kind: LinkKind
    outgoing: bool
    other: Request


def links(svc: RequestService, actor: Actor, reference: str) -> list[Link]:
    """The links of request ``reference`` whose other end the actor's authority is also
    party to: a link, and the other request's reference, are never shown to an authority
    party to one end only. Raises NotFound when the actor is no party to ``reference``."""
    request = svc.get(actor, reference)
    other = aliased(Request)
    mine = actor.authority.id
    # The other end scoped as every request is (the one rule), on the alias.
    rows = svc.session.execute(
        select(RequestLink, other)
        .join(
            other,
            or_(
                and_(RequestLink.source_id == request.id, other.id == RequestLink.target_id),
                and_(RequestLink.target_id == request.id, other.id == RequestLink.source_id),
            ),
        )
        .where(party_of(mine, other))
        .order_by(RequestLink.id)
    ).all()
    return [Link(link.id, link.kind, link.source_id == request.id, req) for link, req in rows]


def link(
    svc: RequestService, actor: Actor, reference: str, other_reference: str, kind: str
) -> Link:
    """Link request ``reference`` to ``other_reference``: it ``arises_from``, is
    ``related_to`` or ``supplements`` the other.

    Requires the actor's authority to be party to both (else NotFound for the one it is not,
    in the same words whether or not it exists). Guarantees one link per pair and kind.
    Raises Invalid (``kind``, or ``other``: the request itself), Conflict if already linked.
    """
    try:
        link_kind = LinkKind(kind)
    except ValueError:
        listed = ", ".join(k.value for k in LinkKind)
        raise Invalid(
            FieldError("kind", N_("must be one of %(listed)s"), {"listed": listed})
        ) from None
    request = svc.get(actor, reference)
    try:
        other = svc.get(actor, other_reference)
    except NotFound:
        raise Invalid(
            FieldError(
                "other", N_("no request %(other_reference)s"), {"other_reference": other_reference}
            )
        ) from None
    if other.id == request.id:
        raise Invalid(FieldError("other", N_("a request cannot be linked to itself")))
    exists = svc.session.scalar(
        select(RequestLink.id).where(
            or_(
                and_(RequestLink.source_id == request.id, RequestLink.target_id == other.id),
                and_(RequestLink.source_id == other.id, RequestLink.target_id == request.id),
            ),
            RequestLink.kind == link_kind,
        )
    )
    if exists is not None:
        raise Conflict(
            N_("%(reference)s and %(reference2)s are already linked so"),
            {"reference": request.reference, "reference2": other.reference},
        )
    row = RequestLink(
        source_id=request.id,
        target_id=other.id,
        kind=link_kind,
        created_by_authority_id=actor.authority.id,
        created_at=svc.clock(),
    )
    svc.session.add(row)
    svc.session.flush()
    return Link(row.id, link_kind, True, other)


# The assets basis matching the basis of the request a freeze arises from.
_BASIS = {"bilateral": "bilateral", "reciprocity": "reciprocity"}
_CARRIED = ("conducting_authority", "facts", "persons", "language", "treaty")


def request_freezing(
    svc: RequestService, actor: Actor, reference: str, *, property_sought: str | None = None
) -> Request:
    """ "Request freezing for this case": a new assets request drafted from request
    ``reference`` (MLA or extradition), linked as arising from it.

    Requires the actor's authority to be the requesting authority of ``reference``.
    Guarantees the new request (a draft of the actor's authority, to the same requested
    authority) carries over the conducting authority, facts, persons, language and treaty,
    and the same basis where the assets workflow has it (bilateral, reciprocity; else
    Palermo Arts. 12-14), and is linked ``arises_from`` ``reference``. Raises NotFound (no
    party), NotAllowed (the requested or executing side), what ``create`` raises.
    """
    source = svc.get(actor, reference)
    if source.requesting_authority_id != actor.authority.id:
        raise NotAllowed(N_("only the requesting authority of a case asks for freezing in it"))
    fields = {k: source.fields[k] for k in _CARRIED if source.fields.get(k) not in (None, "")}
    if property_sought:
        fields["property_sought"] = property_sought
    basis = _BASIS.get(source.legal_basis, "untoc-12-14")
    if basis != "bilateral":
        fields.pop("treaty", None)
    created = svc.create(
        actor,
        kind=KIND,
        requested_authority=source.requested_authority.code,
        legal_basis=basis,
        fields=fields,
        urgency="urgent",
        their_reference=source.their_reference,
        confidential=source.confidential,
    )
    link(svc, actor, created.reference, source.reference, LinkKind.ARISES_FROM)
    return created
