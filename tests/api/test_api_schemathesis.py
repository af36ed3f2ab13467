"""Property-based tests of every operation against /api/v1/openapi.json (schemathesis, in
process over WSGI): no 5xx, and every status, content type, header and body is documented."""

from __future__ import annotations

import io

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mla.authorities import tokens
from tests.api.conftest import NEW_REQUEST

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzz_world(app, client, session, world):
    """A token and a transmitted request with one attachment, to aim the cases at."""
    app.config["MLA_WEBHOOK_ALLOW_PRIVATE"] = True  # no DNS lookups of generated hosts
    _row, token = tokens.create(session, world.mex)
    _row, arg = tokens.create(session, world.arg, role="supervisor")
    auth = {"Authorization": f"Bearer {arg}"}
    reference = client.post("/api/v1/requests", json=NEW_REQUEST, headers=auth).json["reference"]
    for event in ("submit_for_review", "sign", "transmit"):
        client.post(f"/api/v1/requests/{reference}/events", json={"event": event}, headers=auth)
    upload = client.post(
        f"/api/v1/requests/{reference}/attachments",
        data={"file": (io.BytesIO(b"%PDF-1.4 evidence"), "e.pdf")},
        content_type="multipart/form-data",
        headers=auth,
    )
    return {"token": token, "reference": reference, "attachment_id": str(upload.json["id"])}


def test_api_conforms_to_its_openapi_document(app, fuzz_world):
    # Driven by hand rather than by schemathesis' pytest plugin (whose fixture support does
    # not run under pytest 9): one hypothesis run per operation, inside this test's
    # rolled-back transaction.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    headers = {"Authorization": f"Bearer {fuzz_world['token']}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            params = case.path_parameters or {}
            if "reference" in params:
                params["reference"] = fuzz_world["reference"]
            if "attachment_id" in params:
                params["attachment_id"] = fuzz_world["attachment_id"]
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
