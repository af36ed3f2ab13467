"""The clerk's queue and list through the test client: the CSV export's scope and cells,
bulk assignment by a supervisor, the list's count and paging back, the dashboard's pages."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mla.audit.models import Event
from mla.db import utcnow
from mla.deadlines.models import Deadline
from mla.requests.models import Request


@pytest.fixture
def transmitted(service, world, new_mla):
    """``transmitted(**overrides)``: an MLA request ARG-DAJIN sent (to MEX-FGR by default)."""

    def make(**kwargs):
        request = new_mla(**kwargs)
        service.fire(request, "submit_for_review", world.actor(world.arg_clerk))
        service.fire(request, "sign", world.actor(world.arg_supervisor))
        service.fire(request, "transmit", world.actor(world.arg_clerk))
        return request

    return make


def _csv(client, query=""):
    response = client.get(f"/requests.csv{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def _references(rows):
    return {row[0] for row in rows[1:]}


def test_csv_export_holds_only_what_our_authority_may_see(
    client, world, transmitted, new_mla, login
):
    to_mex = transmitted(their_reference="TO-MEX")
    to_col = transmitted(requested_authority="COL-FGN", their_reference="TO-COL")
    draft = new_mla(their_reference="DRAFT")
    token = login(world.mex_clerk)
    assert _references(_csv(client)) == {to_mex.reference}
    # Asking for the other authority by name does not widen the scope.
    assert _references(_csv(client, "?counterpart=COL-FGN")) == set()
    assert _references(_csv(client, "?q=TO-COL")) == set()
    client.post("/logout", data={"csrf_token": token})
    token = login(world.col_clerk)
    assert _references(_csv(client)) == {to_col.reference}
    client.post("/logout", data={"csrf_token": token})
    login(world.arg_clerk)
    assert _references(_csv(client)) == {to_mex.reference, to_col.reference, draft.reference}
    # The list's filter applies: held by the other side, only what was sent.
    assert _references(_csv(client, "?holder=them")) == {to_mex.reference, to_col.reference}


def test_csv_cells_never_run_as_formulas(client, world, new_mla, login):
    for their in ('=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "ok=1"):
        new_mla(their_reference=their)
    login(world.arg_clerk)
    rows = _csv(client, "?sort=reference")
    assert rows[0][:2] == ["Reference", "Their reference"]
    theirs = sorted(row[1] for row in rows[1:])
    assert theirs == sorted(
        ['\'=HYPERLINK("http://evil.example","x")', "'+1+1", "'-2+3", "'@SUM(A1)", "ok=1"]
    )


def test_csv_streams_every_page_in_the_lists_order(client, world, new_mla, login, monkeypatch):
    from mla.web.views import list_actions

    monkeypatch.setattr(list_actions, "EXPORT_BATCH", 2)
    made = sorted(new_mla(their_reference=f"CASE-{n}").reference for n in range(5))
    login(world.arg_clerk)
    rows = _csv(client, "?sort=reference")
    assert [row[0] for row in rows[1:]] == made


def test_csv_with_a_bad_filter_goes_back_to_the_list(client, world, login):
    login(world.arg_clerk)
    response = client.get("/requests.csv?counterpart=NOPE")
    assert response.status_code == 303 and response.headers["Location"].endswith("/requests")


def _assigned_events(session, request):
    return session.scalar(
        select(func.count()).where(Event.request_id == request.id, Event.kind == "assigned")
    )


def test_a_supervisor_assigns_ticked_requests_one_event_each(
    client, world, transmitted, login, session
):
    first, second, left = transmitted(), transmitted(), transmitted()
    token = login(world.mex_supervisor)
    page = client.get("/requests").get_data(as_text=True)
    assert 'id="bulk-assign"' in page and f'value="{first.reference}"' in page
    response = client.post(
        "/requests/assign",
        data={
            "csrf_token": token,
            "assignee": world.mex_clerk.id,
            "reference": [first.reference, second.reference],
            "next": "/requests?holder=us",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/requests?holder=us")
    for request in (first, second):
        session.refresh(request)
        assert request.assignee_id_for(world.mex_clerk.authority_id) == world.mex_clerk.id
        assert _assigned_events(session, request) == 1
    session.refresh(left)
    assert (
        left.assignee_id_for(world.mex_clerk.authority_id) is None
        and _assigned_events(session, left) == 0
    )
    page = client.get("/requests").get_data(as_text=True)
    assert "2 requests assigned to mex_clerk." in page
    # Elsewhere than the list, the form does not send anyone.
    response = client.post(
        "/requests/assign",
        data={"csrf_token": token, "reference": [left.reference], "next": "https://evil.example/"},
    )
    assert response.headers["Location"].endswith("/requests")


def test_bulk_assign_refuses_a_user_of_another_authority(
    client, world, transmitted, login, session
):
    first, second = transmitted(), transmitted()
    token = login(world.mex_supervisor)
    response = client.post(
        "/requests/assign",
        data={
            "csrf_token": token,
            "assignee": world.arg_clerk.id,
            "reference": [first.reference, second.reference],
        },
        follow_redirects=True,
    )
    assert "choose an active user of MEX-FGR" in response.get_data(as_text=True)
    for request in (first, second):
        session.refresh(request)
        assert (
            request.assignee_id_for(world.mex_clerk.authority_id) is None
            and _assigned_events(session, request) == 0
        )


def test_bulk_assign_refuses_another_authoritys_request_and_assigns_none(
    client, world, transmitted, new_mla, login, session
):
    ours = transmitted()
    theirs = transmitted(requested_authority="COL-FGN")
    token = login(world.mex_supervisor)
    response = client.post(
        "/requests/assign",
        data={
            "csrf_token": token,
            "assignee": world.mex_clerk.id,
            "reference": [ours.reference, theirs.reference],
        },
    )
    assert response.status_code == 404  # as if it did not exist
    session.refresh(ours)
    session.refresh(theirs)
    assert ours.assignee_id_for(world.mex_clerk.authority_id) is None
    assert theirs.assignee_id_for(world.mex_clerk.authority_id) is None
    assert _assigned_events(session, ours) == 0
    # A request we are party to but the other side holds: each party assigns its own staff,
    # and the holder's assignee is untouched.
    sent = transmitted()
    client.post("/logout", data={"csrf_token": token})
    token = login(world.arg_supervisor)
    response = client.post(
        "/requests/assign",
        data={"csrf_token": token, "assignee": world.arg_clerk.id, "reference": [sent.reference]},
    )
    assert response.status_code == 303
    session.refresh(sent)
    assert sent.assignee_id_for(world.arg_clerk.authority_id) == world.arg_clerk.id
    assert sent.assignee_id_for(world.mex_clerk.authority_id) is None


def _ticks(page):
    """The references the list's bulk assignment lets one tick."""
    return set(re.findall(r'name="reference" value="([^"]+)"', page))


