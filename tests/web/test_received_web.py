"""A request from a state not on mla, recorded through the web UI by the requested central
authority's clerk as it arrived (LEGAL.md "Requests from states not on the system")."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mla.audit.models import Event, EventKind
from mla.deadlines.models import Deadline
from mla.requests.models import Request
from tests.factories import MLA_FIELDS, mexico_today

FORM = "/requests/received?kind=mla"


@pytest.fixture
def peru(make_authority):
    return make_authority(
        "PER-UCJIE", country="PE", name="Unidad de Cooperación Judicial", languages=["es"],
        timezone="America/Lima", external=True,
    )  # fmt: skip


def _form(token: str, **overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "csrf_token": token,
        "requesting_authority": "PER-UCJIE",
        "received_on": (mexico_today() - timedelta(days=3)).isoformat(),
        "channel": "diplomatic_note",
        "legal_basis": "untoc-18",
        "their_reference": "UCJIE-2026-118",
        "urgency": "normal",
        **MLA_FIELDS,
    }
    form.update(overrides)
    return form


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Request))


def test_a_clerk_records_a_request_received_by_diplomatic_note(client, world, peru, login, session):
    token = login(world.mex_clerk)
    page = client.get(FORM).get_data(as_text=True)
    # Only states not on mla are offered as the sender: not Argentina (on mla), not Mexico.
    assert 'value="PER-UCJIE"' in page
    assert 'value="ARG-DAJIN"' not in page and 'value="MEX-FGR"' not in page
    assert 'value="interpol"' in page and "Diplomatic note" in page
    # Reached from where a clerk starts a request.
    assert "/requests/received?kind=mla" in client.get("/requests/new").get_data(as_text=True)

    received_on = mexico_today() - timedelta(days=3)
    response = client.post(FORM, data=_form(token))
    assert response.status_code == 303, response.get_data(as_text=True)
    reference = response.headers["Location"].split("#")[0].rsplit("/", 1)[1]
    request = session.scalar(select(Request).where(Request.reference == reference))
    assert request.state == "received"
    assert request.holder_authority.code == "MEX-FGR"
    assert request.requesting_authority.code == "PER-UCJIE"
    assert request.their_reference == "UCJIE-2026-118"
    created = session.scalar(
        select(Event).where(Event.request_id == request.id, Event.kind == EventKind.CREATED)
    )
    assert created.data["received_on"] == received_on.isoformat()
    assert created.data["channel"] == "diplomatic_note"
    assert created.on_behalf_of_id == peru.id and created.actor_user_id == world.mex_clerk.id
    # Its clocks run from the day it arrived, not from today (acknowledge within 7 days).
    ack = session.scalar(
        select(Deadline).where(
            Deadline.request_id == request.id, Deadline.name == "acknowledgement"
        )
    )
    assert ack.due_at.date() in (received_on + timedelta(days=7), received_on + timedelta(days=8))

    page = html.unescape(client.get(f"/requests/{reference}").get_data(as_text=True))
    assert "Attach the document received" in page
    assert 'id="evidence"' in page and 'name="file"' in page
    # The history says who recorded what, for whom, when it arrived and how.
    assert f"{world.mex_clerk.username} (MEX-FGR) for PER-UCJIE" in page
    assert "Recorded the request as received on" in page and "(Diplomatic note)" in page
    assert "Opened the request as" not in page


def test_the_history_is_in_the_readers_language(client, world, peru, login):
    token = login(world.mex_clerk)
    response = client.post(FORM, data=_form(token, channel="email"))
    reference = response.headers["Location"].split("#")[0].rsplit("/", 1)[1]
    client.post("/language", data={"csrf_token": token, "language": "es"})
    page = html.unescape(client.get(f"/requests/{reference}").get_data(as_text=True))
    assert "Registró la solicitud como recibida el" in page and "(Correo electrónico)" in page
    assert "por cuenta de PER-UCJIE" in page


def test_a_future_date_is_an_error_on_the_field(client, world, peru, login, session):
    token = login(world.mex_clerk)
    before = _count(session)
    tomorrow = (mexico_today() + timedelta(days=1)).isoformat()
    response = client.post(FORM, data=_form(token, received_on=tomorrow))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<p class="error-text" id="received_on-error">must not be in the future</p>' in page
    assert 'id="received_on" name="received_on" value="' + tomorrow in page  # kept to correct
    assert "The request was not recorded" in page
    response = client.post(FORM, data=_form(token, received_on="", channel="fax"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="received_on-error"' in page and 'id="channel-error"' in page
    assert _count(session) == before


def test_an_authority_on_mla_is_refused_as_the_sender(client, world, peru, login, session):
    token = login(world.mex_clerk)
    before = _count(session)
    response = client.post(FORM, data=_form(token, requesting_authority="ARG-DAJIN"))
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert 'id="requesting_authority-error">ARG-DAJIN is on mla' in page
    response = client.post(FORM, data=_form(token, requesting_authority="XYZ-NONE"))
    assert response.status_code == 422
    assert 'id="requesting_authority-error">unknown authority' in html.unescape(
        response.get_data(as_text=True)
    )
    response = client.post(FORM, data=_form(token, requesting_authority=""))
    assert response.status_code == 422
    assert _count(session) == before


def test_another_authority_cannot_see_it(client, world, peru, login):
    token = login(world.mex_clerk)
    response = client.post(FORM, data=_form(token))
    reference = response.headers["Location"].split("#")[0].rsplit("/", 1)[1]
    client.post("/logout", data={"csrf_token": token})
    login(world.col_clerk)
    assert client.get(f"/requests/{reference}").status_code == 404
    assert reference not in client.get("/requests").get_data(as_text=True)
