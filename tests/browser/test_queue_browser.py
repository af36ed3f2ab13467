"""A clerk's queue, list and directory in a real browser: the dashboard past 50 requests, the
list paged back and forth with its count, saved filters, the CSV download, a supervisor's bulk
assignment (and a clerk without it), the directory, and the languages hint of a new request.

Screenshots of the dashboard, list and directory in English and Spanish are left in
test-output/screenshots/.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from typing import Any

import pytest

from mla.authorities import service as authorities
from mla.db import get_session
from mla.deadlines import closures
from mla.requests.service import Actor, RequestService
from tests.browser.conftest import Live, screenshot, sign_in, sign_out, texts
from tests.browser.test_clerk_flows import axe_violations
from tests.factories import new_mla

# More than the 50 rows the dashboard used to stop at, silently.
MANY = 61


def _send(live: Live, count: int, **kwargs: Any) -> list[str]:
    """``count`` MLA requests ARG-DAJIN sends (to MEX-FGR unless said otherwise), committed."""
    with live.app.app_context():
        db = get_session()
        svc = RequestService(db, live.app.extensions["mla.engines"])
        clerk = Actor.for_user(authorities.get_user(db, "arg_clerk"))
        supervisor = Actor.for_user(authorities.get_user(db, "arg_supervisor"))
        sent = []
        for n in range(count):
            request = new_mla(svc, clerk, their_reference=f"SENT-{n:03}", **kwargs)
            svc.fire(request, "submit_for_review", clerk)
            svc.fire(request, "sign", supervisor)
            svc.fire(request, "transmit", clerk)
            sent.append(request.reference)
        db.commit()
        return sent


def _switch_language(page: Any, lang: str) -> None:
    page.locator("#language-select").select_option(lang)
    page.locator("#language-select + button").click()
    page.wait_for_load_state()


def _queue_references(page: Any) -> list[str]:
    return texts(page.locator("#queue tbody tr td:first-child a"))


@pytest.fixture
def many(live: Live) -> list[str]:
    return _send(live, MANY)


def test_the_dashboard_queue_shows_every_request_we_hold(page, live, many):
    sign_in(page, live, "mex_clerk")
    held = MANY + 1  # and the seeded one whose acknowledgement is overdue
    assert page.locator(".count").first.inner_text().startswith(str(held))
    assert page.locator("#queue-h").inner_text() == f"Our queue ({held})"
    # Due soon is not pushed below a long queue.
    due = page.locator("#due-h").bounding_box()
    queue = page.locator("#queue-h").bounding_box()
    assert due is not None and queue is not None and due["y"] < queue["y"]
    first = _queue_references(page)
    assert len(first) == 50
    # The nearest deadline first: the overdue one leads, marked as such.
    assert first[0] == live.overdue_reference
    lead = page.locator("#queue tbody tr").first
    assert "Overdue" in lead.inner_text() and "Acknowledge" in lead.inner_text()
    assert "nobody" in lead.inner_text()
    assert page.get_by_text(f"1\u201350 of {held}").is_visible()
    screenshot(page, "queue-01-dashboard")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Next page").first.click()
    page.wait_for_url(re.compile(r".*\?queue=2"))
    rest = _queue_references(page)
    assert len(rest) == held - 50 and not set(rest) & set(first)
    assert set(first) | set(rest) == set(many) | {live.overdue_reference}
    assert page.get_by_text(f"51\u2013{held} of {held}").is_visible()
    page.get_by_role("link", name="Previous page").first.click()
    assert _queue_references(page) == first
    _switch_language(page, "es")
    assert page.locator("#queue-h").inner_text() == f"Nuestra bandeja ({held})"
    assert "Acusar recibo" in page.locator("#queue").inner_text()
    screenshot(page, "queue-02-dashboard-es")
    _switch_language(page, "en")
    sign_out(page)
    # The requesting side chases the acknowledgement Mexico owes.
    sign_in(page, live, "arg_clerk")
    waiting = page.locator("#waiting")
    assert live.overdue_reference in waiting.inner_text() and "MEX-FGR" in waiting.inner_text()


def test_the_list_counts_pages_back_and_forth_and_saves_filters(page, live, many):
    sign_in(page, live, "arg_clerk")
    page.get_by_role("link", name="Requests", exact=True).click()
    total = MANY + 2  # with the two the live server was seeded with
    assert page.locator("h1").inner_text() == f"Requests ({total})"
    page.get_by_label("Per page").select_option("25")
    page.get_by_label("Sort by").select_option("reference")
    page.get_by_role("button", name="Apply").click()
    pages = [texts(page.locator("table.list tbody tr td:nth-child(1) a"))]
    assert len(pages[0]) == 25 and "Page 1" in page.locator(".pager").inner_text()
    screenshot(page, "queue-03-list")
    assert axe_violations(page) == []
    for number in (2, 3):
        page.get_by_role("link", name="Next page").click()
        assert f"Page {number}" in page.locator(".pager").inner_text()
        pages.append(texts(page.locator("table.list tbody tr td:nth-child(1) a")))
    assert [len(p) for p in pages] == [25, 25, total - 50]
    seen = [ref for p in pages for ref in p]
    assert seen == sorted(seen) and len(set(seen)) == total
    page.get_by_role("link", name="Previous page").click()
    assert "Page 2" in page.locator(".pager").inner_text()
    assert texts(page.locator("table.list tbody tr td:nth-child(1) a")) == pages[1]
    page.get_by_role("link", name="Previous page").click()
    assert texts(page.locator("table.list tbody tr td:nth-child(1) a")) == pages[0]
    assert page.get_by_role("link", name="Previous page").count() == 0
    # Saved filters: urgent, then overdue, then mine (nothing is assigned to arg_clerk).
    saved = page.get_by_role("navigation", name="Saved filters")
    saved.get_by_role("link", name="Overdue").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Requests (0)" or "No request matches." in (
        page.content()
    )
    saved = page.get_by_role("navigation", name="Saved filters")
    assert saved.get_by_role("link", name="Overdue").get_attribute("aria-current") == "page"
    saved.get_by_role("link", name="My requests").click()
    page.wait_for_load_state()
    assert "No request matches." in page.content()
    page.get_by_role("navigation", name="Saved filters").get_by_role(
        "link", name="All requests"
    ).click()
    assert page.locator("h1").inner_text() == f"Requests ({total})"
    _switch_language(page, "es")
    assert page.locator("h1").inner_text() == f"Solicitudes ({total})"
    screenshot(page, "queue-04-list-es")


def test_urgent_and_mine_filters_and_the_csv_download(page, live, tmp_path):
    urgent = _send(live, 2, urgency="urgent")
    _send(live, 3)
    sign_in(page, live, "mex_supervisor")
    page.goto(f"{live.url}/requests")
    page.get_by_role("navigation", name="Saved filters").get_by_role("link", name="Urgent").click()
    shown = texts(page.locator("table.list tbody tr td:nth-child(2) a"))
    assert sorted(shown) == sorted(urgent)
    # The download holds what the filter shows, every page of it.
    with page.expect_download() as info:
        page.get_by_role("link", name="Download these requests (CSV)").click()
    path = tmp_path / "requests.csv"
    info.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    assert rows[0][:4] == ["Reference", "Their reference", "Kind", "State"]
    assert sorted(r[0] for r in rows[1:]) == sorted(urgent)
    assert {r[8] for r in rows[1:]} == {"Urgent"}
    # The whole list: Mexico's own, never the request between Argentina and Colombia.
    page.goto(f"{live.url}/requests")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download these requests (CSV)").click()
    info.value.save_as(path)
    references = [r[0] for r in csv.reader(io.StringIO(path.read_text("utf-8-sig")))][1:]
    assert len(references) == 2 + 3 + 1 and live.arg_only_reference not in references


def test_a_supervisor_assigns_ticked_requests_and_a_clerk_cannot(page, live):
    sent = _send(live, 4)
    sign_in(page, live, "mex_clerk")
    page.goto(f"{live.url}/requests?holder=us")
    assert page.locator("#bulk-assign").count() == 0
    assert page.locator('input[name="reference"]').count() == 0
    sign_out(page)
    sign_in(page, live, "mex_supervisor")
    page.goto(f"{live.url}/requests?holder=us&sort=reference")
    for reference in sent[:2]:
        page.get_by_label(f"Select {reference}").check()
    page.get_by_label("to", exact=True).select_option(label="mex_clerk (clerk)")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_text("2 requests assigned to mex_clerk.").is_visible()
    # Back on the same filtered list; the two rows now name their clerk, the others nobody.
    assert "holder=us" in page.url
    for reference in sent:
        row = page.locator("table.list tbody tr", has=page.locator(f'a:text-is("{reference}")'))
        assert ("mex_clerk" if reference in sent[:2] else "nobody") in row.inner_text()
    sign_out(page)
    sign_in(page, live, "mex_clerk")
    page.get_by_role("link", name="Requests", exact=True).click()
    page.get_by_role("navigation", name="Saved filters").get_by_role(
        "link", name="My requests"
    ).click()
    mine = texts(page.locator("table.list tbody tr td:nth-child(1) a"))
    assert sorted(mine) == sorted(sent[:2])


def _furnish_directory(live: Live) -> None:
    with live.app.app_context():
        db = get_session()
        arg = authorities.get_authority(db, "ARG-DAJIN")
        authorities.update_directory_entry(
            db,
            arg,
            languages=["es", "en"],
            contact_points=[{"name": "Mesa de entradas", "email": "mesa@dajin.example.ar"}],
        )
        closures.add_closure(db, arg, date.today() + timedelta(days=10), "Feriado puente")
        closures.add_closure(db, arg, date.today() - timedelta(days=10), "Ya pasó")
        db.commit()


def test_the_directory_and_the_languages_of_a_new_request(page, live):
    _furnish_directory(live)
    sign_in(page, live, "mex_clerk")
    page.get_by_role("link", name="Directory").click()
    assert page.locator("h1").inner_text() == "Directory"
    arg = page.locator("#authority-ARG-DAJIN")
    text = arg.inner_text()
    assert "Spanish" in text and "English" in text and "mesa@dajin.example.ar" in text
    assert "America/Argentina/Buenos_Aires" in text and "Feriado puente" in text
    assert "Ya pasó" not in text
    # Colombia and Mexico's own executing authority too; not Mexico itself.
    assert page.locator("#authority-COL-FGN").count() == 1
    assert page.locator("#authority-MEX-FEMDO").count() == 1
    assert page.locator("#authority-MEX-FGR").count() == 0
    screenshot(page, "queue-05-directory")
    assert axe_violations(page) == []
    _switch_language(page, "es")
    assert page.locator("h1").inner_text() == "Directorio"
    assert "español" in page.locator("#authority-ARG-DAJIN").inner_text()
    screenshot(page, "queue-06-directory-es")
    _switch_language(page, "en")
    sign_out(page)
    # Argentina writes to Mexico: the form says which languages Mexico accepts.
    errors: list[str] = []  # the script's own errors (the 422 answer is the console's)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live, "arg_clerk")
    page.goto(f"{live.url}/requests/new?kind=mla")
    hint = page.locator("#requested_authority-help")
    assert "Choose the authority" in hint.inner_text()
    page.get_by_label("Requested central authority").select_option("MEX-FGR")
    assert hint.inner_text() == "Accepts requests in: Spanish, English"
    # Sent back with errors, the page says it again without the script.
    page.get_by_role("button", name="Save and submit").click()
    assert page.locator("#requested_authority-help").inner_text() == (
        "Accepts requests in: Spanish, English"
    )
    assert errors == []
