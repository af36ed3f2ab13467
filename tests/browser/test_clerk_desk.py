"""Where a clerk, a supervisor and an admin stand (issue 14): the notifications list, the
admin pages (token role and expiry, password reset, the executing authorities' users) and
the evidence of a confidential request.

Tests take ``live`` before ``page`` so that the browser closes before the server does."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from mla.db import utcnow
from tests.browser.conftest import screenshot, sign_in, sign_out
from tests.factories import MLA_FIELDS, PASSWORD


def _in_app(live: Any, username: str) -> tuple[int, int]:
    """(all, unread) in-app messages of ``username``."""
    from mla.authorities.service import get_user
    from mla.db import get_session
    from mla.notify.models import Channel, Notification

    with live.app.app_context():
        db = get_session()
        user = get_user(db, username)
        mine = select(func.count()).where(
            Notification.user_id == user.id, Notification.channel == Channel.IN_APP
        )
        return (
            int(db.scalar(mine) or 0),
            int(db.scalar(mine.where(Notification.read_at.is_(None))) or 0),
        )


def _escalate(live: Any) -> None:
    """MEX-FGR without a supervisor account (its supervisor left), and the worker firing
    the overdue acknowledgement's steps at once: its admin receives two steps of it."""
    from mla.authorities.service import get_user
    from mla.db import get_session
    from mla.notify.sweeper import sweep

    with live.app.app_context():
        db = get_session()
        get_user(db, "mex_supervisor").active = False
        db.flush()
        result = sweep(db, live.app.extensions["mla.engines"], utcnow())
        assert result.fired >= 3
        db.commit()


def _bell(page: Any) -> int:
    return int(page.locator(".bell-count").inner_text())


def test_notifications_newest_first_opened_read_one_per_escalation_in_my_language(page, live):
    _escalate(live)
    # The clerk: the escalation (now) above the arrival (20 days ago); opening one reads it.
    sign_in(page, live, "mex_clerk")
    page.goto(f"{live.url}/notifications")
    items = page.locator("ul.notifications > li")
    assert items.count() == 2 and _bell(page) == 2
    assert "Acknowledge receipt" in items.nth(0).inner_text()
    assert "is now with MEX-FGR" in items.nth(1).inner_text()
    screenshot(page, "30-notifications")
    items.nth(0).get_by_role("link").click()
    page.wait_for_url(f"{live.url}/requests/{live.overdue_reference}")
    assert _bell(page) == 1
    page.goto(f"{live.url}/notifications")
    assert page.locator("ul.notifications > li").count() == 1
    sign_out(page)

    # The admin got two steps of one escalation: one entry, counted once, read at once.
    assert _in_app(live, "mex_admin") == (2, 2)
    sign_in(page, live, "mex_admin")
    page.goto(f"{live.url}/notifications")
    assert page.locator("ul.notifications > li").count() == 1 and _bell(page) == 1
    # In the reader's current language, whatever language it was written in.
    page.get_by_label("Language").select_option("es")
    page.locator("#language-select + button").click()
    page.goto(f"{live.url}/notifications")
    entry = page.locator("ul.notifications > li").first.inner_text()
    assert "Acusar recibo" in entry and "Acknowledge" not in entry
    screenshot(page, "31-notifications-es")
    page.get_by_role("button", name=re.compile("^Marcar como leída")).first.click()
    page.wait_for_load_state()
    assert "Ninguna notificación sin leer." in page.content() and _bell(page) == 0
    assert _in_app(live, "mex_admin") == (2, 0)


def _token_row(page: Any) -> str:
    return page.locator("table tbody tr").first.inner_text()


def test_admin_issues_a_token_with_its_role_and_expiry(page, live):
    sign_in(page, live, "mex_admin")
    page.goto(f"{live.url}/admin/tokens")
    page.get_by_label("Valid for (days)").fill("0")
    page.get_by_role("button", name="Create the token").click()
    assert "from 1 to 730" in page.locator("#token-days-error").inner_text()
    assert "No token yet." in page.content()
    page.get_by_label("Acts as").select_option("supervisor")
    page.get_by_label("Valid for (days)").fill("30")
    page.get_by_role("button", name="Create the token").click()
    secret = page.locator("#new-token").input_value()
    assert secret.startswith("mla_")
    row = _token_row(page)
    # Shown on MEX-FGR's clock, in the short English date form (12/29/26).
    expiry = (utcnow() + timedelta(days=30)).astimezone(ZoneInfo("America/Mexico_City"))
    shown = f"{expiry.month}/{expiry.day}/{expiry:%Y}"
    assert "supervisor" in row and "active" in row and shown in row
    screenshot(page, "32-admin-tokens")
    # Only its digest is stored: reloading never shows it again.
    page.goto(f"{live.url}/admin/tokens")
    assert secret not in page.content()


