"""The request page and the request forms in a real browser: the path at a glance and the
whole graph on demand, every form error in one round, forms that ask only what the drafter
knows, steps recorded for an authority not on mla, confirmation of irreversible steps,
phone width, print and the favicon.

Screenshots in test-output/screenshots/ (40-*)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from mla.authorities import service as authorities
from tests.browser.conftest import Live, screenshot, sign_in
from tests.browser.test_clerk_flows import state_line
from tests.factories import new_mla

MERMAID = "/assets/vendor/mermaid/mermaid.min.js"


def _service(live: Live) -> Any:
    """The request service without the after-step hooks: signing a formal letter runs its
    own asyncio loop, which Playwright's in this thread forbids (the page tests the rest)."""
    from mla.db import get_session
    from mla.requests.service import RequestService

    return RequestService(get_session(), live.app.extensions["mla.engines"])


def _actor(username: str) -> Any:
    from sqlalchemy import select

    from mla.authorities.models import User
    from mla.db import get_session
    from mla.requests.service import Actor

    user = get_session().scalars(select(User).where(User.username == username)).one()
    return Actor.for_user(user)


def _in_spanish(page: Any, live: Live, username: str) -> None:
    sign_in(page, live, username)
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change language").click()


CURRENT_STATE_IN_VIEW = """() => {
  const frame = document.querySelector("#workflow-graph pre.mermaid");
  const node = frame && frame.querySelector("g.current");
  if (!node) { return false; }
  const f = frame.getBoundingClientRect(), n = node.getBoundingClientRect();
  return frame.scrollHeight > frame.clientHeight && n.top >= f.top && n.bottom <= f.bottom
    && n.left >= f.left && n.right <= f.right;
}"""


def test_the_path_in_spanish_and_the_whole_graph_only_when_opened(page, live):
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    _in_spanish(page, live, "mex_clerk")
    page.goto(f"{live.url}/requests/{live.overdue_reference}")
    path = page.locator("section.path")
    stops = path.locator("ol.path-stops > li")
    assert [stops.nth(i).locator(".stop-state").inner_text() for i in range(stops.count())] == [
        "Borrador", "Revisión jurídica", "Firmada", "Recibida",
    ]  # fmt: skip
    current = path.locator("li.current")
    assert current.get_attribute("aria-current") == "step"
    assert "Recibida" in current.inner_text()
    upcoming = path.locator("ul.path-next").inner_text()
    assert "Acusar recibo" in upcoming and "MEX-FGR" in upcoming
    # Withdrawing is open from every state: said once, as the requesting side's, not drawn.
    anytime = path.locator(".path-anytime").inner_text()
    assert "Retirar la solicitud" in anytime and "ARG-DAJIN" in anytime
    assert "Retirar la solicitud" not in upcoming
    assert "withdraw" not in path.inner_text() and "acknowledge" not in path.inner_text()
    assert path.bounding_box()["y"] + path.bounding_box()["height"] < 900  # no scrolling
    screenshot(page, "40-request-page-es")

    assert not [u for u in fetched if MERMAID in u]
    graph = page.locator("#workflow-graph")
    assert not graph.locator("svg").count()
    with page.expect_request(re.compile(re.escape(MERMAID))):
        graph.locator("summary").click()
    graph.locator("svg").first.wait_for()
    drawn = graph.locator("svg").first.text_content() or ""
    assert "Acusar recibo" in drawn and "acknowledge" not in drawn
    assert "Recibida (autoridad requerida)" in drawn and "(requested)" not in drawn
    assert "Retirar la solicitud" not in drawn
    # The graph is larger than its frame, which scrolls to show the current state first.
    page.wait_for_function(CURRENT_STATE_IN_VIEW)
    screenshot(page, "40-request-page-graph-es")


def test_every_error_at_once_with_a_summary_that_takes_the_focus(page, live):
    sign_in(page, live, "arg_clerk")
    page.goto(f"{live.url}/requests/new?kind=mla")
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    page.get_by_label("Assistance needed by").fill(yesterday)
    page.get_by_role("button", name="Save and submit").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    text = summary.inner_text()
    for label in (
        "Requested central authority", "Legal basis", "Subject and nature of the proceeding",
        "Assistance needed by", "Why by that date",
    ):  # fmt: skip
        assert label in text, (label, text)
    screenshot(page, "41-new-request-errors")
    summary.get_by_role("link", name=re.compile("^Legal basis")).click()
    assert page.evaluate("document.activeElement.id") == "legal_basis"
    # Reloading posts the form again; going to its address shows it: never a 405.
    response = page.reload()
    assert response.status != 405
    response = page.goto(page.url)
    assert response.status == 200 and page.locator("h1").inner_text().startswith("New request")


NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def test_a_step_with_errors_shows_them_together_and_its_address_opens_it(page, live):
    sign_in(page, live, "mex_supervisor")
    page.goto(f"{live.url}/requests/{live.overdue_reference}")
    form = page.locator('form[action$="/events/extend_decision_deadline"]')
    form.locator("xpath=..").locator("summary").click()
    form.locator("button[type=submit]").click()
    summary = page.locator("#error-summary-extend_decision_deadline")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "error-summary-extend_decision_deadline"
    assert page.url.endswith("/events/extend_decision_deadline")
    response = page.goto(page.url)
    assert response.status == 200
    opened = page.locator("details:has(form[action$='/events/extend_decision_deadline'])")
    assert opened.get_attribute("open") is not None


def test_creation_forms_ask_only_what_the_drafter_knows(page, live):
    sign_in(page, live, "arg_clerk")
    page.goto(f"{live.url}/requests/new?kind=mla")
    assert not page.locator('[name="resume_date"], [name="execution_resume_date"]').count()
    treaty = page.locator('[name="treaty"]')
    assert not treaty.is_visible()
    page.get_by_label("Legal basis").select_option("untoc-18")
    assert not treaty.is_visible()
    page.get_by_label("Legal basis").select_option("bilateral")
    assert treaty.is_visible()
    screenshot(page, "42-new-request-en")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "42-new-request-en-390")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live.url}/requests/new?kind=extradition")
    for name in ("arrest_date", "surrender_window_start", "return_date", "resume_date"):
        assert not page.locator(f'[name="{name}"]').count(), name
    text = page.locator("main").inner_text()
    assert "18.24" not in text and "18.20" not in text
    treaty = page.locator('[name="treaty"]')
    assert treaty.count() and not treaty.is_visible()


def test_the_new_request_form_in_spanish_at_both_widths(page, live):
    _in_spanish(page, live, "arg_clerk")
    page.goto(f"{live.url}/requests/new?kind=mla")
    assert page.locator("h1").inner_text().startswith("Nueva solicitud")
    screenshot(page, "42-new-request-es")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(NO_SIDEWAYS)
    screenshot(page, "42-new-request-es-390")


def test_a_closed_request_is_nobodys_turn_and_our_number_is_ours(page, live):
    with live.app.app_context():
        from mla.db import get_session

        svc = _service(live)
        arg = _actor("arg_clerk")
        draft = new_mla(svc, arg, their_reference="FF3-0042/2026")
        svc.fire(draft, "withdraw", arg, {"reasons": "Case closed at home"})
        reference = draft.reference
        get_session().commit()
    sign_in(page, live, "arg_clerk")
    page.goto(f"{live.url}/requests/{reference}")
    line = page.locator(".state-line").inner_text()
    assert "Our turn" not in line and "Closed on" in line
    assert "Our case number" in page.locator("#summary-h + dl").inner_text()
    assert "No further step" in page.locator("section.path").inner_text()
    # A request of ours the other side holds: still our number.
    page.goto(f"{live.url}/requests/{live.overdue_reference}")
    assert "Our case number" in page.locator("#summary-h + dl").inner_text()


def test_the_requested_side_reads_their_reference(page, live):
    sign_in(page, live, "mex_clerk")
    page.goto(f"{live.url}/requests/{live.overdue_reference}")
    summary = page.locator("#summary-h + dl").inner_text()
    assert "Their reference" in summary and "FF3-0001/2026" in summary


def test_a_step_recorded_for_an_authority_not_on_mla(page, live):
    from mla.db import get_session

    with live.app.app_context():
        db = get_session()
        authorities.add_authority(
            db, "PER-UCJIE", country="PE", name="Unidad de Cooperación Judicial",
            languages=["es"], timezone="America/Lima", external=True,
        )  # fmt: skip
        svc = _service(live)
        mex = _actor("mex_clerk")
        received = new_mla(
            svc, mex, requesting_authority="PER-UCJIE", channel="diplomatic_note",
            received_on=date.today() - timedelta(days=3), their_reference="UCJIE-7",
        )  # fmt: skip
        svc.fire(received, "acknowledge", mex)
        svc.fire(received, "request_information", mex, {"questions": "Which accounts?"})
        reference = received.reference
        db.commit()
    sign_in(page, live, "mex_clerk")
    page.goto(f"{live.url}/requests/{reference}")
    form = page.locator('form[action$="/events/provide_information"]')
    summary = form.locator("xpath=..").locator("summary")
    assert "Provide the information on behalf of PER-UCJIE" in summary.inner_text()
    summary.click()
    assert "which is not on mla" in form.inner_text()
    arrived = (date.today() - timedelta(days=1)).isoformat()
    form.get_by_label("Date received").fill(arrived)
    form.get_by_label("Received by").select_option("email")
    form.locator('[name="inputs.answer"]').fill("Accounts 1 and 2")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live.url}/requests/{reference}")
    assert "Formal review" in state_line(page)
    history = page.locator("ol.timeline").inner_text()
    assert "for PER-UCJIE" in history and "received on" in history and "E-mail" in history
    # Mexico's own steps are not said to be for anyone; Peru's (withdrawing) are.
    own = page.locator('form[action$="/events/pass_formal_review"]').inner_text()
    assert own == "Pass formal review"
    withdraw = page.locator('details:has(form[action$="/events/withdraw"]) > summary')
    assert withdraw.inner_text() == "Withdraw the request on behalf of PER-UCJIE…"


