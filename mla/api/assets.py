"""An assets request's register (items, shares of the disposal, transfers) and the links
between requests: parse, call the assets service, render."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from flask import Response
from pydantic import Field

from mla.api import schemas as s
from mla.api.problems import ApiProblem
from mla.api.routing import actor, json_body, operation
from mla.api.views import bp, json_response
from mla.app_services import request_service
from mla.assets import service as assets
from mla.db import parse_id

READ, WRITE = "requests:read", "requests:write"
Amount = str | int | float
AMOUNT = 'a decimal amount to the cent, as a string ("1250.00") or a number'


class AssetItemIn(s.In):
    kind: Literal[
        "account", "real_estate", "vehicle", "vessel", "securities", "cash", "crypto_asset", "other"
    ]
    description: str = Field(min_length=1, max_length=4000)
    currency: str = Field(description="ISO 4217 code of the values, e.g. USD")
    location: str | None = Field(default=None, max_length=200)
    holder_institution: str | None = Field(default=None, max_length=200)
    identifiers: str | None = Field(
        default=None, max_length=500, description="account number, registry entry, VIN ..."
    )
    estimated_value: Amount | None = Field(default=None, description=AMOUNT)
    realised_value: Amount | None = Field(default=None, description=AMOUNT)


class AssetItemChange(s.In):
    """The values to change; those left out keep theirs. The status moves with the steps."""

    kind: str | None = None
    description: str | None = Field(default=None, max_length=4000)
    currency: str | None = None
    location: str | None = Field(default=None, max_length=200)
    holder_institution: str | None = Field(default=None, max_length=200)
    identifiers: str | None = Field(default=None, max_length=500)
    estimated_value: Amount | None = Field(default=None, description=AMOUNT)
    realised_value: Amount | None = Field(default=None, description=AMOUNT)


class AssetItemOut(s.Out):
    id: int
    kind: str
    description: str
    location: str | None
    holder_institution: str | None
    identifiers: str | None
    currency: str
    estimated_value: str | None
    realised_value: str | None
    status: Literal["sought", "frozen", "released", "confiscated", "returned", "shared"]


class ShareIn(s.In):
    recipient: str = Field(
        min_length=1, max_length=200, description="an authority's code, or victims, a fund ..."
    )
    agreement: str = Field(min_length=1, max_length=200, description="the agreement's reference")
    currency: str
    percent: Amount | None = Field(default=None, description="of the realised value (0-100]")
    amount: Amount | None = Field(default=None, description=AMOUNT)


class ShareOut(s.Out):
    id: int
    recipient: str
    percent: str | None
    amount: str | None
    currency: str
    agreement: str


class TransferIn(s.In):
    recipient: str = Field(min_length=1, max_length=200, description="as named in a share")
    amount: Amount = Field(description=AMOUNT)
    currency: str
    transferred_on: str = Field(description="YYYY-MM-DD, not in the future")
    reference: str | None = Field(default=None, max_length=200)


class TransferOut(s.Out):
    id: int
    recipient: str
    amount: str
    currency: str
    transferred_on: date
    reference: str | None


class Total(s.Out):
    currency: str
    estimated: str
    realised: str


class SettlementOut(s.Out):
    recipient: str
    currency: str
    due: str
    transferred: str
    outstanding: str = Field(description="due less transferred: shown until settled")


class RegisterOut(s.Out):
    items: list[AssetItemOut]
    totals: list[Total] = Field(description="per currency, over every item")
    shares: list[ShareOut]
    transfers: list[TransferOut]
    settlements: list[SettlementOut]
    settled: bool


class LinkIn(s.In):
    other: str = Field(min_length=1, max_length=32, description="the other request's reference")
    kind: Literal["arises_from", "related_to", "supplements"] = Field(
        description="how this request relates to the other"
    )


class LinkOut(s.Out):
    kind: str
    direction: Literal["outgoing", "incoming"] = Field(
        description="outgoing: this request arises from / relates to / supplements the other"
    )
    other: str = Field(description="the other request's reference")
    other_kind: str
    other_state: str


class LinkList(s.Out):
    items: list[LinkOut]


class FreezingIn(s.In):
    property_sought: str | None = Field(default=None, max_length=4000)


class CreatedOut(s.Out):
    reference: str


def _register_out(reg: assets.Register) -> RegisterOut:
    return RegisterOut(
        items=[AssetItemOut(**assets.item_values(i)) for i in reg.items],
        totals=[
            Total(currency=c, estimated=f"{t['estimated']}", realised=f"{t['realised']}")
            for c, t in reg.totals.items()
        ],
        shares=[ShareOut(**assets.share_values(x)) for x in reg.shares],
        transfers=[TransferOut(**assets.transfer_values(x)) for x in reg.transfers],
        settlements=[
            SettlementOut(
                recipient=x.recipient,
                currency=x.currency,
                due=f"{x.due}",
                transferred=f"{x.transferred}",
                outstanding=f"{x.outstanding}",
            )
            for x in reg.settlements
        ],
        settled=reg.settled,
    )


def _given(model: s.In) -> dict[str, Any]:
    return model.model_dump(exclude_unset=True)


@operation(
    bp,
    "GET",
    "/requests/{reference}/assets",
    summary="An assets request's register",
    tag="assets",
    scope=READ,
    responses={200: RegisterOut},
)
def get_register(reference: str) -> Response:
    """Its items with their status, totals per currency, the shares of the disposal, the
    transfers made and what remains to transfer to each recipient."""
    reg = assets.register(request_service(), actor(), reference)
    return json_response(_register_out(reg))


@operation(
    bp,
    "POST",
    "/requests/{reference}/assets",
    summary="Add an item to the register",
    tag="assets",
    scope=WRITE,
    body=AssetItemIn,
    responses={201: AssetItemOut},
)
def add_asset(reference: str) -> Response:
    """Either party, while the request is open; the item starts ``sought`` and its status
    then moves with the request's steps (frozen, released, confiscated, returned, shared)."""
    assets.assets_request(request_service(), actor(), reference)  # 404 before the body
    body = json_body(AssetItemIn)
    item = assets.add_item(request_service(), actor(), reference, _given(body))
    return json_response(AssetItemOut(**assets.item_values(item)), 201)


