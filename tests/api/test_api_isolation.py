"""Isolation: three authorities by every operation by every verb. A caller whose authority is
not party to a request gets exactly what it gets for a reference that does not exist."""

from __future__ import annotations

import io

import pytest

import mla.api.blueprint  # noqa: F401  (registers every operation)
from mla.api.routing import OPERATIONS

VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MISSING = "MLA-ARG-2026-99999"


def _body(path: str, verb: str) -> dict:
    if verb != "POST":
        return {}
    if path.endswith("/attachments"):
        return {
            "data": {"file": (io.BytesIO(b"%PDF-1.4 x"), "a.pdf")},
            "content_type": "multipart/form-data",
        }
    if path.endswith("/events"):
        return {"json": {"event": "acknowledge", "inputs": {}}}
    return {"json": {}}


@pytest.fixture
def case(api, submitted, public):
    """A transmitted request between ARG-DAJIN and MEX-FGR with one attachment."""
    upload = api.arg.post(
        f"/requests/{submitted}/attachments",
        data={"file": (io.BytesIO(b"%PDF-1.4 evidence"), "e.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201
    # item_id: an asset item's id (an MLA request has no register: its parties get a 409).
    return {
        "reference": submitted,
        "attachment_id": str(upload.json["id"]),
        "document": "letter_of_request",
        "item_id": "1",
    }


@pytest.fixture
def public(app):
    app.config["MLA_WEBHOOK_ALLOW_PRIVATE"] = True


SCOPED = sorted({op.path for op in OPERATIONS if "{reference}" in op.path})


def test_every_request_operation_is_covered():
    assert "/requests/{reference}" in SCOPED
    assert "/requests/{reference}/events" in SCOPED
    assert "/requests/{reference}/attachments/{attachment_id}" in SCOPED


@pytest.mark.parametrize("path", SCOPED)
@pytest.mark.parametrize("verb", VERBS)
def test_outsiders_cannot_tell_a_request_exists(api, case, path, verb):
    real = path.format(**case)
    fake = path.format(**{**case, "reference": MISSING})
    outsider = api.col(verb, real, **_body(path, verb))
    nothing = api.col(verb, fake, **_body(path, verb))
    assert outsider.status_code == nothing.status_code
    assert outsider.status_code in (404, 405)
    assert outsider.mimetype == "application/problem+json"
    assert outsider.json["detail"].replace(case["reference"], MISSING) == nothing.json["detail"]
    # The executing authority is not yet a party either: the request is not assigned.
    assert api.court(verb, real, **_body(path, verb)).status_code in (404, 405)
    for party in (api.arg, api.mex):
        response = party(verb, real, **_body(path, verb))
        assert response.status_code != 404, (party, response.json)
        response.close()


def test_lists_and_subscriptions_are_scoped(api, case, world):
    assert [r["reference"] for r in api.mex.get("/requests").json["items"]] == [case["reference"]]
    assert api.col.get("/requests").json["items"] == []
    assert api.court.get("/requests").json["items"] == []
    arg = api.issue(world.arg, "admin")
    sub = arg.post("/subscriptions", json={"url": "https://cms.example.org/h"}).json
    for caller in (api.issue(world.mex, "admin"), api.issue(world.col, "admin")):
        assert caller.get("/subscriptions").json["items"] == []
        assert caller("DELETE", f"/subscriptions/{sub['id']}").status_code == 404


def test_another_authoritys_assignee_is_never_in_the_json(api, case, world, client, make_user):
    # The requesting side assigns one of its clerks through the web UI, as its supervisor.
    from tests.web.conftest import csrf, sign_in

    ours = make_user(world.arg, "clerk")
    assert sign_in(client, world.arg_supervisor.username).status_code == 302
    response = client.post(
        f"/requests/{case['reference']}/assign",
        data={"csrf_token": csrf(client, "/"), "assignee": ours.id},
    )
    assert response.status_code == 303
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    for path in ("/requests", f"/requests/{case['reference']}"):
        for caller in (api.mex, api.mex_supervisor):
            response = caller.get(path)
            assert response.status_code == 200, (path, response.json)
            assert ours.username not in response.get_data(as_text=True), path
