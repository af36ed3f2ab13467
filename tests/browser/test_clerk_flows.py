"""The clerks' UI in a real browser: the life of a request across two authorities,
evidence, deadlines, languages, scope, keyboard use and axe-core's accessibility rules.

Every run leaves a screenshot of each main page in test-output/screenshots/.
"""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import screenshot, sign_in, sign_out
from tests.factories import MLA_FIELDS

AXE = "/assets/vendor/axe-core/axe.min.js"


def act(page: Any, event: str, **inputs: str) -> None:
    """Take the action ``event`` on the open request page, filling its inputs."""
    form = page.locator(f'form[action$="/events/{event}"]')
    if inputs:
        form.locator("xpath=..").locator("summary").click()
        for name, value in inputs.items():
            form.locator(f'[name="inputs.{name}"]').select_option(value)
    form.locator("button[type=submit]").click()
    # A step that cannot be taken back asks for confirmation first.
    confirm = page.locator(f"dialog#confirm-{event}")
    if confirm.count():
        confirm.locator("[data-confirm-yes]").click()
    page.wait_for_load_state()


def state_line(page: Any) -> str:
    return page.locator(".state").inner_text()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page as it stands."""
    page.add_script_tag(url=AXE)  # served by mla itself: allowed by script-src 'self'
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def test_a_request_from_draft_to_executing_authority(page, live, tmp_path):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # Argentina drafts, submits, signs and transmits.
    page.goto(f"{live.url}/login")
    screenshot(page, "01-login")
    sign_in(page, live, "arg_clerk")
    page.get_by_role("link", name="New request").click()
    screenshot(page, "02-choose-kind")
    page.get_by_role("link", name="Mutual legal assistance", exact=True).click()
    page.get_by_label("Requested central authority").select_option("MEX-FGR")
    page.get_by_label("Legal basis").select_option("untoc-18")
    page.get_by_label("Your case number").fill("FF3-7777/2026")
    page.get_by_role("button", name="Save and submit").click()
    page.wait_for_load_state()
    # Incomplete: the missing fields are marked and nothing was saved.
    assert page.locator("#subject-error").is_visible()
    screenshot(page, "02-new-request-errors")
    for name in ("conducting_authority", "subject", "facts", "assistance_sought", "purpose"):
        page.locator(f'[name="{name}"]').fill(MLA_FIELDS[name])
    page.locator('[name="proceeding_type"]').select_option("investigation")
    page.locator("#language").fill("es")
    page.locator('input[name="assistance_types"][value="records"]').check()
    page.locator('[name="persons-0-name"]').fill("Juana Pérez")
    page.get_by_role("button", name="Save and submit").click()
    page.wait_for_url(re.compile(r".*/requests/MLA-ARG-2026-\d+$"))
    reference = page.url.rsplit("/", 1)[1]
    assert state_line(page) == "Legal review"
    screenshot(page, "03-request-submitted")
    sign_out(page)
    sign_in(page, live, "arg_supervisor")
    page.goto(f"{live.url}/requests/{reference}")
    act(page, "sign")
    act(page, "transmit")
    assert state_line(page) == "Received"
    sign_out(page)

    # Mexico's clerks hear the bell: the new request is among their unread notifications.
    sign_in(page, live, "mex_clerk")
    bell = page.locator("a.bell")
    before = int(bell.locator(".bell-count").inner_text())
    assert before >= 1
    bell.click()
    item = page.locator("ul.notifications li").filter(has_text=reference)
    # The link opens the request through the bell, which marks the message read.
    assert re.fullmatch(r"/notifications/\d+/open", item.get_by_role("link").get_attribute("href"))
    screenshot(page, "03-notifications")
    item.get_by_role("button", name="Mark as read").click()
    assert int(page.locator("a.bell .bell-count").inner_text()) == before - 1
    assert reference not in page.locator("main").inner_text()
    sign_out(page)

    # Mexico acknowledges, reviews, accepts, names the executing authority and assigns.
    sign_in(page, live, "mex_supervisor")
    assert reference in page.locator("#queue-h + p + table").inner_text()
    page.goto(f"{live.url}/requests/{reference}")
    act(page, "acknowledge")
    page.get_by_label("Assign to").select_option(label="mex_clerk (clerk)")
    page.get_by_role("button", name="Assign", exact=True).click()
    assert "Assigned to mex_clerk." in page.locator(".flash").first.inner_text()
    act(page, "pass_formal_review")
    act(page, "accept")
    act(page, "assign", executing_authority="MEX-FEMDO")
    assert state_line(page) == "Assigned to the executing authority" or "MEX-FEMDO" in (
        page.locator("#parties-h + dl").inner_text()
    )
    history = page.locator(".timeline").inner_text()
    assert "Acknowledge receipt" in history and "mex_supervisor (MEX-FGR)" in history

    # Evidence: upload with progress, then download the same bytes.
    sample = tmp_path / "bank-statement.txt"
    sample.write_text("Cuenta 0123456789: movimientos 2023-2025\n" * 200)
    page.set_input_files("#evidence-file", str(sample))
    page.get_by_role("button", name="Upload").click()
    link = page.get_by_role("link", name="bank-statement.txt")
    link.wait_for()
    with page.expect_download() as info:
        link.click()
    assert info.value.path().read_bytes() == sample.read_bytes()
    screenshot(page, "04-request-page")
    page.goto(f"{live.url}/workload")
    screenshot(page, "05-workload")
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_overdue_deadlines_on_the_dashboard_and_the_list(page, live):
    sign_in(page, live, "mex_clerk")
    alarm = page.locator("section.alarm")
    assert "1 deadline is overdue" in alarm.inner_text()
    assert live.overdue_reference in alarm.inner_text()
    screenshot(page, "06-dashboard-overdue")
    page.get_by_role("link", name="Requests", exact=True).click()
    page.get_by_label("Overdue only").check()
    page.get_by_role("button", name="Apply").click()
    assert live.overdue_reference in page.locator("table.list").inner_text()
    screenshot(page, "07-request-list")


def test_switching_language_is_remembered(page, live):
    sign_in(page, live, "mex_clerk")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change language").click()
    assert page.locator("h1").first.inner_text().startswith("Panel")
    assert page.locator("html").get_attribute("lang") == "es"
    screenshot(page, "08-dashboard-es")
    page.get_by_role("button", name="Cerrar sesión").click()
    sign_in_es(page, live, "mex_clerk")
    page.goto(f"{live.url}/requests/{live.overdue_reference}")
    assert "Recibida" in state_line(page) and "Acusar recibo" in page.content()
    screenshot(page, "09-request-page-es")
    for lang, title in (("fr", "Tableau de bord"), ("pt", "Painel")):
        page.goto(f"{live.url}/")
        page.get_by_label(re.compile("Idioma|Langue|Language")).select_option(lang)
        page.locator("#language-select + button").click()
        assert page.locator("h1").first.inner_text().startswith(title)


def sign_in_es(page: Any, live: Any, username: str) -> None:
    from tests.factories import PASSWORD

    page.goto(f"{live.url}/login")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(f"{live.url}/")


def test_another_authoritys_request_is_a_not_found_page(page, live):
    sign_in(page, live, "col_clerk")
    response = page.goto(f"{live.url}/requests/{live.overdue_reference}")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    screenshot(page, "10-not-found")


def test_sign_in_with_the_keyboard_only(page, live):
    from tests.factories import PASSWORD

    page.goto(f"{live.url}/login")
    # The username field has the focus; going back reaches every header control and the
    # skip link, going forward comes back to it.
    assert page.evaluate("document.activeElement.id") == "username"
    seen = []
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        seen.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
    assert {"language-select", "skip"} <= set(seen), seen
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "username":
            break
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("mex_clerk")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live.url}/")


def _admin_rows(live: Any) -> None:
    """A webhook, an undelivered e-mail and a closure day, so that the admin pages' tables
    and their buttons are checked too, not only their empty states."""
    from datetime import date

    from mla.authorities.models import Role
    from mla.authorities.service import get_authority
    from mla.db import get_session, utcnow
    from mla.deadlines.closures import add_closure
    from mla.keyring import app_keyring
    from mla.notify.models import Channel, Notification, Status
    from mla.notify.subscriptions import SubscriptionService
    from mla.requests.scope import Actor

    with live.app.app_context():
        db = get_session()
        mex = get_authority(db, "MEX-FGR")
        SubscriptionService(db, keyring=app_keyring(live.app), allow_private=True).add(
            Actor(authority=mex, role=Role.ADMIN), "https://hooks.example.org/mla"
        )
        add_closure(db, mex, date(2026, 12, 24), "Nochebuena")
        db.add(
            Notification(
                channel=Channel.EMAIL, event="deadline.escalated", authority_id=mex.id,
                address="guardia@fgr.example.org", subject="Overdue", payload={"text": "x"},
                status=Status.DEAD, attempts=8, last_error="550 mailbox unavailable",
                created_at=utcnow(),
            )
        )  # fmt: skip
        db.commit()


def test_main_pages_have_no_serious_accessibility_violations(page, live):
    _admin_rows(live)
    sign_in(page, live, "mex_admin")
    pages = {
        "dashboard": "/",
        "request-list": "/requests",
        "new-request": "/requests/new",
        "record-received": "/requests/received?kind=mla",
        "request-page": f"/requests/{live.overdue_reference}",
        "workload": "/workload",
        "admin-users": "/admin/users",
        "admin-tokens": "/admin/tokens",
        "admin-directory": "/admin/directory",
        "admin-webhooks": "/admin/webhooks",
        "admin-notifications": "/admin/notifications",
        "admin-closures": "/admin/closures",
        "notifications": "/notifications",
        "account-password": "/account/password",
    }
    found = {}
    for name, path in pages.items():
        page.goto(f"{live.url}{path}")
        screenshot(page, f"20-{name}")
        violations = axe_violations(page)
        if violations:
            found[name] = violations
    sign_out(page)
    # The draft editor, as the requesting authority that owns the draft.
    sign_in(page, live, "arg_clerk")
    page.goto(f"{live.url}/requests/{live.arg_only_reference}/edit")
    screenshot(page, "20-edit-request")
    if axe_violations(page):
        found["edit-request"] = axe_violations(page)
    sign_out(page)
    page.goto(f"{live.url}/login")
    if axe_violations(page):
        found["login"] = axe_violations(page)
    assert not found, found
