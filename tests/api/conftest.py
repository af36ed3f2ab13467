"""Fixtures for the API tests: tokens for the shared world's authorities and a caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mla.authorities import tokens
from tests.factories import MLA_FIELDS


@dataclass
class Api:
    """Calls /api/v1 as one authority's system."""

    client: FlaskClient
    token: str

    def __call__(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> TestResponse:
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self("POST", path, **kwargs)

    def fire(self, reference: str, event: str, **inputs: Any) -> TestResponse:
        return self.post(f"/requests/{reference}/events", json={"event": event, "inputs": inputs})


@dataclass
class Callers:
    arg: Api  # requesting, clerk
    arg_supervisor: Api  # requesting, a token issued with --role supervisor
    mex: Api  # requested
    mex_supervisor: Api  # requested, a token issued with --role supervisor
    court: Api  # executing, under MEX-FGR
    col: Api  # party to nothing
    issue: Callable[..., Api]  # issue(authority, role="clerk"): a caller with a new token


@pytest.fixture
def api(client, session, world) -> Callers:
    def make(authority, role="clerk") -> Api:
        _row, token = tokens.create(session, authority, role=role)
        return Api(client, token)

    return Callers(
        arg=make(world.arg),
        arg_supervisor=make(world.arg, "supervisor"),
        mex=make(world.mex),
        mex_supervisor=make(world.mex, "supervisor"),
        court=make(world.mex_court),
        col=make(world.col),
        issue=make,
    )


NEW_REQUEST = {
    "kind": "mla",
    "requested_authority": "MEX-FGR",
    "legal_basis": "untoc-18",
    "fields": MLA_FIELDS,
}


@pytest.fixture
def drafted(api) -> str:
    """The reference of an MLA request drafted through the API by ARG-DAJIN (only ARG sees
    it: a request is the requested side's business once transmitted)."""
    response = api.arg.post("/requests", json=NEW_REQUEST)
    assert response.status_code == 201, response.json
    return response.json["reference"]


@pytest.fixture
def submitted(api, drafted) -> str:
    """The reference of an MLA request ARG-DAJIN drafted and transmitted to MEX-FGR."""
    for caller, event in (
        (api.arg, "submit_for_review"),
        (api.arg_supervisor, "sign"),
        (api.arg, "transmit"),
    ):
        response = caller.fire(drafted, event)
        assert response.status_code == 200, response.json
    return drafted
