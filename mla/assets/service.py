"""The asset register of an assets request: reading it, and adding items, shares and transfers.

Every function takes the request service (for its scope: the caller sees only requests its
authority is party to) and the caller as an :class:`~mla.requests.scope.Actor`. Functions
flush; the boundary commits. Every change to a register is written with an
``asset_register`` event in the request's hash-chained history recording the values set, in
the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.assets.links import Link, link, links, request_freezing
from mla.assets.models import (
    AssetItem,
    AssetShare,
    AssetStatus,
    AssetTransfer,
)
from mla.assets.moves import KIND, TRANSFERRED
from mla.assets.values import (
    CENT,
    HUNDRED,
    currency_code,
    item_fields,
    item_values,
    money,
    share_values,
    text_value,
    transfer_values,
)
from mla.audit.models import Event, EventKind
from mla.deadlines.service import DeadlineService
from mla.errors import N_, Conflict, FieldError, Invalid, NotAllowed, NotFound
from mla.requests.models import Request
from mla.requests.scope import Actor

if TYPE_CHECKING:
    from mla.requests.service import RequestService

# Links between requests and the register's values live beside this module; callers reach
# them here, the feature's one entry point.
__all__ = [
    "Link",
    "Register",
    "Settlement",
    "add_item",
    "add_share",
    "add_transfer",
    "assets_request",
    "currency_code",
    "item_values",
    "link",
    "links",
    "money",
    "register",
    "request_freezing",
    "share_values",
    "transfer_values",
    "update_item",
]

# Items whose value was realised for the requested state: what shares are counted on.
REALISED = (AssetStatus.CONFISCATED, AssetStatus.RETURNED, AssetStatus.SHARED)
# Shares are agreed, and transfers made, once the assets are confiscated.
DISPOSAL_STATES = ("confiscated", "disposal_decision", TRANSFERRED, "closed")
TRANSFER_STATES = ("disposal_decision", TRANSFERRED, "closed")


# --- reading --------------------------------------------------------------------------------


@dataclass
class Settlement:
    """What one recipient is owed in one currency, what it has received, the difference."""

    recipient: str
    currency: str
    due: Decimal
    transferred: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.due - self.transferred


@dataclass
class Register:
    """A request's register: items, their totals per currency, shares, transfers and, per
    recipient and currency, what remains to be transferred."""

    items: list[AssetItem]
    shares: list[AssetShare]
    transfers: list[AssetTransfer]
    totals: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    settlements: list[Settlement] = field(default_factory=list)

    @property
    def settled(self) -> bool:
        return all(s.outstanding == 0 for s in self.settlements)


def assets_request(svc: RequestService, actor: Actor, reference: str) -> Request:
    """The assets request ``reference``. Raises NotFound when the actor's authority is no
    party to it (whether or not it exists), Conflict when it is of another kind."""
    request = svc.get(actor, reference)
    if request.kind != KIND:
        raise Conflict(
            N_("%(reference)s is a %(kind)s request: it has no asset register"),
            {"reference": request.reference, "kind": request.kind},
        )
    return request


def register(svc: RequestService, actor: Actor, reference: str) -> Register:
    """The register of request ``reference`` (empty for a request of another kind, which
    cannot hold one).

    Raises NotFound when the actor's authority is no party to it. Guarantees ``totals``
    holds, per currency, the sums of estimated and realised values (``estimated``,
    ``realised``) over every item, and ``settlements`` each recipient's due (an amount, or a
    percentage of the realised value of the items confiscated, returned or shared in the
    share's currency) against its transfers.
    """
    return _register(svc.session, svc.get(actor, reference))


def _register(session: Session, request: Request) -> Register:
    items = list(
        session.scalars(
            select(AssetItem).where(AssetItem.request_id == request.id).order_by(AssetItem.id)
        )
    )
    shares = list(
        session.scalars(
            select(AssetShare).where(AssetShare.request_id == request.id).order_by(AssetShare.id)
        )
    )
    transfers = list(
        session.scalars(
            select(AssetTransfer)
            .where(AssetTransfer.request_id == request.id)
            .order_by(AssetTransfer.transferred_on, AssetTransfer.id)
        )
    )
    zero = Decimal("0.00")
    totals: dict[str, dict[str, Decimal]] = {}
    realised: dict[str, Decimal] = defaultdict(lambda: zero)
    for item in items:
        sums = totals.setdefault(item.currency, {"estimated": zero, "realised": zero})
        sums["estimated"] += item.estimated_value or zero
        sums["realised"] += item.realised_value or zero
        if item.status in REALISED:
            realised[item.currency] += item.realised_value or zero
    due: dict[tuple[str, str], Decimal] = defaultdict(lambda: zero)
    for share in shares:
        key = (share.recipient, share.currency)
        if share.amount is not None:
            due[key] += share.amount
        else:
            assert share.percent is not None
            due[key] += (realised[share.currency] * share.percent / HUNDRED).quantize(CENT)
    paid: dict[tuple[str, str], Decimal] = defaultdict(lambda: zero)
    for transfer in transfers:
        paid[(transfer.recipient, transfer.currency)] += transfer.amount
    settlements = [
        Settlement(recipient, currency, due[(recipient, currency)], paid[(recipient, currency)])
        for recipient, currency in dict.fromkeys([*due, *paid])
    ]
    return Register(items, shares, transfers, dict(sorted(totals.items())), settlements)


# --- writing --------------------------------------------------------------------------------


def _writable(svc: RequestService, actor: Actor, reference: str) -> Request:
    request = assets_request(svc, actor, reference)
    if request.closed_at is not None:
        raise Conflict(
            N_("%(reference)s is closed (%(outcome)s); its register is final"),
            {"reference": request.reference, "outcome": request.outcome},
        )
    svc.context.lock(request, None)
    return request


def _record(svc: RequestService, request: Request, actor: Actor, data: dict[str, Any]) -> Event:
    request.updated_at = svc.clock()  # pollers see the change; the optimistic lock moves on
    svc.context.flush(request.reference)
    return svc.context.record(request, EventKind.ASSET_REGISTER, actor, data)


def add_item(
    svc: RequestService, actor: Actor, reference: str, values: Mapping[str, Any]
) -> AssetItem:
    """Add an item (status ``sought``) to the register of assets request ``reference``.

    ``values``: ``kind`` (an :class:`AssetKind`), ``description``, ``currency`` (ISO 4217),
    optionally ``location``, ``holder_institution``, ``identifiers``, ``estimated_value``,
    ``realised_value`` (amounts to the cent). Either party may add items while the request
    is open. Guarantees the item and an ``asset_register`` event recording its values are
    flushed together. Raises NotFound (no party), Conflict (not an assets request, closed,
    or changed meanwhile), Invalid naming each bad value.
    """
    request = _writable(svc, actor, reference)
    checked = item_fields(values, partial=False)
    item = AssetItem(request_id=request.id, status=AssetStatus.SOUGHT, **checked)
    item.created_at = item.updated_at = svc.clock()
    svc.session.add(item)
    svc.session.flush()
    _record(svc, request, actor, {"action": "item_added", "item": item_values(item)})
    return item


def update_item(
    svc: RequestService, actor: Actor, reference: str, item_id: int, values: Mapping[str, Any]
) -> AssetItem:
    """Change what is known of an item (any of the values :func:`add_item` takes; never its
    status, which moves with the request's steps). Guarantees the change and an event
    recording the values before and after are flushed together; nothing is written when
    nothing changes. Raises as :func:`add_item`, and NotFound for an item of another
    request.
    """
    request = _writable(svc, actor, reference)
    item = svc.session.get(AssetItem, item_id)
    if item is None or item.request_id != request.id:
        raise NotFound(
            N_("no asset item %(item_id)s on %(reference)s"),
            {"item_id": item_id, "reference": request.reference},
        )
    checked = item_fields(values, partial=True)
    before = item_values(item)
    for name, value in checked.items():
        setattr(item, name, value)
    after = item_values(item)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changed:
        item.updated_at = svc.clock()
        svc.session.flush()
        _record(svc, request, actor, {"action": "item_changed", "item": after, "changed": changed})
    return item


def add_share(
    svc: RequestService, actor: Actor, reference: str, values: Mapping[str, Any]
) -> AssetShare:
    """Record what a recipient is to receive of the disposal (14.2 return, 14.3 sharing).

    ``values``: ``recipient`` (an authority's code or who else: victims, a fund),
    ``agreement`` (the reference of the agreement or arrangement), ``currency`` and exactly
    one of ``percent`` (of the realised value in that currency; the percentages of one
    currency add up to at most 100) and ``amount``. Only the requested authority records
    shares, once the assets are confiscated. Raises NotFound, NotAllowed (the requesting
    side), Conflict (before confiscation, closed), Invalid naming each bad value.
    """
    request = _writable(svc, actor, reference)
    _requested_side(request, actor)
    if request.state not in DISPOSAL_STATES:
        raise Conflict(N_("shares are agreed once the assets are confiscated"))
    recipient = text_value(values.get("recipient"), "recipient", 200, required=True)
    agreement = text_value(values.get("agreement"), "agreement", 200, required=True)
    currency = currency_code(values.get("currency"), "currency")
    percent = values.get("percent")
    amount = values.get("amount")
    if (percent is None) == (amount is None):
        raise Invalid(FieldError("percent", N_("give either a percentage or an amount")))
    share = AssetShare(
        request_id=request.id,
        recipient=recipient,
        agreement=agreement,
        currency=currency,
        created_at=svc.clock(),
    )
    if percent is not None:
        share.percent = money(percent, "percent", positive=True)
        agreed = sum(
            (
                s.percent
                for s in _register(svc.session, request).shares
                if s.currency == currency and s.percent is not None
            ),
            Decimal(0),
        )
        if agreed + share.percent > HUNDRED:
            raise Invalid(
                FieldError(
                    "percent",
                    N_("the shares in %(currency)s would exceed 100%% (%(agreed)s%% agreed)"),
                    {"currency": currency, "agreed": agreed},
                )
            )
    else:
        share.amount = money(amount, "amount", positive=True)
    svc.session.add(share)
    svc.session.flush()
    _record(svc, request, actor, {"action": "share_agreed", "share": share_values(share)})
    return share


def add_transfer(
    svc: RequestService, actor: Actor, reference: str, values: Mapping[str, Any]
) -> AssetTransfer:
    """Record an amount transferred to a recipient of a share, on a date.

    ``values``: ``recipient`` (as named in a share), ``amount``, ``currency``,
    ``transferred_on`` (an ISO date, not later than today on the actor's calendar),
    optionally ``reference``. Only the requested authority records transfers, once the
    disposal is decided. Raises NotFound, NotAllowed, Conflict (before the disposal is
    decided, closed), Invalid naming each bad value (a recipient with no share among them).
    """
    request = _writable(svc, actor, reference)
    _requested_side(request, actor)
    if request.state not in TRANSFER_STATES:
        raise Conflict(N_("transfers are recorded once the disposal is decided"))
    recipient = text_value(values.get("recipient"), "recipient", 200, required=True)
    current = _register(svc.session, request)
    if recipient not in {s.recipient for s in current.shares}:
        raise Invalid(
            FieldError(
                "recipient",
                N_("%(recipient)r has no share; record the share first"),
                {"recipient": recipient},
            )
        )
    currency = currency_code(values.get("currency"), "currency")
    amount = money(values.get("amount"), "amount", positive=True)
    raw = values.get("transferred_on")
    try:
        on = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    except ValueError:
        raise Invalid(FieldError("transferred_on", N_("must be a date (YYYY-MM-DD)"))) from None
    if on > DeadlineService.local_today(actor.authority, svc.clock()):
        raise Invalid(FieldError("transferred_on", N_("must not be in the future")))
    transfer = AssetTransfer(
        request_id=request.id,
        recipient=recipient,
        amount=amount,
        currency=currency,
        transferred_on=on,
        reference=text_value(values.get("reference"), "reference", 200),
        created_at=svc.clock(),
    )
    svc.session.add(transfer)
    svc.session.flush()
    _record(
        svc, request, actor, {"action": "transfer_recorded", "transfer": transfer_values(transfer)}
    )
    return transfer


def _requested_side(request: Request, actor: Actor) -> None:
    if actor.authority.id != request.requested_authority_id:
        raise NotAllowed(
            N_("the requested authority, which holds the assets, records their disposal")
        )
