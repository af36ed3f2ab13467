"""The asset register of an assets request, and links between requests.

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
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import pycountry
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from mla.assets.models import (
    AssetItem,
    AssetKind,
    AssetShare,
    AssetStatus,
    AssetTransfer,
    LinkKind,
    RequestLink,
)
from mla.assets.moves import KIND, TRANSFERRED
from mla.audit.models import Event, EventKind
from mla.deadlines.service import DeadlineService
from mla.errors import Conflict, FieldError, Invalid, NotAllowed, NotFound
from mla.requests.models import Request
from mla.requests.scope import Actor, party_of

if TYPE_CHECKING:
    from mla.requests.service import RequestService

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

# Items whose value was realised for the requested state: what shares are counted on.
REALISED = (AssetStatus.CONFISCATED, AssetStatus.RETURNED, AssetStatus.SHARED)
# Shares are agreed, and transfers made, once the assets are confiscated.
DISPOSAL_STATES = ("confiscated", "disposal_decision", TRANSFERRED, "closed")
TRANSFER_STATES = ("disposal_decision", TRANSFERRED, "closed")
ITEM_TEXT = {
    "description": 4000,
    "location": 200,
    "holder_institution": 200,
    "identifiers": 500,
}


# --- values -------------------------------------------------------------------------------


def currency_code(value: Any, name: str) -> str:
    """``value`` as an ISO 4217 code (upper case). Raises Invalid naming ``name``."""
    code = str(value or "").strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise Invalid(FieldError(name, f"{value!r} is not an ISO 4217 currency code"))
    return code


def money(value: Any, name: str, *, positive: bool = False) -> Decimal:
    """``value`` (a decimal string or a number) as an amount to the cent, not negative
    (``positive``: above zero). Raises Invalid naming ``name``."""
    if isinstance(value, bool):
        raise Invalid(FieldError(name, "must be an amount such as 1250.00"))
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise Invalid(FieldError(name, "must be an amount such as 1250.00")) from None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise Invalid(FieldError(name, "must be an amount with at most two decimals"))
    if amount < 0 or (positive and amount == 0):
        raise Invalid(
            FieldError(name, "must be more than zero" if positive else "must not be negative")
        )
    if amount >= Decimal(10) ** 16:
        raise Invalid(FieldError(name, "is too large"))
    return amount.quantize(CENT)


def _text(value: Any, name: str, limit: int, *, required: bool = False) -> str | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        if required:
            raise Invalid(FieldError(name, "is required"))
        return None
    if len(text) > limit:
        raise Invalid(FieldError(name, f"must be at most {limit} characters"))
    return text


def _amount(value: Decimal | None) -> str | None:
    """An amount as the history and the API record it: a decimal string."""
    return None if value is None else f"{value.quantize(CENT)}"


def item_values(item: AssetItem) -> dict[str, Any]:
    """An item's values, as recorded in the history and returned by the API."""
    return {
        "id": item.id,
        "kind": str(item.kind),
        "description": item.description,
        "location": item.location,
        "holder_institution": item.holder_institution,
        "identifiers": item.identifiers,
        "currency": item.currency,
        "estimated_value": _amount(item.estimated_value),
        "realised_value": _amount(item.realised_value),
        "status": str(item.status),
    }


def share_values(share: AssetShare) -> dict[str, Any]:
    return {
        "id": share.id,
        "recipient": share.recipient,
        "percent": _amount(share.percent),
        "amount": _amount(share.amount),
        "currency": share.currency,
        "agreement": share.agreement,
    }


def transfer_values(transfer: AssetTransfer) -> dict[str, Any]:
    return {
        "id": transfer.id,
        "recipient": transfer.recipient,
        "amount": _amount(transfer.amount),
        "currency": transfer.currency,
        "transferred_on": transfer.transferred_on.isoformat(),
        "reference": transfer.reference,
    }


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
        raise Conflict(f"{request.reference} is a {request.kind} request: it has no asset register")
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
        raise Conflict(f"{request.reference} is closed ({request.outcome}); its register is final")
    svc.context.lock(request, None)
    return request


