"""Small HTTP promises, checked as an attacker or a browser would meet them: a forged CSRF
token of any characters is a 400, never a 500; every response carries the security headers,
HSTS over https only."""

from __future__ import annotations

import pytest

HSTS = "Strict-Transport-Security"


@pytest.mark.parametrize("forged", ["é" * 43, "令牌", "\u00ff"])
def test_a_non_ascii_csrf_token_is_refused_not_a_crash(client, world, login, forged):
    login(world.mex_clerk)
    assert client.post("/logout", data={"csrf_token": forged}).status_code == 400
    # Headers travel as Latin-1: the same token there.
    latin = forged.encode("utf-8").decode("latin-1")
    assert client.post("/logout", headers={"X-CSRF-Token": latin}).status_code == 400
    assert client.get("/").status_code == 200  # still signed in


@pytest.mark.parametrize(
    "path", ["/no/such/page", "/api/v1/docs", "/api/v1/openapi.json", "/api/v1/nothing", "/login"]
)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/login", "/no/such/page", "/api/v1/docs"])
def test_hsts_only_over_https(client, path):
    assert HSTS not in client.get(path).headers
    secure = client.get(path, base_url="https://mla.example.org")
    assert secure.headers[HSTS] == "max-age=31536000"
    # A proxy's claim is not believed unless the server is told to trust it.
    assert HSTS not in client.get(path, headers={"X-Forwarded-Proto": "https"}).headers