def test_the_list_offers_to_tick_exactly_what_the_supervisor_may_assign(
    client, world, transmitted, new_mla, login, service
):
    draft = new_mla()  # ARG-DAJIN holds it
    sent = transmitted()  # MEX-FGR holds it; ARG-DAJIN assigns its own staff on it all the same
    token = login(world.arg_supervisor)
    page = client.get("/requests").get_data(as_text=True)
    supervisor = world.actor(world.arg_supervisor)
    assert _ticks(page) == {draft.reference, sent.reference}
    assert service.may_assign(draft, supervisor) and service.may_assign(sent, supervisor)
    client.post("/logout", data={"csrf_token": token})
    # The requested side sees only what was sent to it, and may assign that.
    login(world.mex_supervisor)
    page = client.get("/requests").get_data(as_text=True)
    assert draft.reference not in page and _ticks(page) == {sent.reference}
    assert service.may_assign(sent, world.actor(world.mex_supervisor))


def test_a_clerk_neither_sees_nor_may_use_bulk_assign(client, world, transmitted, login, session):
    request = transmitted()
    token = login(world.mex_clerk)
    page = client.get("/requests").get_data(as_text=True)
    assert request.reference in page and 'id="bulk-assign"' not in page
    assert 'name="reference"' not in page
    response = client.post(
        "/requests/assign",
        data={
            "csrf_token": token,
            "assignee": world.mex_clerk.id,
            "reference": [request.reference],
        },
    )
    assert response.status_code == 403
    session.refresh(request)
    assert request.assignee_id_for(world.mex_clerk.authority_id) is None
    # Without the CSRF token, even a supervisor's is refused.
    client.post("/logout", data={"csrf_token": token})
    login(world.mex_supervisor)
    response = client.post(
        "/requests/assign", data={"assignee": world.mex_clerk.id, "reference": [request.reference]}
    )
    assert response.status_code == 400