def _record(svc: RequestService, request: Request, actor: Actor, data: dict[str, Any]) -> Event:
    request.updated_at = svc.clock()  # pollers see the change; the optimistic lock moves on
    svc.context.flush(request.reference)
    return svc.context.record(request, EventKind.ASSET_REGISTER, actor, data)


def _item_fields(values: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Checked item values from ``values``; every field named in an error is ``name``."""
    unknown = sorted(
        set(values) - {"kind", "currency", "estimated_value", "realised_value", *ITEM_TEXT}
    )
    if unknown:
        raise Invalid([FieldError(n, "is not a field of an asset item") for n in unknown])
    out: dict[str, Any] = {}
    errors: list[FieldError] = []

    def check(name: str, fn: Any) -> None:
        if name not in values:
            return
        try:
            out[name] = fn(values[name])
        except Invalid as exc:
            errors.extend(exc.errors)

    check("kind", lambda v: _kind(v))
    check("currency", lambda v: currency_code(v, "currency"))
    for name in ("estimated_value", "realised_value"):
        check(name, lambda v, n=name: None if v is None or v == "" else money(v, n))
    for name, limit in ITEM_TEXT.items():
        check(name, lambda v, n=name, lim=limit: _text(v, n, lim, required=n == "description"))
    if not partial:
        for name in ("kind", "description", "currency"):
            if name not in values:
                errors.append(FieldError(name, "is required"))
    if errors:
        raise Invalid(errors)
    return out


def _kind(value: Any) -> AssetKind:
    try:
        return AssetKind(str(value))
    except ValueError:
        listed = ", ".join(k.value for k in AssetKind)
        raise Invalid(FieldError("kind", f"must be one of {listed}")) from None


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
    checked = _item_fields(values, partial=False)
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
        raise NotFound(f"no asset item {item_id} on {request.reference}")
    checked = _item_fields(values, partial=True)
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
        raise Conflict("shares are agreed once the assets are confiscated")
    recipient = _text(values.get("recipient"), "recipient", 200, required=True)
    agreement = _text(values.get("agreement"), "agreement", 200, required=True)
    currency = currency_code(values.get("currency"), "currency")
    percent = values.get("percent")
    amount = values.get("amount")
    if (percent is None) == (amount is None):
        raise Invalid(FieldError("percent", "give either a percentage or an amount"))
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
                    "percent", f"the shares in {currency} would exceed 100% ({agreed}% agreed)"
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
        raise Conflict("transfers are recorded once the disposal is decided")
    recipient = _text(values.get("recipient"), "recipient", 200, required=True)
    current = _register(svc.session, request)
    if recipient not in {s.recipient for s in current.shares}:
        raise Invalid(
            FieldError("recipient", f"{recipient!r} has no share; record the share first")
        )
    currency = currency_code(values.get("currency"), "currency")
    amount = money(values.get("amount"), "amount", positive=True)
    raw = values.get("transferred_on")
    try:
        on = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    except ValueError:
        raise Invalid(FieldError("transferred_on", "must be a date (YYYY-MM-DD)")) from None
    if on > DeadlineService.local_today(actor.authority, svc.clock()):
        raise Invalid(FieldError("transferred_on", "must not be in the future"))
    transfer = AssetTransfer(
        request_id=request.id,
        recipient=recipient,
        amount=amount,
        currency=currency,
        transferred_on=on,
        reference=_text(values.get("reference"), "reference", 200),
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
        raise NotAllowed("the requested authority, which holds the assets, records their disposal")


# --- links ----------------------------------------------------------------------------------


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
        raise Invalid(FieldError("kind", f"must be one of {listed}")) from None
    request = svc.get(actor, reference)
    try:
        other = svc.get(actor, other_reference)
    except NotFound:
        raise Invalid(FieldError("other", f"no request {other_reference}")) from None
    if other.id == request.id:
        raise Invalid(FieldError("other", "a request cannot be linked to itself"))
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
        raise Conflict(f"{request.reference} and {other.reference} are already linked so")
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
        raise NotAllowed("only the requesting authority of a case asks for freezing in it")
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
