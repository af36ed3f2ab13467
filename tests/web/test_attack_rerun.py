"""What the attack re-run of issue 12 found still open, each at the depth an attacker stands:
a ``next`` that a crafted link puts in the sign-in form, and a search that a clerk types."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.web.conftest import csrf


@pytest.mark.parametrize("target", ["/\r\nSet-Cookie: x=1", "/requests\n", "/requests\r"])
def test_a_next_with_a_line_break_goes_home_not_a_crash(client, world, target):
    # Python's urlsplit drops tabs and newlines before looking, so such a target once looked
    # like a path here and then made an invalid Location header: a 500 on every sign-in
    # reached through a crafted link.
    form = {"username": world.arg_clerk.username, "password": PASSWORD}
    response = client.post("/login", data={**form, "csrf_token": csrf(client), "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    # Signed in, the sign-in page sends on at once: the same target, the same answer.
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    response = client.post(
        "/language", data={"language": "es", "next": target, "csrf_token": csrf(client, "/")}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_an_underscore_in_a_search_is_the_character_not_a_wildcard(
    client, world, new_mla, login
):
    # "Lavado_de" must not find "Lavado de": LIKE's "_" stands for any one character.
    new_mla(their_reference="CASE-UNDERSCORE")
    login(world.arg_clerk)
    assert "CASE-UNDERSCORE" in client.get("/requests?q=Lavado de").get_data(as_text=True)
    page = client.get("/requests?q=Lavado_de").get_data(as_text=True)
    assert "CASE-UNDERSCORE" not in page