@operation(
    bp,
    "PATCH",
    "/requests/{reference}/assets/{item_id}",
    summary="Change what is known of an item",
    tag="assets",
    scope=WRITE,
    body=AssetItemChange,
    responses={200: AssetItemOut},
)
def change_asset(reference: str, item_id: str) -> Response:
    """Its description, location, holder, identifiers or values (the realised value once
    sold or collected); the history records both values."""
    assets.assets_request(request_service(), actor(), reference)  # 404 before the body
    number = parse_id(item_id)
    if number is None:
        raise ApiProblem(404, "Not found", f"no asset item {item_id}")
    body = json_body(AssetItemChange)
    item = assets.update_item(request_service(), actor(), reference, number, _given(body))
    return json_response(AssetItemOut(**assets.item_values(item)))


@operation(
    bp,
    "POST",
    "/requests/{reference}/assets/shares",
    summary="Record a share of the disposal",
    tag="assets",
    scope=WRITE,
    body=ShareIn,
    responses={201: ShareOut},
)
def add_asset_share(reference: str) -> Response:
    """The requested authority, once the assets are confiscated: a percentage of the
    realised value, or an amount, to a recipient under an agreement (14.2, 14.3)."""
    assets.assets_request(request_service(), actor(), reference)  # 404 before the body
    body = json_body(ShareIn)
    share = assets.add_share(request_service(), actor(), reference, _given(body))
    return json_response(ShareOut(**assets.share_values(share)), 201)


@operation(
    bp,
    "POST",
    "/requests/{reference}/assets/transfers",
    summary="Record an amount transferred",
    tag="assets",
    scope=WRITE,
    body=TransferIn,
    responses={201: TransferOut},
)
def add_asset_transfer(reference: str) -> Response:
    """The requested authority, once the disposal is decided: to a recipient of a share."""
    assets.assets_request(request_service(), actor(), reference)  # 404 before the body
    body = json_body(TransferIn)
    transfer = assets.add_transfer(request_service(), actor(), reference, _given(body))
    return json_response(TransferOut(**assets.transfer_values(transfer)), 201)


def _links_out(found: list[assets.Link]) -> LinkList:
    return LinkList(
        items=[
            LinkOut(
                kind=str(x.kind),
                direction="outgoing" if x.outgoing else "incoming",
                other=x.other.reference,
                other_kind=x.other.kind,
                other_state=x.other.state,
            )
            for x in found
        ]
    )


@operation(
    bp,
    "GET",
    "/requests/{reference}/links",
    summary="The requests linked to a request",
    tag="assets",
    scope=READ,
    responses={200: LinkList},
)
def list_links(reference: str) -> Response:
    """Only links whose other end the caller's authority is also party to."""
    return json_response(_links_out(assets.links(request_service(), actor(), reference)))


@operation(
    bp,
    "POST",
    "/requests/{reference}/links",
    summary="Link a request to another",
    tag="assets",
    scope=WRITE,
    body=LinkIn,
    responses={201: LinkList},
)
def add_link(reference: str) -> Response:
    """The caller's authority must be party to both requests. Answers the request's links."""
    svc = request_service()
    svc.get(actor(), reference)  # 404 before the body
    body = json_body(LinkIn)
    assets.link(svc, actor(), reference, body.other, body.kind)
    return json_response(_links_out(assets.links(svc, actor(), reference)), 201)


@operation(
    bp,
    "POST",
    "/requests/{reference}/assets-request",
    summary="Request freezing for this case",
    tag="assets",
    scope=WRITE,
    body=FreezingIn,
    responses={201: CreatedOut},
)
def request_freezing(reference: str) -> Response:
    """A new assets request, drafted from this one (its requesting authority only) with its
    parties, facts, persons, language and treaty, linked as arising from it."""
    request_service().get(actor(), reference)  # 404 before the body
    body = json_body(FreezingIn)
    created = assets.request_freezing(
        request_service(), actor(), reference, property_sought=body.property_sought
    )
    return json_response(CreatedOut(reference=created.reference), 201)
