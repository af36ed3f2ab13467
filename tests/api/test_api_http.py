"""Small HTTP promises of /api/v1, checked as a hostile or careless client would meet them."""

from __future__ import annotations

import pytest

from tests.api.conftest import NEW_REQUEST
from tests.api.test_api_errors import _problem


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "CONNECT", "BREW"])
def test_any_method_no_route_takes_is_a_problem_not_html(api, method):
    for path in ("/requests", "/nothing/here", "/"):
        response = api.arg(method, path)
        _problem(response, 405)
    assert api.arg.client.open("/login", method="TRACE").mimetype == "text/html"  # the UI's


def test_a_body_declared_in_another_charset_is_refused(api):
    text = '{"kind": "mla", "requested_authority": "MEX-FGR", "legal_basis": "untoc-18", '
    body = (text + '"their_reference": "Causa Nº 5"}').encode("latin-1")
    response = api.arg.post(
        "/requests", data=body, content_type="application/json; charset=latin-1"
    )
    assert "UTF-8" in _problem(response, 415)["detail"]
    utf8 = api.arg.post(
        "/requests",
        data=body.decode("latin-1").encode(),
        content_type="application/json; charset=UTF-8",
    )
    assert utf8.status_code == 201 and utf8.json["their_reference"] == "Causa Nº 5"


def test_if_match_takes_only_an_etag_of_this_request(api):
    first = api.arg.post("/requests", json=NEW_REQUEST)
    second = api.arg.post("/requests", json=NEW_REQUEST)
    assert first.json["version"] == second.json["version"]
    path = f"/requests/{first.json['reference']}/events"
    # The other request's ETag has the same version number: it still proves nothing here.
    body = _problem(
        api.arg.post(
            path, json={"event": "submit_for_review"}, headers={"If-Match": second.headers["ETag"]}
        ),
        422,
    )
    assert body["errors"][0]["field"] == "If-Match"
    assert "another request" in body["errors"][0]["message"]
    taken = api.arg.post(
        path, json={"event": "submit_for_review"}, headers={"If-Match": first.headers["ETag"]}
    )
    assert taken.status_code == 200, taken.json
