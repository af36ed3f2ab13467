"""The request page and forms through the test client: steps recorded for an authority not
on mla keep when and how its message arrived, the address of a step's form is a page, every
error of a form comes in one round, and forms ask only what the drafter fills."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from mla.audit.models import Event, EventKind
from mla.authorities import service as authorities
from tests import factories
from tests.factories import MLA_FIELDS


def _version(client, reference: str) -> str:
    page = client.get(f"/requests/{reference}").get_data(as_text=True)
    return re.search(r'name="version_id" value="(\d+)"', page).group(1)


def _from_peru(session, service, world):
    authorities.add_authority(
        session, "PER-UCJIE", country="PE", name="Unidad de Cooperación Judicial",
        languages=["es"], timezone="America/Lima", external=True,
    )  # fmt: skip
    mex = world.actor(world.mex_clerk)
    request = factories.new_mla(
        service, mex, requesting_authority="PER-UCJIE", channel="diplomatic_note",
        received_on=service.clock().date() - timedelta(days=3),
    )  # fmt: skip
    service.fire(request, "acknowledge", mex)
    service.fire(request, "request_information", mex, {"questions": "Which accounts?"})
    return request


def test_a_step_for_an_authority_not_on_mla_records_its_arrival(
    client, world, login, session, service
):
    request = _from_peru(session, service, world)
    token = login(world.mex_clerk)
    page = client.get(f"/requests/{request.reference}").get_data(as_text=True)
    assert "Provide the information on behalf of PER-UCJIE" in page
    url = f"/requests/{request.reference}/events/provide_information"
    form = {"csrf_token": token, "version_id": _version(client, request.reference)}
    # A date to come and an unknown channel are refused with the missing answer, at once.
    future = (date.today() + timedelta(days=5)).isoformat()
    response = client.post(url, data={**form, "received_on": future, "channel": "pigeon"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = page[page.index('id="error-summary-provide_information"') :]
    for message in ("must not be in the future", "must be one of", "is required"):
        assert message in summary, message
    assert request.state == "information_requested"
    arrived = (date.today() - timedelta(days=1)).isoformat()
    response = client.post(
        url,
        data={**form, "received_on": arrived, "channel": "email", "inputs.answer": "Both"},
    )
    assert response.status_code == 303
    event = session.scalars(
        select(Event).where(Event.request_id == request.id, Event.kind == EventKind.TRANSITION)
        .order_by(Event.id.desc())
    ).first()  # fmt: skip
    assert event.data["received_on"] == arrived and event.data["channel"] == "email"
    assert event.on_behalf_of_id is not None


def test_arrival_is_refused_on_a_step_of_ones_own(client, world, received, login):
    token = login(world.mex_clerk)
    response = client.post(
        f"/requests/{received.reference}/events/acknowledge",
        data={
            "csrf_token": token,
            "version_id": _version(client, received.reference),
            "received_on": date.today().isoformat(),
        },
    )
    assert response.status_code == 422
    assert "only a step recorded for an authority not on mla" in response.get_data(as_text=True)
    assert received.state == "received"


def test_the_address_of_a_step_is_its_form_open(client, world, received, login):
    login(world.mex_supervisor)
    response = client.get(f"/requests/{received.reference}/events/extend_decision_deadline")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r"<details open>\s*<summary[^>]*>Extend the time to decide", page)


def test_a_new_request_shows_every_error_in_one_round(client, world, login):
    token = login(world.arg_clerk)
    past = (date.today() - timedelta(days=3)).isoformat()
    response = client.post(
        "/requests/new?kind=mla",
        data={"csrf_token": token, "action": "submit", "needed_by": past, "urgency": "normal"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = page[
        page.index('class="error-summary"') : page.index("</ul>", page.index("error-summary"))
    ]
    for anchor in (
        "#requested_authority",
        "#legal_basis",
        "#subject",
        "#needed_by",
        "#needed_by_reason",
    ):
        assert f'href="{anchor}"' in summary, anchor
    # A malformed date is the form's own error; it comes with the service's, not before them.
    response = client.post(
        "/requests/new?kind=mla",
        data={"csrf_token": token, "action": "draft", "needed_by": "soon", "urgency": "normal"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "must be a date" in page and 'href="#requested_authority"' in page
    assert 'href="#legal_basis"' in page


def test_new_request_forms_leave_out_what_later_steps_record(client, world, login):
    login(world.arg_clerk)
    mla = client.get("/requests/new?kind=mla").get_data(as_text=True)
    assert 'name="resume_date"' not in mla and 'name="execution_resume_date"' not in mla
    assert 'data-bases="bilateral"' in mla and 'name="treaty"' in mla
    assert "18.24" in mla
    extradition = client.get("/requests/new?kind=extradition").get_data(as_text=True)
    for name in ("arrest_date", "surrender_window_start", "return_date", "resume_date"):
        assert f'name="{name}"' not in extradition, name
    assert 'name="translations_attached"' in extradition  # optional, but the drafter's
    assert "18.24" not in extradition and "18.20" not in extradition


def test_a_draft_saved_keeps_fields_the_form_does_not_show(client, world, login, session, new_mla):
    draft = new_mla(fields={**MLA_FIELDS, "resume_date": "2027-01-04"})
    token = login(world.arg_clerk)
    response = client.post(
        f"/requests/{draft.reference}/edit",
        data={
            "csrf_token": token,
            "version_id": _version(client, draft.reference),
            "urgency": "normal",
            **{k: v for k, v in MLA_FIELDS.items()},
            "subject": "Changed subject",
        },
    )
    assert response.status_code == 303
    session.refresh(draft)
    assert draft.fields["subject"] == "Changed subject"
    assert draft.fields["resume_date"] == "2027-01-04"
