"""A copied session cookie replayed from another browser, against the live server: it works
while the session lives, and never again once sign-out, deactivation or a password change
has ended it (reactivation revives nothing).

Tests take ``live`` before ``page`` so that the browser closes before the server does (the
other order races the live server's shutdown against the browser's last requests)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from mla.db import utcnow
from tests.browser.conftest import sign_in, sign_out
from tests.factories import PASSWORD


def _copy_into_new_browser(browser: Any, page: Any, live: Any) -> Any:
    """A second browser holding a copy of ``page``'s cookies, as a thief would; returns its
    page, checked to be signed in with them."""
    context = browser.new_context(locale="en-US")
    context.add_cookies(page.context.cookies())
    thief = context.new_page()
    thief.goto(f"{live.url}/")
    assert thief.url == f"{live.url}/", "the copied cookie should work while the session lives"
    return thief


def _is_signed_out(page: Any, live: Any) -> bool:
    page.goto(f"{live.url}/requests")
    return page.url.startswith(f"{live.url}/login")


def test_a_copied_cookie_dies_with_sign_out(browser, live, page):
    sign_in(page, live, "mex_clerk")
    thief = _copy_into_new_browser(browser, page, live)
    sign_out(page)
    page.wait_for_url(f"{live.url}/login")
    assert _is_signed_out(thief, live)
    thief.context.close()


def test_a_copied_cookie_dies_with_deactivation_and_stays_dead_after_reactivation(
    browser, live, page
):
    sign_in(page, live, "mex_clerk")
    thief = _copy_into_new_browser(browser, page, live)
    admin = browser.new_context(locale="en-US").new_page()
    sign_in(admin, live, "mex_admin")
    admin.goto(f"{live.url}/admin/users")
    admin.get_by_role("button", name="Deactivate mex_clerk").click()
    admin.get_by_role("button", name="Reactivate mex_clerk").click()
    admin.get_by_text("mex_clerk can sign in again.").wait_for()
    assert _is_signed_out(thief, live)
    assert _is_signed_out(page, live)
    # The clerk signs in again as usual; the old cookie stays dead.
    sign_in(page, live, "mex_clerk")
    assert _is_signed_out(thief, live)
    thief.context.close()
    admin.context.close()


def test_a_password_change_ends_every_other_session(browser, live, page):
    sign_in(page, live, "mex_clerk")
    thief = _copy_into_new_browser(browser, page, live)
    page.get_by_role("link", name="Change password").click()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a-new-secret-77")
    page.get_by_label("New password again").fill("a-new-secret-77")
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Your password is changed.").wait_for()
    # The browser that changed it stays signed in, on a new session; the copy is dead.
    assert not _is_signed_out(page, live)
    assert _is_signed_out(thief, live)
    thief.context.close()


def _last_seen(live: Any, username: str, set_to: datetime | None = None) -> datetime:
    from mla.authorities.models import UserSession
    from mla.authorities.service import get_user
    from mla.db import get_session

    with live.app.app_context():
        db = get_session()
        user = get_user(db, username)
        row = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
        if set_to is not None:
            row.last_seen_at = set_to
            db.commit()
        return row.last_seen_at


def test_last_seen_is_written_at_most_once_a_minute(live, page):
    sign_in(page, live, "mex_clerk")
    seen = _last_seen(live, "mex_clerk")
    page.goto(f"{live.url}/requests")
    assert _last_seen(live, "mex_clerk") == seen  # reading pages stays reading
    earlier = _last_seen(live, "mex_clerk", set_to=utcnow() - timedelta(minutes=5))
    page.goto(f"{live.url}/requests")
    assert _last_seen(live, "mex_clerk") > earlier