def test_admin_resets_a_password_of_its_executing_authority_and_the_user_must_change_it(
    page, live, browser
):
    # The executing authority's clerk is signed in elsewhere.
    other = browser.new_context(locale="en-US").new_page()
    sign_in(other, live, "court_clerk")

    sign_in(page, live, "mex_admin")
    page.goto(f"{live.url}/admin/users")
    table = page.locator("table").inner_text()
    # Its own users and MEX-FEMDO's; never another state's.
    assert "court_clerk" in table and "MEX-FEMDO" in table
    assert "arg_clerk" not in table and "col_clerk" not in table
    page.get_by_role("button", name="Reset password of court_clerk").click()
    temporary = page.locator("#one-time-password").input_value()
    assert len(temporary) >= 20
    screenshot(page, "33-admin-password-reset")
    # A user for the executing authority, added by the central authority's admin.
    page.get_by_label("Username").fill("femdo_clerk2")
    page.get_by_label("E-mail").fill("clerk2@femdo.example.org")
    page.get_by_label("Initial password").fill("Another-pass-2026")
    page.get_by_label("Authority").select_option("MEX-FEMDO")
    page.get_by_role("button", name="Add the user").click()
    page.get_by_text("User femdo_clerk2 added.").wait_for()  # the page after the POST, loaded
    assert "MEX-FEMDO" in page.locator("tr", has_text="femdo_clerk2").inner_text()
    sign_out(page)

    # The reset ended the other session at once.
    other.goto(f"{live.url}/")
    assert "/login" in other.url
    other.context.close()

    # The one-time password opens only the password page, until a new one is chosen.
    page.goto(f"{live.url}/login")
    page.get_by_label("Username").fill("court_clerk")
    page.get_by_label("Password").fill(temporary)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/account/password")
    assert "Your administrator reset your password" in page.content()
    page.goto(f"{live.url}/requests")
    assert page.url == f"{live.url}/account/password"
    page.get_by_label("Current password").fill(temporary)
    page.get_by_label("New password", exact=True).fill("Brand-new-pass-77")
    page.get_by_label("New password again").fill("Brand-new-pass-77")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url(f"{live.url}/")
    page.goto(f"{live.url}/requests")
    assert page.url == f"{live.url}/requests"
    sign_out(page)
    # The old password no longer works.
    page.goto(f"{live.url}/login")
    page.get_by_label("Username").fill("court_clerk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "Wrong username or password" in page.content()


def _confidential_with_the_court(live: Any) -> str:
    """A confidential request from ARG-DAJIN, executed by MEX-FEMDO (which has no
    supervisor), its clerk assigned by the court's head."""
    from mla.authorities.models import Role
    from mla.authorities.service import get_authority, get_user
    from mla.db import get_session
    from mla.requests.service import Actor, RequestService

    with live.app.app_context():
        db = get_session()
        svc = RequestService(db, live.app.extensions["mla.engines"])

        def actor(name: str) -> Actor:
            return Actor.for_user(get_user(db, name))

        request = svc.create(
            actor("arg_clerk"),
            kind="mla",
            requested_authority="MEX-FGR",
            legal_basis="untoc-18",
            fields=dict(MLA_FIELDS),
            confidential=True,
        )
        for who, event, inputs in (
            ("arg_clerk", "submit_for_review", {}),
            ("arg_supervisor", "sign", {}),
            ("arg_clerk", "transmit", {}),
            ("mex_clerk", "acknowledge", {}),
            ("mex_clerk", "pass_formal_review", {}),
            ("mex_supervisor", "accept", {}),
            ("mex_clerk", "assign", {"executing_authority": "MEX-FEMDO"}),
        ):
            svc.fire(request, event, actor(who), inputs=inputs)
        court = get_authority(db, "MEX-FEMDO")
        head = Actor(authority=court, role=Role.ADMIN)
        svc.assign(request, get_user(db, "court_clerk").id, head)
        db.commit()
        return request.reference


def test_confidential_evidence_is_open_to_the_parties_handling_it(page, live, tmp_path: Path):
    reference = _confidential_with_the_court(live)
    results = tmp_path / "resultados.txt"
    results.write_text("Extractos 2023-2025 de la cuenta 0123456789\n" * 50)

    # The executing clerk (its authority has no supervisor) attaches the results.
    sign_in(page, live, "court_clerk")
    page.goto(f"{live.url}/requests/{reference}")
    page.set_input_files("#evidence-file", str(results))
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("link", name="resultados.txt").wait_for(timeout=30_000)  # a busy machine
    screenshot(page, "34-confidential-executing-clerk")
    sign_out(page)

    # The requesting supervisor still reads its own request's evidence after transmission.
    sign_in(page, live, "arg_supervisor")
    page.goto(f"{live.url}/requests/{reference}")
    with page.expect_download() as info:
        page.get_by_role("link", name="resultados.txt").click()
    assert info.value.path().read_bytes() == results.read_bytes()
    sign_out(page)

    # A party's clerk who is not assigned is refused; another authority sees no request.
    sign_in(page, live, "arg_clerk")
    page.goto(f"{live.url}/requests/{reference}")
    evidence = page.locator("#evidence").inner_text()
    assert "is confidential" in evidence and "resultados.txt" not in evidence
    sign_out(page)
    sign_in(page, live, "col_clerk")
    response = page.goto(f"{live.url}/requests/{reference}")
    assert response is not None and response.status == 404