def test_an_irreversible_step_asks_first(page, live):
    from mla.db import get_session

    with live.app.app_context():
        svc = _service(live)
        arg = _actor("arg_clerk")
        draft = new_mla(svc, arg)
        svc.fire(draft, "submit_for_review", arg)
        reference = draft.reference
        get_session().commit()
    sign_in(page, live, "arg_supervisor")
    page.goto(f"{live.url}/requests/{reference}")
    sign = page.locator('form[action$="/events/sign"] button[type=submit]')
    sign.click()
    dialog = page.locator("dialog#confirm-sign")
    assert dialog.is_visible()
    assert "cannot be undone" in dialog.inner_text() and "Signed" in dialog.inner_text()
    screenshot(page, "43-confirm-sign")
    dialog.get_by_role("button", name="Cancel").click()
    assert not dialog.is_visible()
    page.reload()
    assert state_line(page) == "Legal review"
    sign.click()
    dialog.locator("[data-confirm-yes]").click()
    page.wait_for_url(f"{live.url}/requests/{reference}")
    assert state_line(page) == "Signed"
    # Transmitting says who will hold the request and be told.
    page.locator('form[action$="/events/transmit"] button[type=submit]').click()
    told = page.locator("dialog#confirm-transmit").inner_text()
    assert "MEX-FGR" in told and "clerks are told" in told


@pytest.fixture
def phone(browser: Any, live: Live) -> Any:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_phone_width_reads_without_sideways_scrolling(phone, live):
    page = phone
    sign_in(page, live, "mex_clerk")
    for name, path in (
        ("dashboard", "/"),
        ("request-list", "/requests"),
        ("request-page", f"/requests/{live.overdue_reference}"),
        ("new-request", "/requests/new?kind=mla"),
    ):
        page.goto(f"{live.url}{path}")
        wide = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert wide[0] <= wide[1], (name, wide)
        screenshot(page, f"44-{name}-390")
    # The list's filters, stacked: the search field is as tall as its label and input (its
    # flex basis, meant as a width, once made it 16rem tall, a blank under it).
    page.goto(f"{live.url}/requests")
    search = page.locator(".filters .field.grow").bounding_box()
    parts = [page.locator(s).bounding_box() for s in ('label[for="q"]', "#q")]
    assert search and all(parts) and search["height"] <= sum(p["height"] for p in parts) + 16
    # The common action is reachable: acknowledge from the phone.
    page.goto(f"{live.url}/requests/{live.overdue_reference}")
    assert page.get_by_role("button", name="Acknowledge receipt").is_visible()


def test_phone_width_request_page_in_spanish(phone, live):
    sign_in(phone, live, "mex_clerk")
    phone.get_by_label("Language").select_option("es")
    phone.get_by_role("button", name="Change language").click()
    phone.goto(f"{live.url}/requests/{live.overdue_reference}")
    assert phone.evaluate(NO_SIDEWAYS)
    screenshot(phone, "44-request-page-es-390")


def test_printing_a_request_gives_a_clean_record_and_pages_have_a_favicon(page, live):
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    sign_in(page, live, "mex_clerk")
    page.goto(f"{live.url}/requests/{live.overdue_reference}")
    screenshot(page, "40-request-page-en")
    page.emulate_media(media="print")
    assert not page.locator("header.top nav").is_visible()
    assert not page.locator("#workflow-graph").is_visible()
    assert not page.locator("section#actions-h, #actions-h").is_visible()
    assert page.locator("ol.path-stops").is_visible()
    assert page.locator("#timeline-h").is_visible()
    screenshot(page, "45-request-page-print")
    assert not missing, missing
    response = page.goto(f"{live.url}/favicon.ico")
    assert response.status == 200
