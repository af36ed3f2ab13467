"""The values of an asset register: checking what a caller gives (currency codes, amounts,
item fields) and rendering rows as the history and the API record them."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry

from mla.assets.models import AssetItem, AssetKind, AssetShare, AssetTransfer
from mla.errors import N_, FieldError, Invalid

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

ITEM_TEXT = {
    "description": 4000,
    "location": 200,
    "holder_institution": 200,
    "identifiers": 500,
}


def currency_code(value: Any, name: str) -> str:
    """``value`` as an ISO 4217 code (upper case). Raises Invalid naming ``name``."""
    code = str(value or "").strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise Invalid(
            FieldError(name, N_("%(value)r is not an ISO 4217 currency code"), {"value": value})
        )
    return code


def money(value: Any, name: str, *, positive: bool = False) -> Decimal:
    """``value`` (a decimal string or a number) as an amount to the cent, not negative
    (``positive``: above zero). Raises Invalid naming ``name``."""
    if isinstance(value, bool):
        raise Invalid(FieldError(name, N_("must be an amount such as 1250.00")))
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise Invalid(FieldError(name, N_("must be an amount such as 1250.00"))) from None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise Invalid(FieldError(name, N_("must be an amount with at most two decimals")))
    if amount < 0 or (positive and amount == 0):
        raise Invalid(
            FieldError(name, "must be more than zero" if positive else "must not be negative")
        )
    if amount >= Decimal(10) ** 16:
        raise Invalid(FieldError(name, N_("is too large")))
    return amount.quantize(CENT)


def text_value(value: Any, name: str, limit: int, *, required: bool = False) -> str | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        if required:
            raise Invalid(FieldError(name, N_("is required"), code="required"))
        return None
    if len(text) > limit:
        raise Invalid(
            FieldError(name, N_("must be at most %(limit)s characters"), {"limit": limit})
        )
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


def item_fields(values: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Checked item values from ``values``; every field named in an error is ``name``."""
    unknown = sorted(
        set(values) - {"kind", "currency", "estimated_value", "realised_value", *ITEM_TEXT}
    )
    if unknown:
        raise Invalid([FieldError(n, N_("is not a field of an asset item")) for n in unknown])
    out: dict[str, Any] = {}
    errors: list[FieldError] = []

    def check(name: str, fn: Any) -> None:
        if name not in values:
            return
        try:
            out[name] = fn(values[name])
        except Invalid as exc:
            errors.extend(exc.errors)

    check("kind", lambda v: asset_kind(v))
    check("currency", lambda v: currency_code(v, "currency"))
    for name in ("estimated_value", "realised_value"):
        check(name, lambda v, n=name: None if v is None or v == "" else money(v, n))
    for name, limit in ITEM_TEXT.items():
        check(name, lambda v, n=name, lim=limit: text_value(v, n, lim, required=n == "description"))
    if not partial:
        for name in ("kind", "description", "currency"):
            if name not in values:
                errors.append(FieldError(name, N_("is required"), code="required"))
    if errors:
        raise Invalid(errors)
    return out


def asset_kind(value: Any) -> AssetKind:
    try:
        return AssetKind(str(value))
    except ValueError:
        listed = ", ".join(k.value for k in AssetKind)
        raise Invalid(
            FieldError("kind", N_("must be one of %(listed)s"), {"listed": listed})
        ) from None
