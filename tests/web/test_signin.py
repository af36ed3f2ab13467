"""Sign-in, throttling, CSRF, cookies and security headers of the web UI."""

import re

import pytest

from tests.web.conftest import csrf, sign_in


def test_pages_need_a_signed_in_user(client, world):
    response = client.get("/requests")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/requests")


def test_sign_in_and_out(client, world, session):
    response = sign_in(client, world.mex_clerk.username)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert world.mex_clerk.username in page and "MEX-FGR" in page
    session.refresh(world.mex_clerk)
    assert world.mex_clerk.last_login_at is not None
    token = csrf(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client, world):
    token = csrf(client)
    form = {"username": world.mex_clerk.username, "password": "correct-horse-42"}
    response = client.post("/login", data={**form, "csrf_token": token, "next": "/requests"})
    assert response.headers["Location"] == "/requests"
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    token = csrf(client)
    response = client.post("/login", data={**form, "csrf_token": token, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


REFUSED = "Wrong username or password. If you are sure they are right, wait a few minutes"
_CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]+"')


def _refusal(response, username: str) -> tuple[int, str]:
    """Status and page of a refused sign-in, less what differs by design: the username the
    form gives back and the client's own CSRF token."""
    page = response.get_data(as_text=True).replace(f'value="{username}"', 'value="?"')
    return response.status_code, _CSRF_VALUE.sub("", page)


def _from(client, address: str):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_every_refused_sign_in_gets_the_same_answer(app, world, session):
    """Unknown user, wrong password, inactive user and a throttled address with the right
    password: the same status and the same page, so none tells which usernames exist."""
    client = _from(app.test_client(), "203.0.113.5")
    clerk = world.mex_clerk
    unknown = _refusal(sign_in(client, "nobody-at-all", "not-the-password-1"), "nobody-at-all")
    wrong = _refusal(sign_in(client, clerk.username, "not-the-password-1"), clerk.username)
    world.col_clerk.active = False
    session.flush()
    inactive = _refusal(sign_in(client, world.col_clerk.username), world.col_clerk.username)
    for _ in range(5):
        sign_in(client, clerk.username, "not-the-password-1")
    throttled = _refusal(sign_in(client, clerk.username), clerk.username)  # right password
    assert unknown[0] == 401 and REFUSED in unknown[1]
    assert unknown == wrong == inactive == throttled


def test_an_outsider_cannot_lock_a_clerk_out(app, world):
    clerk = world.mex_clerk
    attacker = _from(app.test_client(), "203.0.113.66")
    for _ in range(12):
        assert sign_in(attacker, clerk.username, "guess-guess-1").status_code == 401
    # The attacker's address is throttled: even the right password gets nowhere from there...
    assert sign_in(attacker, clerk.username).status_code == 401
    # ...while the clerk, at their own desk, signs in as usual.
    desk = _from(app.test_client(), "198.51.100.7")
    assert sign_in(desk, clerk.username).status_code == 302
    assert desk.get("/").status_code == 200


def test_a_clerk_who_mistypes_is_forgiven_on_signing_in(app, world):
    client = _from(app.test_client(), "198.51.100.7")
    for _ in range(2):
        for _ in range(4):
            assert sign_in(client, world.mex_clerk.username, "typo-typo-1").status_code == 401
        assert sign_in(client, world.mex_clerk.username).status_code == 302
        client.post("/logout", data={"csrf_token": csrf(client, "/")})


def test_one_address_guessing_across_accounts_is_throttled(app, world):
    guesser = _from(app.test_client(), "203.0.113.77")
    # 49 failures across many accounts, recorded as sign-in would (scrypt makes the real
    # thing take a minute), then the 50th through the form.
    throttle = app.extensions["mla.signin_throttle"]
    for n in range(49):
        throttle.failed("203.0.113.77", f"someone{n}")
    assert sign_in(guesser, "someone-else", "guess-guess-1").status_code == 401
    assert sign_in(guesser, world.mex_clerk.username).status_code == 401
    desk = _from(app.test_client(), "198.51.100.7")
    assert sign_in(desk, world.mex_clerk.username).status_code == 302


@pytest.mark.parametrize("proxies", [0, 1])
def test_the_throttled_address_is_the_one_the_proxies_vouch_for(
    proxies, database_url, connection, tmp_path, world
):
    """Behind one trusted proxy, clients are told apart by X-Forwarded-For; with none, the
    header is the client's own claim and changes nothing."""
    from mla import create_app
    from tests.conftest import _joined_sessionmaker

    app = create_app(
        {
            "TESTING": True,
            "MLA_INSTANCE_DIR": str(tmp_path / "instance"),
            "MLA_DATABASE_URL": database_url,
            "MLA_TRUSTED_PROXIES": str(proxies),
        }
    )
    app.extensions["mla.db"].sessionmaker = _joined_sessionmaker(connection)
    attacker = _from(app.test_client(), "10.0.0.2")  # the proxy's address
    attacker.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.66"
    for _ in range(6):
        sign_in(attacker, world.mex_clerk.username, "guess-guess-1")
    desk = _from(app.test_client(), "10.0.0.2")
    desk.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
    expected = 302 if proxies else 401  # without a trusted proxy, both are 10.0.0.2
    assert sign_in(desk, world.mex_clerk.username).status_code == expected
    app.extensions["mla.db"].engine.dispose()


def test_a_post_without_the_csrf_token_is_rejected(client, world, login):
    response = client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    login(world.mex_clerk)
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_security_headers_and_cookie_flags(client, world):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "<script>" not in response.get_data(as_text=True)  # no inline script


def test_the_session_cookie_is_secure_behind_https(database_url, tmp_path):
    from mla import create_app

    app = create_app(
        {
            "TESTING": True,
            "MLA_INSTANCE_DIR": str(tmp_path / "i"),
            "MLA_DATABASE_URL": database_url,
            "MLA_BASE_URL": "https://mla.example.org",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    app.extensions["mla.db"].engine.dispose()


def test_healthz_answers_without_signing_in(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_the_language_choice_is_remembered(client, world, login, session):
    token = login(world.mex_clerk)
    response = client.post("/language", data={"language": "es", "csrf_token": token})
    assert response.status_code == 302
    session.refresh(world.mex_clerk)
    assert world.mex_clerk.language == "es"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="es">' in page