def _page(client, url):
    html = client.get(url.replace("&amp;", "&")).get_data(as_text=True)
    refs = re.findall(r'<td><a href="/requests/(MLA-[A-Z]+-\d+-\d+)"', html)
    links = {
        rel: m.replace("&amp;", "&")
        for m, rel in re.findall(r'<a href="([^"]+)" rel="(next|prev)"', html)
    }
    return html, refs, links


def test_the_list_counts_and_pages_back_and_forth(client, world, new_mla, login, monkeypatch):
    from mla.web.views import requests as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    made = sorted(new_mla(their_reference=f"CASE-{n}").reference for n in range(5))
    login(world.arg_clerk)
    html, first, links = _page(client, "/requests?sort=reference")
    assert "(5)" in html and first == made[:2] and "prev" not in links
    html, second, links = _page(client, links["next"])
    assert second == made[2:4] and "Page 2" in html
    html, third, links = _page(client, links["next"])
    assert third == made[4:] and "next" not in links and "Page 3" in html
    html, back, links = _page(client, links["prev"])
    assert back == made[2:4] and "Page 2" in html and "next" in links
    html, start, links = _page(client, links["prev"])
    assert start == made[:2] and "prev" not in links and "Page 1" in html
    # Past the cap, the count says so instead of counting on.
    monkeypatch.setattr(views, "COUNT_UP_TO", 3)
    assert "(more than 3)" in client.get("/requests").get_data(as_text=True)
    # Another page size, among those offered.
    html, rows, _links = _page(client, "/requests?sort=reference&per_page=25")
    assert rows == made and "25 per page" in html


def test_saved_filters_mine_overdue_urgent(client, world, transmitted, login, session):
    mine, urgent, late = transmitted(), transmitted(urgency="urgent"), transmitted()
    mine.party_row(world.mex_clerk.authority_id).assignee_id = world.mex_clerk.id
    # The fixture's clock is fixed in the past: place the deadlines relative to today.
    for deadline in session.scalars(select(Deadline)):
        deadline.due_at = utcnow() + timedelta(days=-1 if deadline.request_id == late.id else 5)
    session.flush()
    login(world.mex_clerk)
    for query, expected in [
        ("mine=1", mine),
        ("urgency=urgent", urgent),
        ("overdue=1", late),
    ]:
        html, refs, _links = _page(client, f"/requests?{query}")
        assert refs == [expected.reference], query
        assert "aria-current" in html.split('aria-label="Saved filters"')[1].split("</nav>")[0]


