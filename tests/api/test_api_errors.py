"""Every failure is RFC 9457 problem+json with the right status, naming fields where any."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mla.api.ratelimit import TokenBuckets
from mla.api.routing import MAX_JSON_BYTES
from mla.authorities import tokens
from mla.config import Rate
from mla.db import utcnow
from tests.api.conftest import NEW_REQUEST

PROBLEM = "application/problem+json"


def _problem(response, status):
    assert response.status_code == status, response.data
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_unauthenticated_calls_get_401_with_a_bearer_challenge(client, session, world):
    _row, expired = tokens.create(session, world.arg, valid_for=timedelta(days=1))
    _row.expires_at = utcnow() - timedelta(seconds=1)
    revoked_row, revoked = tokens.create(session, world.arg)
    tokens.revoke(session, revoked_row.id)
    for header in [None, "Basic abc", "Bearer ", "Bearer mla_nope", f"Bearer {expired}",
                   f"Bearer {revoked}"]:  # fmt: skip
        headers = {"Authorization": header} if header else {}
        response = client.get("/api/v1/requests", headers=headers)
        _problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_malformed_json_wrong_types_unknown_fields_and_size(api):
    _problem(api.arg.post("/requests", data="{not json", content_type="application/json"), 400)
    _problem(api.arg.post("/requests", data="kind=mla", content_type="text/plain"), 415)
    body = _problem(api.arg.post("/requests", json={**NEW_REQUEST, "confidential": "yes"}), 422)
    assert [e["field"] for e in body["errors"]] == ["confidential"]
    body = _problem(api.arg.post("/requests", json={**NEW_REQUEST, "colour": "red"}), 422)
    assert body["errors"] == [
        {"field": "colour", "message": "is not a known field", "code": "invalid"}
    ]
    body = _problem(api.arg.post("/requests", json={"kind": "mla"}), 422)
    assert {e["field"] for e in body["errors"]} == {"requested_authority", "legal_basis"}
    body = _problem(api.arg.post("/requests", json=[]), 422)
    big = {**NEW_REQUEST, "fields": {"subject": "x" * (MAX_JSON_BYTES + 1)}}
    _problem(api.arg.post("/requests", json=big), 413)


def test_service_validation_names_each_field(api):
    bad = {**NEW_REQUEST, "requested_authority": "NOPE", "fields": {"proceeding_type": "war"}}
    body = _problem(api.arg.post("/requests", json=bad), 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"requested_authority", "proceeding_type"} <= fields


def test_bad_query_parameters_and_cursors(api):
    for query in [{"cursor": "!!!"}, {"cursor": "bm90IGEgY3Vyc29y"}, {"limit": "0"},
                  {"limit": "many"}, {"updated_since": "yesterday"}]:  # fmt: skip
        body = _problem(api.arg.get("/requests", query_string=query), 422)
        assert body["errors"][0]["field"] == next(iter(query))


def test_unknown_paths_and_methods(api, submitted):
    _problem(api.arg.get("/nothing/here"), 404)
    response = api.arg("DELETE", "/requests")
    _problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    _problem(api.arg.get("/requests/MLA-XXX-2026-99999"), 404)


def test_events_conflict_forbidden_and_invalid(api, drafted):
    path = f"/requests/{drafted}/events"
    body = _problem(api.arg.post(path, json={"event": "transmit"}), 409)
    assert "not possible" in body["detail"]
    _problem(api.arg.post(path, json={"event": "no_such_event"}), 422)
    api.arg.fire(drafted, "submit_for_review")
    body = _problem(api.arg.post(path, json={"event": "sign"}), 403)  # a clerk's token
    assert "supervisor" in body["detail"]
    body = _problem(api.arg.post(path, json={"event": "withdraw", "inputs": {}}), 422)
    assert body["errors"] == [
        {"field": "inputs.reasons", "message": "is required", "code": "required"}
    ]
    stale = api.arg.get(f"/requests/{drafted}").headers["ETag"]
    api.arg.fire(drafted, "send_for_translation")
    body = _problem(
        api.arg.post(path, json={"event": "return_to_draft"}, headers={"If-Match": stale}), 409
    )
    assert "changed by" in body["detail"]
    _problem(
        api.arg.post(path, json={"event": "return_to_draft"}, headers={"If-Match": "garbage"}),
        422,
    )


def test_rate_limit_answers_429_with_retry_after(api, app):
    app.extensions["mla.api.ratelimit"] = TokenBuckets(Rate(2, 60.0))
    assert api.arg.get("/authorities").status_code == 200
    assert api.arg.get("/authorities").status_code == 200
    response = api.arg.get("/authorities")
    _problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1
    assert api.mex.get("/authorities").status_code == 200  # per token


def test_unexpected_errors_are_500_without_detail(api, monkeypatch):
    from mla.api import views

    def boom(*_a, **_k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views, "list_authorities", boom)
    response = api.arg.get("/authorities")
    body = _problem(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert body["title"] == "Internal server error"


@pytest.mark.parametrize("raw", ["120/minute", "5/second", "1000/hour"])
def test_rate_setting_is_parsed(raw):
    from mla.config import parse_rate

    assert str(parse_rate(raw)) == raw


@pytest.mark.parametrize("raw", ["", "120", "0/minute", "5/day", "x/second"])
def test_malformed_rate_setting_stops_with_one_line(raw):
    from mla.config import parse_rate
    from mla.errors import ConfigError

    with pytest.raises(ConfigError, match="MLA_API_RATE"):
        parse_rate(raw)
