"""A request driven from submission to its final state through the API alone, by the
requesting, requested and executing authorities' systems."""

from __future__ import annotations

from sqlalchemy import select

from mla.audit import chain
from mla.requests.models import Request
from tests.api.conftest import NEW_REQUEST


def test_mla_request_from_submission_to_closure(api, session):
    created = api.arg.post("/requests", json=NEW_REQUEST)
    assert created.status_code == 201
    reference = created.json["reference"]
    steps = [
        (api.arg, "submit_for_review", {}, "legal_review"),
        # Signing needs a supervisor: the requesting state's system holds a token issued with
        # --role supervisor for it (a clerk's token gets 403, see test_api_errors).
        (api.arg_supervisor, "sign", {}, "signed"),
        (api.arg, "transmit", {}, "received"),
        (api.mex, "acknowledge", {}, "formal_review"),
        (api.mex, "pass_formal_review", {}, "substantive_review"),
        (api.mex, "accept", {}, "accepted"),
        (api.mex, "assign", {"executing_authority": "MEX-FEMDO"}, "assigned"),
        (api.court, "start_execution", {}, "in_execution"),
        (api.court, "complete_execution", {}, "results_ready"),
        (api.mex, "transmit_results", {"use_limitation": "Case 9/2026"}, "results_transmitted"),
        (api.arg, "close", {}, "closed"),
    ]
    etag = created.headers["ETag"]
    for caller, event, inputs, state in steps:
        before = caller.get(f"/requests/{reference}")
        assert before.status_code == 200
        assert event in {e["event"] for e in before.json["available_events"] if e["allowed"]}
        response = caller.post(
            f"/requests/{reference}/events",
            json={"event": event, "inputs": inputs, "comment": f"via API: {event}"},
            headers={"If-Match": before.headers["ETag"]},
        )
        assert response.status_code == 200, (event, response.json)
        assert response.json["state"] == state
        assert response.headers["ETag"] != etag
        etag = response.headers["ETag"]

    final = api.court.get(f"/requests/{reference}").json
    assert final["closed_at"] is not None and final["outcome"] == "closed"
    assert final["executing_authority"] == "MEX-FEMDO"
    assert final["available_events"] == []
    assert [h["to"] for h in final["history"]] == [s[3] for s in steps]
    assert [h["by"] for h in final["history"]][6:9] == ["MEX-FGR", "MEX-FEMDO", "MEX-FEMDO"]
    request = session.scalar(select(Request).where(Request.reference == reference))
    assert chain.verify_request(session, request) is None  # progress queries kept it intact
