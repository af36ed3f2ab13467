"""Sign-in, lockout, CSRF, cookies and security headers of the web UI."""

from datetime import timedelta

from mla.db import utcnow
from mla.web.accounts import MAX_FAILURES
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


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, world, session):
    wrong_password = sign_in(client, world.mex_clerk.username, "not-the-password-1")
    unknown_user = sign_in(client, "nobody-at-all", "not-the-password-1")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert "Wrong username or password." in wrong_password.get_data(as_text=True)
    assert "Wrong username or password." in unknown_user.get_data(as_text=True)
    session.refresh(world.mex_clerk)
    assert world.mex_clerk.failed_logins == 1


def test_repeated_failures_lock_the_account(client, world, session):
    user = world.mex_clerk
    for _ in range(MAX_FAILURES):
        response = sign_in(client, user.username, "not-the-password-1")
    assert response.status_code == 401
    assert "locked" in response.get_data(as_text=True)
    session.refresh(user)
    assert user.locked_until is not None and user.locked_until > utcnow()
    # Even the right password is refused while locked.
    response = sign_in(client, user.username)
    assert response.status_code == 401 and "locked" in response.get_data(as_text=True)
    # Once the lock has run out, the right password works and clears the count.
    user.locked_until = utcnow() - timedelta(seconds=1)
    session.flush()
    assert sign_in(client, user.username).status_code == 302
    session.refresh(user)
    assert user.failed_logins == 0 and user.locked_until is None


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
