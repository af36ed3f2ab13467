"""The assets workflow walked through /api/v1 to each of its final states by the parties that
act (ARG-DAJIN requests, MEX-FGR is requested and holds the property), with the register's
statuses moving with the steps, its totals and settlements; links shown only to authorities
party to both ends; the 24-hour clock and the renewal reminders driven by `mla worker`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.audit import chain
from mla.audit.models import Event
from mla.db import make_engine
from mla.notify.models import Notification
from mla.requests.models import Request
from tests.api.conftest import Api, Callers
from tests.factories import MLA_FIELDS, mexico_today
from tests.scenarios import test_extradition

# An app on a database of its own (real commits) and `mla` commands run against it.
live = test_extradition.live

REASONS = "Los fondos provienen del delito, según consta en la causa."
FIELDS = {
    "conducting_authority": "Fiscalía Federal N.º 3, Buenos Aires",
    "facts": "Transferencias de fondos del narcotráfico a cuentas en México (2023-2025).",
    "property_sought": "Cuenta 0123456789 del Banco Ejemplo; inmueble en Cancún.",
    "language": "es",
}
ACCOUNT = {
    "kind": "account",
    "description": "Cuenta corriente",
    "holder_institution": "Banco Ejemplo S.A.",
    "identifiers": "CLABE 012180001234567897",
    "location": "Ciudad de México",
    "currency": "usd",
    "estimated_value": "250000.00",
}
HOUSE = {
    "kind": "real_estate",
    "description": "Departamento frente al mar",
    "location": "Cancún, Quintana Roo",
    "identifiers": "Folio real 12345",
    "currency": "MXN",
    "estimated_value": 3500000,
}


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.json
    return response.json


def step(caller: Api, reference: str, event: str, **inputs: object) -> dict:
    offered = {e["event"]: e for e in ok(caller.get(f"/requests/{reference}"))["available_events"]}
    assert event in offered, (event, sorted(offered))
    return ok(caller.fire(reference, event, **inputs))


def create(caller: Api, **changes: object) -> str:
    body = {
        "kind": "assets",
        "requested_authority": "MEX-FGR",
        "legal_basis": "untoc-12-14",
        "urgency": "urgent",
        "fields": FIELDS,
        **changes,
    }
    return ok(caller.post("/requests", json=body), 201)["reference"]


def new_mla(caller: Api, requested: str, fields: dict) -> str:
    body = {"kind": "mla", "requested_authority": requested, "legal_basis": "untoc-18"}
    return ok(caller.post("/requests", json={**body, "fields": fields}), 201)["reference"]


def register(caller: Api, reference: str) -> dict:
    return ok(caller.get(f"/requests/{reference}/assets"))


def statuses(caller: Api, reference: str) -> list[str]:
    return [i["status"] for i in register(caller, reference)["items"]]


def frozen(api: Callers) -> str:
    """An assets request with two items, frozen by Mexico until a date 90 days ahead."""
    ref = create(api.arg)
    ok(api.arg.post(f"/requests/{ref}/assets", json=ACCOUNT), 201)
    status = step(api.arg, ref, "request_freeze")
    assert (status["state"], status["holder"]) == ("freeze_requested", "MEX-FGR")
    ok(api.mex.post(f"/requests/{ref}/assets", json=HOUSE), 201)
    expiry = (date.today() + timedelta(days=90)).isoformat()
    status = step(api.mex, ref, "freeze", order="Juzgado 5.º, causa 77/2026", expires_on=expiry)
    assert status["state"] == "frozen"
    assert statuses(api.arg, ref) == ["frozen", "frozen"]
    return ref


def confiscated(api: Callers) -> str:
    ref = frozen(api)
    step(api.arg, ref, "request_confiscation", route="foreign_order", order="Sentencia 12/2026")
    status = step(api.mex, ref, "confiscate", order="Juzgado 5.º, exequátur 3/2026")
    assert status["state"] == "confiscated"
    assert statuses(api.mex, ref) == ["confiscated", "confiscated"]
    items = register(api.mex, ref)["items"]
    for item, realised in zip(items, ("240000.00", "3000000.00"), strict=True):
        changed = api.mex(
            "PATCH", f"/requests/{ref}/assets/{item['id']}", json={"realised_value": realised}
        )
        assert ok(changed)["realised_value"] == realised
    return ref


def test_bad_register_input_names_the_field(api):
    ref = create(api.arg)
    wrong = api.arg.post(f"/requests/{ref}/assets", json={**ACCOUNT, "currency": "XYZ"})
    assert wrong.status_code == 422
    assert wrong.json["errors"][0]["field"] == "currency"
    assert "ISO 4217" in wrong.json["errors"][0]["message"]
    wrong = api.arg.post(f"/requests/{ref}/assets", json={**ACCOUNT, "kind": "yacht"})
    assert wrong.status_code == 422 and wrong.json["errors"][0]["field"] == "kind"
    wrong = api.arg.post(f"/requests/{ref}/assets", json={**ACCOUNT, "estimated_value": "-1"})
    assert wrong.status_code == 422 and wrong.json["errors"][0]["field"] == "estimated_value"
    assert api.arg.get("/requests/" + ref + "/assets").status_code == 200
    # A request of another kind has no register: it reads empty and takes no items.
    other = new_mla(api.arg, "MEX-FGR", {})
    assert register(api.arg, other)["items"] == []
    assert api.arg.post(f"/requests/{other}/assets", json=ACCOUNT).status_code == 409


def test_freeze_refused_only_through_consultation(api):
    ref = create(api.arg)
    step(api.arg, ref, "request_freeze")
    offered = {
        e["event"] for e in ok(api.mex_supervisor.get(f"/requests/{ref}"))["available_events"]
    }
    assert "refuse_freeze" not in offered
    step(api.mex, ref, "open_consultation", reasons=REASONS)
    clerk = api.mex.fire(ref, "refuse_freeze", grounds=["essential_interests"], reasons=REASONS)
    assert clerk.status_code == 403
    bad = api.mex_supervisor.fire(ref, "refuse_freeze", grounds=["tax_offence"], reasons=REASONS)
    assert bad.status_code in (409, 422)
    status = step(
        api.mex_supervisor, ref, "refuse_freeze", grounds=["domestic_law_bar"], reasons=REASONS
    )
    assert (status["state"], status["outcome"]) == ("freeze_refused", "freeze_refused")


def test_frozen_then_released_by_a_court(api):
    ref = frozen(api)
    status = step(api.mex, ref, "release", release_reason="lifted_by_court", reasons=REASONS)
    assert (status["state"], status["outcome"]) == ("released", "released")
    assert statuses(api.arg, ref) == ["released", "released"]
    # Register closed with the request.
    late = api.arg.post(f"/requests/{ref}/assets", json=ACCOUNT)
    assert late.status_code == 409


def test_confiscated_and_returned_with_the_difference_until_settled(api):
    ref = confiscated(api)
    totals = {t["currency"]: t for t in register(api.arg, ref)["totals"]}
    assert totals == {
        "MXN": {"currency": "MXN", "estimated": "3500000.00", "realised": "3000000.00"},
        "USD": {"currency": "USD", "estimated": "250000.00", "realised": "240000.00"},
    }
    # Shares are the requested authority's to record, once confiscated.
    share = {"recipient": "ARG-DAJIN", "agreement": "Nota DAJIN 45/2026", "currency": "USD"}
    denied = api.arg.post(f"/requests/{ref}/assets/shares", json={**share, "percent": 100})
    assert denied.status_code == 403
    step(api.mex, ref, "decide_disposal", disposal="return")
    ok(api.mex.post(f"/requests/{ref}/assets/shares", json={**share, "percent": 100}), 201)
    too_much = api.mex.post(f"/requests/{ref}/assets/shares", json={**share, "percent": "0.5"})
    assert too_much.status_code == 422 and too_much.json["errors"][0]["field"] == "percent"
    ok(api.mex.post(f"/requests/{ref}/assets/shares",
                    json={**share, "currency": "MXN", "amount": "3000000"}), 201)  # fmt: skip
    # Mexico's clerk records a transfer made today on Mexico's calendar (UTC is a day ahead
    # in the evening there).
    today = mexico_today()
    paid = {"recipient": "ARG-DAJIN", "currency": "USD", "transferred_on": today.isoformat()}
    ok(api.mex.post(f"/requests/{ref}/assets/transfers", json={**paid, "amount": "200000"}), 201)
    future = (today + timedelta(days=3)).isoformat()
    early = api.mex.post(f"/requests/{ref}/assets/transfers",
                         json={**paid, "amount": 1, "transferred_on": future})  # fmt: skip
    assert early.status_code == 422 and early.json["errors"][0]["field"] == "transferred_on"
    stranger = api.mex.post(f"/requests/{ref}/assets/transfers",
                            json={**paid, "amount": 1, "recipient": "COL-FGN"})  # fmt: skip
    assert stranger.status_code == 422 and stranger.json["errors"][0]["field"] == "recipient"
    reg = register(api.arg, ref)
    owed = {(s["recipient"], s["currency"]): s for s in reg["settlements"]}
    assert owed[("ARG-DAJIN", "USD")]["outstanding"] == "40000.00"
    assert owed[("ARG-DAJIN", "MXN")]["outstanding"] == "3000000.00"
    assert reg["settled"] is False
    ok(api.mex.post(f"/requests/{ref}/assets/transfers", json={**paid, "amount": "40000.00"}), 201)
    ok(api.mex.post(f"/requests/{ref}/assets/transfers",
                    json={**paid, "currency": "MXN", "amount": "3000000"}), 201)  # fmt: skip
    assert register(api.arg, ref)["settled"] is True

    status = step(api.mex, ref, "transfer_assets", description="USD 240,000 y MXN 3,000,000")
    assert (status["state"], status["holder"]) == ("assets_transferred", "ARG-DAJIN")
    assert statuses(api.arg, ref) == ["returned", "returned"]
    status = step(api.arg, ref, "close")
    assert (status["state"], status["outcome"]) == ("closed", "closed")


def test_shared_under_an_agreement(api):
    ref = confiscated(api)
    step(api.mex, ref, "decide_disposal", disposal="sharing", agreement="Acuerdo ARG-MEX 2019")
    for recipient, percent in (("ARG-DAJIN", "50"), ("MEX-FGR", "50")):
        ok(api.mex.post(f"/requests/{ref}/assets/shares", json={
            "recipient": recipient, "agreement": "Acuerdo ARG-MEX 2019, art. 7",
            "currency": "USD", "percent": percent}), 201)  # fmt: skip
    owed = {s["recipient"]: s for s in register(api.mex, ref)["settlements"]}
    assert owed["ARG-DAJIN"]["due"] == owed["MEX-FGR"]["due"] == "120000.00"
    step(api.mex, ref, "transfer_assets", description="USD 120,000 a Argentina")
    assert statuses(api.arg, ref) == ["shared", "shared"]
    assert step(api.arg, ref, "close")["outcome"] == "closed"


def test_withdrawn_while_frozen_releases_and_confiscation_refused(api):
    ref = frozen(api)
    status = step(api.arg, ref, "withdraw", reasons="La causa fue archivada.")
    assert status["outcome"] == "withdrawn"
    assert statuses(api.mex, ref) == ["released", "released"]

    other = frozen(api)
    step(api.arg, other, "request_confiscation", route="domestic_order")
    step(api.mex, other, "open_consultation", reasons=REASONS)
    status = step(api.mex_supervisor, other, "refuse_confiscation",
                  grounds=["contrary_to_legal_system"], reasons=REASONS)  # fmt: skip
    assert status["outcome"] == "confiscation_refused"
    assert statuses(api.arg, other) == ["released", "released"]


def test_register_changes_are_in_the_history(api, session):
    ref = frozen(api)
    request = session.scalar(select(Request).where(Request.reference == ref))
    recorded = [
        e.data
        for e in session.scalars(
            select(Event).where(Event.request_id == request.id).order_by(Event.seq)
        )
        if e.kind == "asset_register"
    ]
    assert [d["action"] for d in recorded] == ["item_added", "item_added", "status_moved"]
    assert recorded[0]["item"]["identifiers"] == ACCOUNT["identifiers"]
    assert recorded[0]["item"]["currency"] == "USD"
    assert [(m["from"], m["to"]) for m in recorded[2]["items"]] == [("sought", "frozen")] * 2
    assert chain.verify_request(session, request) is None


def test_links_shown_only_to_parties_of_both_ends(api):
    # An MLA request Argentina sent Mexico, and freezing requested for the same case.
    mla = new_mla(api.arg, "MEX-FGR", MLA_FIELDS)
    for caller, event in (
        (api.arg, "submit_for_review"),
        (api.arg_supervisor, "sign"),
        (api.arg, "transmit"),
    ):
        ok(caller.fire(mla, event))
    assert api.mex.post(f"/requests/{mla}/assets-request", json={}).status_code == 403
    asked = api.arg.post(f"/requests/{mla}/assets-request", json={"property_sought": "Cuenta"})
    ref = ok(asked, 201)["reference"]
    carried = ok(api.arg.get(f"/requests/{ref}"))
    assert carried["kind"] == "assets" and carried["state"] == "draft"
    links = ok(api.arg.get(f"/requests/{ref}/links"))["items"]
    assert [(x["kind"], x["direction"], x["other"]) for x in links] == [
        ("arises_from", "outgoing", mla)
    ]
    # Mexico is no party to the assets request while it is Argentina's draft: no link shown.
    assert ok(api.mex.get(f"/requests/{mla}/links"))["items"] == []
    step(api.arg, ref, "request_freeze")
    assert [x["other"] for x in ok(api.mex.get(f"/requests/{mla}/links"))["items"]] == [ref]

    # A request Argentina sent Colombia in the same case, linked to the assets request.
    col = new_mla(api.arg, "COL-FGN", {})
    assert ok(
        api.arg.post(f"/requests/{ref}/links", json={"other": col, "kind": "related_to"}), 201
    )
    again = api.arg.post(f"/requests/{ref}/links", json={"other": col, "kind": "related_to"})
    assert again.status_code == 409
    # Mexico cannot link to a request it is no party to, nor learn that it exists.
    foreign = api.mex.post(f"/requests/{ref}/links", json={"other": col, "kind": "related_to"})
    assert foreign.status_code == 422 and foreign.json["errors"][0]["field"] == "other"
    mexico_sees = ok(api.mex.get(f"/requests/{ref}/links"))["items"]
    assert [x["other"] for x in mexico_sees] == [mla]
    assert col not in str(ok(api.mex.get(f"/requests/{ref}")))
    assert {x["other"] for x in ok(api.arg.get(f"/requests/{ref}/links"))["items"]} == {mla, col}
    # Colombia (the third authority) sees neither the link nor the other reference.
    assert api.col.get(f"/requests/{ref}/links").status_code == 404
    assert api.col.get(f"/requests/{col}/links").status_code == 404  # not yet transmitted


def test_freeze_clock_and_renewal_reminders_by_the_worker(live):
    app, callers, mla = live
    arg, mex = callers["arg"], callers["mex"]
    with app.app_context():
        ref = create(arg, fields={**FIELDS, "language": "en"})  # MEX-FGR's language here
        status = step(arg, ref, "request_freeze")
        (clock,) = [d for d in status["deadlines"] if d["name"] == "freeze_decision"]
        assert clock["authority"] == "MEX-FGR"
    due = datetime.fromisoformat(clock["due_at"])
    started = datetime.now(UTC)
    # 24 hours elapsed, not days: due within a day of now.
    assert timedelta(hours=23) < due - started <= timedelta(hours=24)

    before = mla("worker", "--once", "--now", (due - timedelta(hours=5)).isoformat())
    assert before.exit_code == 0, before.output
    assert before.output.startswith("fired 1 escalation step")
    late = mla("worker", "--once", "--now", (due + timedelta(minutes=1)).isoformat())
    assert late.output.startswith("fired 1 escalation step")

    with app.app_context():
        expiry = date.today() + timedelta(days=20)
        status = step(mex, ref, "freeze", order="Juzgado 5.º", expires_on=expiry.isoformat())
        (clock,) = [d for d in status["deadlines"] if d["name"] == "freeze_expiry"]
        assert clock["authority"] == "MEX-FGR"
    expires = datetime.fromisoformat(clock["due_at"])
    # 20 days ahead: the 30-day reminder is due at once, the 7-day one a fortnight later.
    for at in (expires - timedelta(days=8), expires - timedelta(days=6)):
        reminder = mla("worker", "--once", "--now", at.isoformat())
        assert reminder.output.startswith("fired 1 escalation step"), reminder.output
    engine = make_engine(app.config["MLA_DATABASE_URL"])
    with Session(engine) as session:
        told = {n.address for n in session.scalars(select(Notification)) if n.address}
    engine.dispose()
    # The requesting state (counterpart) is reminded to ask for the renewal.
    assert "arg-dajin.clerk@example.org" in told

    with app.app_context():
        step(arg, ref, "request_renewal", reasons="La investigación sigue abierta.")
        later = expiry + timedelta(days=180)
        status = step(
            mex, ref, "renew_freeze", order="Juzgado 5.º, prórroga", expires_on=later.isoformat()
        )
        (renewed,) = [d for d in status["deadlines"] if d["name"] == "freeze_expiry"]
    assert datetime.fromisoformat(renewed["due_at"]) - expires == timedelta(days=180)
    assert mla("audit", "verify").exit_code == 0
