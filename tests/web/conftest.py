"""Helpers for the web UI's test-client tests: sign in, read CSRF tokens from pages."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: FlaskClient, path: str = "/login") -> str:
    """The session's CSRF token, as the page at ``path`` puts it in its forms."""
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD):
    token = csrf(client)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.fixture
def login(client):
    """``login(user)`` signs ``client`` in as ``user`` and returns a fresh CSRF token."""

    def do(user) -> str:
        response = sign_in(client, user.username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return csrf(client, "/")

    return do
