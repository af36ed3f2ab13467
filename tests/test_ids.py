"""Ids from users that no row can have are "not found", never a server error."""

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
