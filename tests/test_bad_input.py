"""Input no database could store is refused with a clear answer, never a server error."""

import pytest

from mla.db import MAX_ID, parse_id


@pytest.mark.parametrize("value", ["0", "-1", "²", "1e400", "9" * 30, str(MAX_ID + 1), "", True])
def test_impossible_ids_parse_to_none(value):
    assert parse_id(value) is None


def test_possible_ids_parse():
    assert parse_id("42") == 42 and parse_id(str(MAX_ID)) == MAX_ID and parse_id(7) == 7


def test_huge_ids_in_urls_are_not_found(client):
    assert client.get("/requests/MLA-ARG-2026-00001/evidence/" + "9" * 30).status_code == 404
    response = client.delete("/api/v1/subscriptions/" + "9" * 30)
    assert response.status_code in (401, 404)  # no token: 401 first; never a 500


def test_nul_characters_are_refused_at_the_door(client, session, world):
    from mla.authorities import tokens

    _row, token = tokens.create(session, world.arg)
    auth = {"Authorization": f"Bearer {token}"}
    listing = client.get("/api/v1/requests?state=a%00b", headers=auth)
    assert listing.status_code == 422 and listing.json["errors"][0]["field"] == "state"
    created = client.post(
        "/api/v1/requests",
        headers=auth,
        json={"kind": "mla", "requested_authority": "MEX-FGR", "legal_basis": "untoc-18",
              "fields": {"subject": "a\u0000b"}},
    )  # fmt: skip
    assert created.status_code == 422
    assert client.get("/api/v1/requests/MLA%00", headers=auth).status_code == 404
    assert client.post("/login", data={"username": "a\x00", "password": "x"}).status_code == 400