def test_dashboard_queue_pages_with_what_to_do_and_by_when(
    client, world, transmitted, login, session, monkeypatch
):
    from mla.web.views import dashboard

    monkeypatch.setattr(dashboard, "QUEUE_PAGE", 2)
    requests = [transmitted() for _ in range(5)]
    # The nearest deadline first, whatever the order of arrival.
    for n, request in enumerate(requests):
        for deadline in session.scalars(select(Deadline).where(Deadline.request_id == request.id)):
            deadline.due_at = utcnow() + timedelta(days=10 - n)
    session.flush()
    login(world.mex_clerk)
    html = client.get("/").get_data(as_text=True)
    queue = html.split('id="queue"')[1].split("</table>")[0]
    shown = re.findall(r">(MLA-ARG-\d+-\d+)</a>", queue)
    assert shown == [requests[4].reference, requests[3].reference]
    assert "Acknowledge" in queue and "nobody" in queue
    assert "1\u20132 of 5" in html and 'href="/?queue=2#queue-h"' in html
    html = client.get("/?queue=3").get_data(as_text=True)
    queue = html.split('id="queue"')[1].split("</table>")[0]
    assert re.findall(r">(MLA-ARG-\d+-\d+)</a>", queue) == [requests[0].reference]
    assert "5\u20135 of 5" in html


def test_waiting_on_the_other_side_lists_their_overdue_steps(
    client, world, transmitted, login, session
):
    late, on_time = transmitted(), transmitted()
    for deadline in session.scalars(select(Deadline)):
        deadline.due_at = utcnow() + timedelta(days=-3 if deadline.request_id == late.id else 5)
    session.flush()
    login(world.arg_clerk)
    html = client.get("/").get_data(as_text=True)
    waiting = html.split('id="waiting"')[1].split("</table>")[0]
    assert late.reference in waiting and on_time.reference not in waiting
    assert "MEX-FGR" in waiting
    # The side that is late sees it as its own overdue deadline, not as something to chase.
    client.post("/logout", data={"csrf_token": re.search(r'csrf_token" value="([^"]+)', html)[1]})
    login(world.mex_clerk)
    html = client.get("/").get_data(as_text=True)
    assert 'id="waiting"' not in html and "Nothing of theirs is overdue." in html
    assert session.get(Request, late.id).holder_authority_id == world.mex.id


@pytest.fixture
def statements(engine):
    """The SQL statements the app runs, to count them (``statements.clear()`` first)."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("path", ["/", "/requests", "/requests.csv"])
def test_queue_and_list_pages_ask_as_much_for_many_rows_as_for_few(
    client, world, transmitted, login, session, statements, make_user, path
):
    """What to do next, by when and who holds each row come with the page's queries, not
    one query per row."""
    clerks = [world.mex_clerk] + [make_user(world.mex) for _ in range(3)]

    def count() -> int:
        statements.clear()
        assert client.get(path).status_code == 200
        return len(statements)

    first = [transmitted() for _ in range(2)]
    first[0].party_row(clerks[0].authority_id).assignee_id = clerks[0].id
    session.flush()
    login(world.mex_clerk)
    few = count()
    for n in range(6):
        clerk = clerks[n % len(clerks)]
        transmitted().party_row(clerk.authority_id).assignee_id = clerk.id
    session.flush()
    more = count()
    assert more == few, "\n\n".join(statements)


def test_the_other_sides_changes_say_when_there_are_more(
    client, world, transmitted, login, monkeypatch, clock
):
    from mla.web.views import dashboard

    monkeypatch.setattr(dashboard, "RECENT", 2)
    clock.now = utcnow() - timedelta(hours=1)  # "lately" is the last 7 days of the real clock
    for _ in range(2):
        transmitted()
    login(world.mex_clerk)
    html = client.get("/").get_data(as_text=True)
    assert "<strong>2</strong> updated by the other side" in html and "there are more" not in html
    transmitted()
    html = client.get("/").get_data(as_text=True)
    assert "<strong>2+</strong> updated by the other side" in html
    assert "The 2 latest are shown; there are more." in html


def test_which_rows_a_supervisor_may_assign_costs_no_query_per_row(
    client, world, transmitted, login, statements
):
    def count() -> int:
        statements.clear()
        page = client.get("/requests").get_data(as_text=True)
        assert 'id="bulk-assign"' in page
        return len(statements)

    transmitted()
    login(world.mex_supervisor)
    few = count()
    for _ in range(6):
        transmitted()
    assert count() == few, "\n\n".join(statements)
