"""What a case system reads and sends in one call: a request's contents (to its parties
only), create-and-transmit (all or nothing), and the workflow document's requirements."""

from __future__ import annotations

import pytest

from tests.api.conftest import NEW_REQUEST
from tests.factories import MLA_FIELDS


def _count(caller) -> int:
    return len(caller.get("/requests?limit=200").json["items"])


@pytest.mark.parametrize("confidential", [False, True])
def test_a_requests_contents_go_to_its_parties_only(api, confidential):
    created = api.arg_supervisor.post(
        "/requests", json={**NEW_REQUEST, "confidential": confidential, "transmit": True}
    )
    assert created.status_code == 201, created.json
    reference = created.json["reference"]
    assert created.json["fields"] == MLA_FIELDS
    assert created.json["legal_basis"] == "untoc-18"
    for caller in (api.arg, api.mex):
        body = caller.get(f"/requests/{reference}").json
        assert body["fields"] == MLA_FIELDS
    # The executing authority becomes a party when the requested side assigns it.
    for caller, event, inputs in (
        (api.mex, "acknowledge", {}),
        (api.mex, "pass_formal_review", {}),
        (api.mex_supervisor, "accept", {}),
    ):
        assert caller.fire(reference, event, **inputs).status_code == 200
    assert api.court.get(f"/requests/{reference}").status_code == 404
    assert api.mex.fire(reference, "assign", executing_authority="MEX-FEMDO").status_code == 200
    assert api.court.get(f"/requests/{reference}").json["fields"] == MLA_FIELDS
    # Anyone else: not even that it exists.
    outsider = api.col.get(f"/requests/{reference}")
    assert outsider.status_code == 404 and "fields" not in (outsider.json or {})


def test_a_draft_is_the_requesting_sides_alone(api, drafted):
    assert api.arg.get(f"/requests/{drafted}").json["fields"] == MLA_FIELDS
    assert api.mex.get(f"/requests/{drafted}").status_code == 404


def test_create_and_transmit_in_one_call_with_a_supervisor_token(api):
    response = api.arg_supervisor.post("/requests", json={**NEW_REQUEST, "transmit": True})
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["state"], body["holder"]) == ("received", "MEX-FGR")
    assert [h["event"] for h in body["history"]] == ["submit_for_review", "sign", "transmit"]
    assert api.mex.get(f"/requests/{body['reference']}").status_code == 200


def test_create_and_transmit_is_all_or_nothing(api):
    before = _count(api.arg)
    # A clerk token may not sign: refused, and no draft is left behind.
    refused = api.arg.post("/requests", json={**NEW_REQUEST, "transmit": True})
    assert refused.status_code == 403, refused.json
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert _count(api.arg) == before
    # Incomplete: 422 naming the missing field, nothing created.
    fields = {k: v for k, v in MLA_FIELDS.items() if k != "purpose"}
    incomplete = api.arg_supervisor.post(
        "/requests", json={**NEW_REQUEST, "fields": fields, "transmit": True}
    )
    assert incomplete.status_code == 422, incomplete.json
    assert "purpose" in {e["field"] for e in incomplete.json["errors"]}
    assert _count(api.arg) == before
    # An external authority's request is recorded as received, never "transmitted".
    external = api.mex_supervisor.post(
        "/requests",
        json={**NEW_REQUEST, "requesting_authority": "ARG-DAJIN", "transmit": True},
    )
    assert external.status_code == 422
    assert _count(api.arg) == before


def test_each_openapi_example_creates_and_transmits(api, client):
    document = client.get("/api/v1/openapi.json").json
    content = document["paths"]["/requests"]["post"]["requestBody"]["content"]
    examples = content["application/json"]["examples"]
    assert set(examples) == {"mla", "extradition", "assets"}
    for name, example in examples.items():
        value = {**example["value"], "transmit": True}
        assert "additionalProp1" not in str(value)
        response = api.arg_supervisor.post("/requests", json=value)
        assert response.status_code == 201, (name, response.json)
        assert response.json["holder"] == "MEX-FGR", name


def test_the_workflow_document_requires_the_treaty_under_the_bilateral_basis_only(api):
    for name in ("mla", "extradition", "assets"):
        workflow = api.arg.get(f"/workflows/{name}").json
        treaty = next(f for f in workflow["fields"] if f["name"] == "treaty")
        assert treaty["required"] is False, name
        assert treaty["required_under"] == ["bilateral"], name
        subject = next(f for f in workflow["fields"] if f["required"])
        assert "required_under" not in subject
    # And the request store agrees: untoc-18 needs no treaty.
    assert "treaty" not in NEW_REQUEST["fields"]
