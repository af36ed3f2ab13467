"""How an assets request's register moves with its workflow's steps: the part of the assets
feature the request service calls inside a step's transaction (below the request service,
which the rest of :mod:`mla.assets` builds on)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.assets.models import AssetItem, AssetStatus
from mla.audit import chain
from mla.audit.models import Event, EventKind
from mla.requests.models import Request

KIND = "assets"  # the workflow whose requests hold a register

# How entering a state of the assets workflow moves its items: {state: {from: to}}. A
# disposal's "transferred" becomes returned or shared by the request's ``disposal`` field.
MOVES: dict[str, dict[AssetStatus, AssetStatus]] = {
    "frozen": {AssetStatus.SOUGHT: AssetStatus.FROZEN},
    "released": {AssetStatus.FROZEN: AssetStatus.RELEASED},
    "confiscation_refused": {AssetStatus.FROZEN: AssetStatus.RELEASED},
    "withdrawn": {AssetStatus.FROZEN: AssetStatus.RELEASED},
    "confiscated": {AssetStatus.FROZEN: AssetStatus.CONFISCATED},
}
TRANSFERRED = "assets_transferred"
DISPOSED = {"return": AssetStatus.RETURNED, "sharing": AssetStatus.SHARED}


def on_transition(session: Session, request: Request, moved: Event) -> Event | None:
    """Move the register's items as the request's step ``moved`` requires (:data:`MOVES`;
    into ``assets_transferred``: confiscated items become returned or shared, by the
    request's ``disposal``). Called by the request service inside the step's transaction.
    Guarantees one ``asset_register`` event listing each item moved (id, from, to), after
    the step's own, when any moved; None otherwise."""
    if request.kind != KIND:
        return None
    state = request.state
    moves = dict(MOVES.get(state, {}))
    if state == TRANSFERRED:
        target = DISPOSED.get(str(request.fields.get("disposal")))
        if target is not None:
            moves[AssetStatus.CONFISCATED] = target
    if not moves:
        return None
    items = session.scalars(
        select(AssetItem)
        .where(AssetItem.request_id == request.id, AssetItem.status.in_(list(moves)))
        .order_by(AssetItem.id)
    ).all()
    if not items:
        return None
    changes = []
    for item in items:
        before = item.status
        item.status = moves[before]
        item.updated_at = moved.at
        changes.append({"id": item.id, "from": str(before), "to": str(item.status)})
    session.flush()
    return chain.append(
        session,
        request,
        EventKind.ASSET_REGISTER,
        actor_user_id=moved.actor_user_id,
        actor_authority_id=moved.actor_authority_id,
        on_behalf_of_id=moved.on_behalf_of_id,
        data={"action": "status_moved", "step": moved.seq, "state": state, "items": changes},
        at=moved.at,
    )
