"""Server-side sessions through the web UI: idle and absolute ends, the clean-up of old
rows, and the password form's refusals. ("Last seen" is written in a transaction of its own,
which the rolled-back test transaction would undo: tests/browser/test_sessions.py checks it
on the live server.)"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mla.authorities.models import SessionEnd, UserSession
from mla.db import utcnow
from tests.factories import PASSWORD
from tests.web.conftest import csrf, sign_in


def _session_of(session, user) -> UserSession:
    session.expire_all()
    rows = session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(rows) == 1
    return rows[0]


def test_a_session_ends_after_two_idle_hours(client, world, login, session):
    login(world.mex_clerk)
    row = _session_of(session, world.mex_clerk)
    row.last_seen_at = utcnow() - timedelta(hours=2, seconds=1)
    session.flush()
    assert client.get("/").status_code == 302


def test_a_session_ends_after_twelve_hours_however_busy(client, world, login, session):
    login(world.mex_clerk)
    row = _session_of(session, world.mex_clerk)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()
    assert client.get("/").status_code == 302


def test_sign_out_is_recorded_and_old_rows_are_cleaned_up_at_sign_in(client, world, login, session):
    login(world.mex_clerk)
    row = _session_of(session, world.mex_clerk)
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    session.refresh(row)
    assert row.ended_at is not None and row.end_reason == SessionEnd.SIGNED_OUT
    row.expires_at = utcnow() - timedelta(days=8)
    session.flush()
    old = row.id_hash
    login(world.mex_clerk)
    fresh = _session_of(session, world.mex_clerk)  # the week-old row is gone
    assert fresh.id_hash != old and fresh.ended_at is None


def test_the_password_form_names_what_is_wrong(app, client, world, login, session):
    token = login(world.mex_clerk)

    def change(current: str, new: str, confirm: str | None = None):
        form = {"current_password": current, "password": new, "confirm": confirm or new}
        return client.post("/account/password", data={**form, "csrf_token": token})

    response = change("not-my-password-1", "a-new-secret-77")
    assert response.status_code == 422 and 'id="current_password-error"' in response.text
    response = change(PASSWORD, "a-new-secret-77", "a-new-secret-78")
    assert response.status_code == 422 and 'id="confirm-error"' in response.text
    response = change(PASSWORD, "short")
    assert response.status_code == 422 and 'id="password-error"' in response.text
    # Nothing changed: the old password still signs in, and this session still lives.
    assert client.get("/").status_code == 200
    assert _session_of(session, world.mex_clerk).ended_at is None
    assert change(PASSWORD, "a-new-secret-77").status_code == 303
    assert client.get("/").status_code == 200
    elsewhere = app.test_client()
    assert sign_in(elsewhere, world.mex_clerk.username, PASSWORD).status_code == 401
    assert sign_in(elsewhere, world.mex_clerk.username, "a-new-secret-77").status_code == 302
