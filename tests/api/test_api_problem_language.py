"""Problems carry a stable ``code`` per error and per field; ``detail`` stays English; a
client asking in Spanish, French or Portuguese gets the message in its language beside it."""

from __future__ import annotations

PROBLEM = "application/problem+json"


def _problem(response, status):
    assert response.status_code == status, response.data
    assert response.mimetype == PROBLEM
    return response.json


def test_each_problem_has_a_stable_code_and_english_detail(api, drafted):
    path = f"/requests/{drafted}/events"
    body = _problem(api.arg.get("/requests/MLA-XXX-2026-99999"), 404)
    assert body["code"] == "not_found" and "language" not in body
    body = _problem(api.arg.post(path, json={"event": "transmit"}), 409)
    assert body["code"] == "not_in_state" and "not possible" in body["detail"]
    api.arg.fire(drafted, "submit_for_review")
    body = _problem(api.arg.post(path, json={"event": "sign"}), 403)
    assert body["code"] == "not_allowed" and "supervisor" in body["detail"]
    body = _problem(api.arg.post(path, json={"event": "withdraw", "inputs": {}}), 422)
    assert body["code"] == "invalid"
    assert body["errors"] == [
        {"field": "inputs.reasons", "message": "is required", "code": "required"}
    ]
    stale = api.arg.get(f"/requests/{drafted}").headers["ETag"]
    api.arg.fire(drafted, "send_for_translation")
    body = _problem(
        api.arg.post(path, json={"event": "return_to_draft"}, headers={"If-Match": stale}), 409
    )
    assert body["code"] == "version_conflict" and "changed by" in body["detail"]
    body = _problem(api.arg.get("/requests", headers={"Authorization": "Bearer nope"}), 401)
    assert body["code"] == "unauthorized"


def test_accept_language_adds_the_message_in_that_language(api, drafted):
    path = f"/requests/{drafted}/events"
    asks = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
    response = api.arg.post(path, json={"event": "withdraw", "inputs": {}}, headers=asks)
    body = _problem(response, 422)
    assert response.headers["Content-Language"] == "es" and body["language"] == "es"
    assert body["detail"] == "inputs.reasons: is required"  # English, whatever was asked
    assert body["errors"][0]["message"] == "is required"
    assert body["errors"][0]["localized_message"] == "es obligatorio"
    assert body["localized_detail"] == "inputs.reasons: es obligatorio"
    response = api.arg.post(path, json={"event": "transmit"}, headers={"Accept-Language": "fr"})
    body = _problem(response, 409)
    assert "not possible" in body["detail"]
    assert "n'est pas possible à l'état" in body["localized_detail"]
    body = _problem(
        api.arg.get("/requests/MLA-XXX-2026-99999", headers={"Accept-Language": "pt"}), 404
    )
    assert body["localized_detail"] == "não existe o pedido MLA-XXX-2026-99999"
    # English, or a language the catalogue lacks: nothing added.
    for lang in ("en", "de"):
        response = api.arg.post(path, json={"event": "transmit"}, headers={"Accept-Language": lang})
        body = _problem(response, 409)
        assert "localized_detail" not in body and "Content-Language" not in response.headers


def test_a_refused_step_is_named_by_its_label_in_each_language(api, drafted):
    api.arg.fire(drafted, "submit_for_review")
    path = f"/requests/{drafted}/events"
    asks = {"Accept-Language": "es"}
    body = _problem(api.arg.post(path, json={"event": "sign"}, headers=asks), 403)
    assert body["detail"] == "Sign needs the supervisor role"  # English, by its English label
    assert body["localized_detail"] == "Firmar requiere el rol supervisor"
