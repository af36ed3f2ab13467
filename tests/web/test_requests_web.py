"""The request screens through the test client: scope, forms, actions, list, dashboard."""

import re
from datetime import timedelta

from sqlalchemy import select

from mla.db import utcnow
from mla.deadlines.models import Deadline
from mla.requests.models import Request
from tests.factories import MLA_FIELDS


def _new_form(token, **overrides):
    form = {
        "csrf_token": token,
        "requested_authority": "MEX-FGR",
        "legal_basis": "untoc-18",
        "urgency": "normal",
        **{k: v for k, v in MLA_FIELDS.items() if k != "assistance_types"},
        "assistance_types": MLA_FIELDS["assistance_types"],
    }
    form.update(overrides)
    return form


def test_another_authoritys_request_is_not_found(client, world, received, login):
    login(world.col_clerk)
    response = client.get(f"/requests/{received.reference}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Not found" in page and "Received" not in page and "MEX-FGR" not in page
    token = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', token).group(1)
    response = client.post(
        f"/requests/{received.reference}/events/acknowledge",
        data={"csrf_token": token, "version_id": received.version_id},
    )
    assert response.status_code == 404
    assert received.state == "received"
    # Not in their list either.
    assert received.reference not in client.get("/requests").get_data(as_text=True)
    # A reference that does not exist looks the same.
    assert client.get("/requests/MLA-ARG-2099-99999").status_code == 404


def test_save_a_draft_then_see_it(client, world, login, session):
    token = login(world.arg_clerk)
    response = client.post(
        "/requests/new?kind=mla", data=_new_form(token, action="draft", their_reference="X-1")
    )
    assert response.status_code == 303
    reference = response.headers["Location"].rsplit("/", 1)[1]
    request = session.scalar(select(Request).where(Request.reference == reference))
    assert request.state == "draft" and request.their_reference == "X-1"
    assert request.fields["assistance_types"] == ["records"]
    page = client.get(f"/requests/{reference}").get_data(as_text=True)
    assert "saved as a draft" in page and "Submit for legal review" in page


def test_save_and_submit_fires_the_submit_event(client, world, login, session):
    token = login(world.arg_clerk)
    response = client.post("/requests/new?kind=mla", data=_new_form(token, action="submit"))
    assert response.status_code == 303
    reference = response.headers["Location"].rsplit("/", 1)[1]
    request = session.scalar(select(Request).where(Request.reference == reference))
    assert request.state == "legal_review"


def test_form_errors_name_each_field(client, world, login, session):
    token = login(world.arg_clerk)
    form = _new_form(
        token,
        action="draft",
        requested_authority="ARG-DAJIN",
        legal_basis="friendship",
        proceeding_type="gossip",
        needed_by="2001-01-01",
    )
    response = client.post("/requests/new?kind=mla", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("requested_authority", "legal_basis", "proceeding_type", "needed_by"):
        assert f'id="{field}-error"' in page, field
        assert f'aria-describedby="{field}-error"' in page or f"{field}-error" in page
    assert 'aria-invalid="true"' in page
    # What was typed stays in the form.
    assert MLA_FIELDS["subject"] in page
    assert session.scalar(select(Request.id)) is None


def test_submitting_an_incomplete_request_marks_the_missing_fields(client, world, login, session):
    token = login(world.arg_clerk)
    form = _new_form(token, action="submit", subject="", purpose="")
    response = client.post("/requests/new?kind=mla", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="subject-error"' in page and 'id="purpose-error"' in page
    assert session.scalar(select(Request.id)) is None  # nothing half-saved


def test_an_action_with_inputs_shows_errors_at_the_input(client, world, received, login):
    token = login(world.mex_clerk)
    client.post(
        f"/requests/{received.reference}/events/acknowledge",
        data={"csrf_token": token, "version_id": received.version_id},
    )
    page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    assert "Formal review" in page
    version = re.search(r'name="version_id" value="(\d+)"', page).group(1)
    response = client.post(
        f"/requests/{received.reference}/events/request_information",
        data={"csrf_token": token, "version_id": version, "inputs.questions": ""},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="request_information-inputs-questions-error"' in page and "is required" in page
    assert "<details open>" in page


def test_a_stale_form_is_a_clear_conflict(client, world, received, login, session):
    token = login(world.mex_clerk)
    stale = received.version_id
    first = client.post(
        f"/requests/{received.reference}/events/acknowledge",
        data={"csrf_token": token, "version_id": stale},
    )
    assert first.status_code == 303
    again = client.post(
        f"/requests/{received.reference}/events/acknowledge",
        data={"csrf_token": token, "version_id": stale},
        follow_redirects=True,
    )
    page = again.get_data(as_text=True)
    assert "Not done" in page and "changed by" in page


def test_a_clerk_cannot_assign_but_a_supervisor_can(client, world, received, login, session):
    token = login(world.mex_clerk)
    response = client.post(
        f"/requests/{received.reference}/assign",
        data={"csrf_token": token, "assignee": world.mex_clerk.id},
    )
    assert response.status_code == 403
    client.post("/logout", data={"csrf_token": token})
    token = login(world.mex_supervisor)
    response = client.post(
        f"/requests/{received.reference}/assign",
        data={"csrf_token": token, "assignee": world.mex_clerk.id},
    )
    assert response.status_code == 303
    session.expire_all()
    assert received.assignee_id_for(world.mex.id) == world.mex_clerk.id
    # A user of another authority cannot be picked, and reads as one that does not exist.
    said = []
    for assignee in (world.arg_clerk.id, 999_999):
        response = client.post(
            f"/requests/{received.reference}/assign",
            data={"csrf_token": token, "assignee": assignee},
            follow_redirects=True,
        )
        page = response.get_data(as_text=True)
        assert "Not done: assignee: choose an active user of MEX-FGR" in page
        said.append(page.count(world.arg_clerk.username))
    assert said[0] == said[1]
    session.expire_all()
    assert received.assignee_id_for(world.mex.id) == world.mex_clerk.id
    workload = client.get("/workload").get_data(as_text=True)
    assert world.mex_clerk.username in workload


def test_dashboard_shows_overdue_deadlines_unmistakably(client, world, received, login, session):
    # The fixture's clock is fixed in the past: place the deadlines relative to today.
    for deadline in session.scalars(select(Deadline).where(Deadline.request_id == received.id)):
        late = deadline.name == "acknowledgement"
        deadline.due_at = utcnow() + (timedelta(days=-2) if late else timedelta(days=3))
    session.flush()
    login(world.mex_clerk)
    page = client.get("/").get_data(as_text=True)
    assert "1 deadline is overdue" in page and received.reference in page
    assert "1</strong> due within 7 days" in page
    # The requesting side has no overdue deadline of its own.
    client.post("/logout", data={"csrf_token": re.search(r'csrf_token" value="([^"]+)', page)[1]})
    login(world.arg_clerk)
    assert "Nothing is overdue." in client.get("/").get_data(as_text=True)


def test_a_search_finds_the_same_requests_however_many_match(
    client, world, new_mla, login, monkeypatch
):
    """A few matches are read first and their rows by id; many, through the page's order."""
    from mla.requests import queries

    made = [new_mla(their_reference=f"SAME-{n}") for n in range(3)]
    login(world.arg_clerk)

    def found() -> list[str]:
        html = client.get("/requests?q=same").get_data(as_text=True)
        return re.findall(r">(MLA-ARG-2026-\d+)</a>", html)

    few = found()
    assert sorted(few) == sorted(r.reference for r in made)
    monkeypatch.setattr(queries, "_FEW_MATCHES", 1)
    assert found() == few


def test_list_filters_search_and_pages(client, world, new_mla, received, login):
    for n in range(4):
        new_mla(their_reference=f"CASE-{n}")
    login(world.arg_clerk)
    page = client.get("/requests?q=CASE-2").get_data(as_text=True)
    assert "CASE-2" in page and "CASE-1" not in page
    page = client.get("/requests?holder=them").get_data(as_text=True)
    assert received.reference in page and "CASE-0" not in page
    page = client.get("/requests?state=draft&counterpart=MEX-FGR").get_data(as_text=True)
    assert "CASE-3" in page and received.reference not in page
    assert client.get("/requests?counterpart=NOPE").status_code == 422
    # Person named in the fields (stored as JSON; accents included).
    assert received.reference in client.get("/requests?q=Fiscalía Federal").get_data(as_text=True)
    # Keyset pagination: 5 requests, pages of 2.
    from mla.web.views import requests as views

    views.PAGE_SIZE, saved = 2, views.PAGE_SIZE
    try:
        seen = []
        url = "/requests?sort=reference"
        while url:
            html = client.get(url).get_data(as_text=True)
            seen += re.findall(r">(MLA-ARG-2026-\d+)</a>", html)
            nxt = re.search(r'href="([^"]+)" rel="next"', html)
            url = nxt.group(1).replace("&amp;", "&") if nxt else None
        assert seen == sorted(seen) and len(seen) == 5
    finally:
        views.PAGE_SIZE = saved


def test_admin_pages_need_the_admin_role(client, world, login, make_user):
    token = login(world.mex_supervisor)
    assert client.get("/admin/users").status_code == 403
    admin = make_user(world.mex, "admin")
    client.post("/logout", data={"csrf_token": token})
    token = login(admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert world.mex_clerk.username in page and world.arg_clerk.username not in page
    response = client.post("/admin/tokens", data={"csrf_token": token})
    assert "shown only this once" in response.get_data(as_text=True)


def test_edit_a_draft_through_its_form(client, world, login, session, new_mla):
    draft = new_mla()
    token = login(world.arg_clerk)
    page = client.get(f"/requests/{draft.reference}").get_data(as_text=True)
    assert f"/requests/{draft.reference}/edit" in page
    form_page = client.get(f"/requests/{draft.reference}/edit").get_data(as_text=True)
    assert 'name="version_id"' in form_page and MLA_FIELDS["subject"] in form_page
    form = _new_form(token, version_id=draft.version_id, subject="Asunto corregido", purpose="")
    form.pop("requested_authority")
    form.pop("legal_basis")
    response = client.post(f"/requests/{draft.reference}/edit", data=form)
    assert response.status_code == 303
    session.refresh(draft)
    assert draft.fields["subject"] == "Asunto corregido" and "purpose" not in draft.fields
    page = client.get(f"/requests/{draft.reference}").get_data(as_text=True)
    assert "Changed the fields Purpose, Subject and nature of the proceeding" in page
    # A form opened before that change is refused, naming who changed it.
    response = client.post(f"/requests/{draft.reference}/edit", data=form, follow_redirects=True)
    assert world.arg_clerk.username in response.get_data(as_text=True)
    # Bad values are shown at their field; without the token nothing happens.
    form.update(version_id=draft.version_id, proceeding_type="gossip")
    response = client.post(f"/requests/{draft.reference}/edit", data=form)
    assert response.status_code == 422
    assert 'id="proceeding_type-error"' in response.get_data(as_text=True)
    form.pop("csrf_token")
    assert client.post(f"/requests/{draft.reference}/edit", data=form).status_code == 400


def test_a_transmitted_request_cannot_be_edited(client, world, received, login, session):
    login(world.arg_clerk)
    page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    assert f"/requests/{received.reference}/edit" not in page
    response = client.get(f"/requests/{received.reference}/edit", follow_redirects=True)
    assert "transmitted" in response.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    token = login(world.mex_clerk)
    response = client.post(
        f"/requests/{received.reference}/edit",
        data={"csrf_token": token, "version_id": received.version_id, "subject": "x"},
    )
    assert response.status_code == 303
    session.refresh(received)
    assert received.fields["subject"] == MLA_FIELDS["subject"]
    client.post("/logout", data={"csrf_token": token})
    token = login(world.col_clerk)
    response = client.post(
        f"/requests/{received.reference}/edit",
        data={"csrf_token": token, "version_id": received.version_id, "subject": "x"},
    )
    assert response.status_code == 404


def csrf_of(client):
    from tests.web.conftest import csrf

    return csrf(client, "/")
