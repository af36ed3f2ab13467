"""A request from a state not on mla, recorded by the requested side as received (LEGAL.md
"Requests from states not on the system"), then walked to its end through /api/v1."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from mla.authorities import service as authorities
from tests.factories import mexico_today
from tests.scenarios.test_mla import deadlines, step

FIELDS = {
    "conducting_authority": "Fiscalía Provincial de Lima",
    "proceeding_type": "investigation",
    "subject": "Cohecho",
    "assistance_types": ["evidence_statements"],
    "facts": "Pagos indebidos a funcionarios.",
    "assistance_sought": "Declaración testimonial del contador.",
    "purpose": "Juicio oral.",
    "language": "es",
}


@pytest.fixture
def peru(session):
    return authorities.add_authority(
        session, "PER-UCJIE", country="PE", name="UCJIE", timezone="America/Lima",
        languages=["es"], external=True,
    )  # fmt: skip


def test_external_request_is_recorded_as_received_and_walked_to_closed(api, peru):
    received_on = mexico_today() - timedelta(days=3)
    response = api.mex.post(
        "/requests",
        json={
            "kind": "mla",
            "requesting_authority": "PER-UCJIE",
            "requested_authority": "MEX-FGR",
            "legal_basis": "untoc-18",
            "fields": FIELDS,
            "received_on": received_on.isoformat(),
            "channel": "diplomatic_note",
        },
    )
    assert response.status_code == 201, response.json
    status = response.json
    ref = status["reference"]
    # It starts with the requested side, not in a draft that MEX would "sign" for Peru.
    assert status["state"] == "received" and status["holder"] == "MEX-FGR"
    assert status["history"][0] | {"at": None} == {
        "at": None, "event": "received", "from": "received", "to": "received",
        "by": "PER-UCJIE", "party": "requesting", "recorded_by": "MEX-FGR",
    }  # fmt: skip
    # Its clocks run from the day it arrived: acknowledge within 7 days of it.
    ack = date.fromisoformat(deadlines(api.mex, ref)["acknowledgement"]["due_at"][:10])
    assert ack in (received_on + timedelta(days=7), received_on + timedelta(days=8))  # UTC date
    # The document received is attached as evidence.
    upload = api.mex.post(
        f"/requests/{ref}/attachments",
        data={"file": (io.BytesIO(b"%PDF-1.4 nota diplomatica"), "nota-123.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.json

    step(api.mex, ref, "acknowledge")
    step(api.mex, ref, "request_information", questions="¿Domicilio del contador?")
    # Peru's answer arrives by e-mail: MEX records it on Peru's behalf, saying so.
    status = step(api.mex, ref, "provide_information", answer="Av. Reforma 100, CDMX.")
    assert status["history"][-1]["by"] == "PER-UCJIE"
    assert status["history"][-1]["recorded_by"] == "MEX-FGR"
    step(api.mex, ref, "pass_formal_review")
    step(api.mex, ref, "accept")
    step(api.mex, ref, "assign", executing_authority="MEX-FEMDO")
    step(api.court, ref, "start_execution")
    step(api.court, ref, "request_information", questions="¿Preguntas para el testigo?")
    step(api.mex, ref, "provide_information", answer="Las del pliego adjunto.")
    step(api.court, ref, "complete_execution")
    step(api.mex, ref, "transmit_results", use_limitation="Solo para el juicio oral.")
    status = step(api.mex, ref, "close")
    assert status["state"] == "closed" and status["history"][-1]["recorded_by"] == "MEX-FGR"


def test_intake_checks_what_is_recorded(api, peru):
    base = {
        "kind": "mla", "requesting_authority": "PER-UCJIE", "requested_authority": "MEX-FGR",
        "legal_basis": "untoc-18", "fields": FIELDS,
    }  # fmt: skip
    tomorrow = (mexico_today() + timedelta(days=1)).isoformat()
    response = api.mex.post("/requests", json={**base, "received_on": tomorrow, "channel": "email"})
    assert response.status_code == 422
    problems = {e["field"]: e["message"] for e in response.json["errors"]}
    assert problems == {"received_on": "must not be in the future"}
    response = api.mex.post("/requests", json={**base, "received_on": tomorrow, "channel": "fax"})
    assert response.status_code == 422
    assert "diplomatic_note" in str(response.json["errors"])
    # Only the requested authority records it; a third state cannot.
    today = mexico_today().isoformat()
    response = api.col.post("/requests", json={**base, "received_on": today, "channel": "email"})
    assert response.status_code == 422
    # An authority on mla sends its own requests: nothing is "received" for it.
    response = api.mex.post(
        "/requests",
        json={
            **base,
            "requesting_authority": "ARG-DAJIN",
            "received_on": today,
            "channel": "email",
        },
    )
    assert response.status_code == 422


def test_extradition_intake_is_the_same(api, peru):
    fields = {
        "person_description": "Varón, 45 años, 1,80 m.",
        "probable_location": "Cancún, Quintana Roo",
        "facts": "Homicidio en Lima, 12 de enero de 2026.",
        "laws_violated": "Art. 106 Código Penal",
        "warrant_or_judgment": "Orden de detención del Juzgado Penal de Lima",
        "undertaking": True,
        "channel": "interpol",
    }
    received_on = mexico_today().isoformat()
    response = api.mex.post(
        "/requests",
        json={
            "kind": "extradition", "requesting_authority": "PER-UCJIE",
            "requested_authority": "MEX-FGR", "legal_basis": "iace", "fields": fields,
            "received_on": received_on, "channel": "interpol",
            "received_as": "formal_request_received",
        },
    )  # fmt: skip
    assert response.status_code == 201, response.json
    assert response.json["state"] == "formal_request_received"
    assert response.json["holder"] == "MEX-FGR"
    assert response.json["history"][0]["recorded_by"] == "MEX-FGR"
    wrong = api.mex.post(
        "/requests",
        json={
            "kind": "extradition", "requesting_authority": "PER-UCJIE",
            "requested_authority": "MEX-FGR", "legal_basis": "iace", "fields": fields,
            "received_on": received_on, "channel": "interpol", "received_as": "granted",
        },
    )  # fmt: skip
    assert wrong.status_code == 422
    assert wrong.json["errors"][0]["field"] == "received_as"
