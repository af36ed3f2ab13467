"""The request service: creation, events by party and role, deadlines, history, scope."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from mla.audit import chain
from mla.authorities import service as authorities
from mla.deadlines.models import Deadline
from mla.errors import Conflict, Incomplete, Invalid, NotAllowed, NotFound
from mla.requests.models import Request
from tests.factories import MLA_FIELDS


def deadlines(session, request) -> dict[str, Deadline]:
    rows = session.scalars(select(Deadline).where(Deadline.request_id == request.id))
    return {d.name: d for d in rows}


def test_create_opens_a_draft_held_by_the_requesting_authority(session, world, new_mla):
    request = new_mla(their_reference="FF3-1234/2026")
    assert request.reference == "MLA-ARG-2026-00001"
    assert request.state == "draft" and request.holder_authority is world.arg
    assert request.workflow_version == 2  # new requests take the newest version
    second = new_mla()
    assert second.reference == "MLA-ARG-2026-00002"
    [created] = chain_events(session, request)
    assert created.kind == "created" and created.actor_user_id == world.arg_clerk.id
    assert chain.verify_request(session, request) is None


def chain_events(session, request):
    from mla.audit.models import Event

    query = select(Event).where(Event.request_id == request.id).order_by(Event.seq)
    return list(session.scalars(query))  # in the chain's order: a table has none of its own


def test_create_names_every_bad_field(service, world, clock):
    with pytest.raises(Invalid) as info:
        service.create(
            world.actor(world.arg_clerk),
            kind="mla",
            requested_authority="ARG-DAJIN",
            legal_basis="friendship",
            fields={"colour": "blue", "proceeding_type": "gossip"},
            needed_by=date(2020, 1, 1),
        )
    fields = {e.field for e in info.value.errors}
    assert {"requested_authority", "legal_basis", "colour", "proceeding_type"} <= fields
    assert {"needed_by", "needed_by_reason"} <= fields
    with pytest.raises(Invalid) as info:
        service.create(
            world.actor(world.arg_clerk), kind="asylum", requested_authority="MEX-FGR",
            legal_basis="untoc-18",
        )  # fmt: skip
    assert info.value.errors[0].field == "kind"


def test_a_request_moves_from_draft_to_closed(session, service, world, received, clock):
    mex, court = world.actor(world.mex_clerk), world.actor(world.court_clerk)
    assert received.state == "received" and received.holder_authority is world.mex
    running = deadlines(session, received)
    assert {n for n, d in running.items() if d.authority_id == world.mex.id} == {
        "acknowledgement",
        "decision",
    }
    # The requesting state's follow-up reminders run meanwhile, on its own calendar.
    follow_ups = {n for n, d in running.items() if d.authority_id == world.arg.id}
    assert follow_ups == {"follow_up_first", "follow_up_second", "follow_up_third"}

    clock.advance(days=1)
    service.fire(received, "acknowledge", mex)
    assert deadlines(session, received)["acknowledgement"].outcome.value == "met"
    service.fire(received, "pass_formal_review", mex)
    service.fire(received, "accept", mex)
    assert deadlines(session, received)["decision"].outcome.value == "met"
    service.fire(received, "assign", mex, {"executing_authority": "MEX-FEMDO"})
    assert received.executing_authority is world.mex_court
    assert received.holder_authority is world.mex_court
    service.fire(received, "start_execution", court)
    service.fire(received, "transmit_partial_results", court, {"description": "Extractos 2023"})
    assert received.state == "in_execution"
    service.fire(received, "complete_execution", court)
    service.fire(
        received, "transmit_results", mex, {"use_limitation": "Solo para la causa FF3-1234/2026"}
    )
    assert received.holder_authority is world.arg
    service.fire(received, "close", world.actor(world.arg_clerk))
    assert received.state == "closed" and received.closed_at is not None
    assert all(not d.is_open for d in deadlines(session, received).values())
    assert chain.verify_request(session, received) is None
    assert [e.data.get("event") for e in service.history(received)][-3:] == [
        "complete_execution",
        "transmit_results",
        "close",
    ]


def test_a_party_cannot_fire_another_partys_event(service, world, received):
    with pytest.raises(NotAllowed, match="requested authority"):
        service.fire(received, "acknowledge", world.actor(world.arg_clerk))
    with pytest.raises(NotAllowed, match="requesting authority"):
        service.fire(
            received, "withdraw", world.actor(world.mex_clerk), {"reasons": "No lo necesitan"}
        )


def test_the_requested_side_sees_a_request_only_once_transmitted(service, world, new_mla):
    draft = new_mla()
    mex = world.actor(world.mex_clerk)
    for step, user in (("submit_for_review", world.arg_clerk), ("sign", world.arg_supervisor)):
        with pytest.raises(NotFound):
            service.get(mex, draft.reference)
        assert service.search(mex) == [] and service.available_events(draft, mex) == []
        with pytest.raises(NotFound):
            service.fire(draft, step, mex)
        service.fire(draft, step, world.actor(user))
    assert draft.transmitted_at is None
    service.fire(draft, "transmit", world.actor(world.arg_clerk))
    assert draft.transmitted_at is not None
    assert service.get(mex, draft.reference) is draft


def test_an_outsider_sees_nothing(service, world, received):
    outsider = world.actor(world.col_clerk)
    with pytest.raises(NotFound):
        service.get(outsider, received.reference)
    with pytest.raises(NotFound):
        service.fire(received, "acknowledge", outsider)
    assert service.search(outsider) == []
    assert service.available_events(received, outsider) == []
    assert service.get(world.actor(world.mex_clerk), received.reference.lower()) is received


def test_signing_needs_a_supervisor(service, world, new_mla):
    request = new_mla()
    service.fire(request, "submit_for_review", world.actor(world.arg_clerk))
    with pytest.raises(NotAllowed, match="supervisor"):
        service.fire(request, "sign", world.actor(world.arg_clerk))


def test_an_incomplete_draft_is_held_at_the_gate_with_the_reason(service, world, new_mla):
    request = new_mla(fields={"subject": "Trata de personas"})
    with pytest.raises(Conflict, match="incomplete") as info:
        service.fire(request, "submit_for_review", world.actor(world.arg_clerk))
    assert "conducting_authority is required" in str(info.value)
    assert request.state == "draft"
    [submit] = [
        a for a in service.available_events(request, world.actor(world.arg_clerk))
        if a.event == "submit_for_review"
    ]  # fmt: skip
    assert not submit.allowed and "incomplete" in submit.reason


def test_refusal_only_through_consultation_with_grounds(service, world, received):
    mex, boss = world.actor(world.mex_clerk), world.actor(world.mex_supervisor)
    service.fire(received, "acknowledge", mex)
    service.fire(received, "pass_formal_review", mex)
    with pytest.raises(Conflict, match="not possible"):
        service.fire(received, "refuse", boss, {"grounds": ["essential_interests"]})
    service.fire(
        received, "open_consultation", mex,
        {"subject": "possible_refusal", "reasons": "Afecta intereses esenciales del Estado."},
    )  # fmt: skip
    with pytest.raises(NotAllowed, match="supervisor"):
        service.fire(received, "refuse", mex, {"grounds": ["essential_interests"], "reasons": "x"})
    with pytest.raises(Invalid) as info:
        # Bank secrecy is never a ground (Palermo 18.8): not in the closed list.
        service.fire(
            received, "refuse", boss,
            {"grounds": ["bank_secrecy"], "reasons": "El secreto bancario lo impide."},
        )  # fmt: skip
    assert info.value.errors[0].field == "inputs.grounds"
    with pytest.raises(Conflict, match="written reasons"):
        service.fire(
            received, "refuse", boss, {"grounds": ["essential_interests"], "reasons": "No"}
        )
    reasons = "La diligencia afecta la seguridad nacional."
    service.fire(received, "refuse", boss, {"grounds": ["essential_interests"], "reasons": reasons})
    assert received.state == "refused" and received.outcome == "refused"


def test_information_request_stops_the_decision_clock(session, service, world, received, clock):
    mex = world.actor(world.mex_clerk)
    service.fire(received, "acknowledge", mex)
    due_before = deadlines(session, received)["decision"].due_at
    service.fire(received, "request_information", mex, {"questions": "¿Número de cuenta?"})
    decision = deadlines(session, received)["decision"]
    assert decision.paused_at is not None and decision.next_step_at is None
    assert received.holder_authority is world.arg
    clock.advance(days=14)
    service.fire(
        received, "provide_information", world.actor(world.arg_clerk), {"answer": "0123456789"}
    )
    decision = deadlines(session, received)["decision"]
    assert decision.paused_at is None and decision.is_open
    assert decision.due_at - due_before == timedelta(days=14)
    assert decision.next_step_at is not None


def test_withdrawal_cancels_the_other_partys_deadlines(session, service, world, received):
    service.fire(
        received, "withdraw", world.actor(world.arg_clerk), {"reasons": "Causa archivada."}
    )
    assert received.state == "withdrawn"
    theirs = [d for d in deadlines(session, received).values() if d.authority_id == world.mex.id]
    assert {d.outcome.value for d in theirs} == {"cancelled"}


def test_assigning_an_unknown_or_foreign_authority_is_refused(service, world, received):
    mex = world.actor(world.mex_clerk)
    for event in ("acknowledge", "pass_formal_review", "accept"):
        service.fire(received, event, mex)
    for code in ("NOPE", "COL-FGN"):
        with pytest.raises(Invalid) as info:
            service.fire(received, "assign", mex, {"executing_authority": code})
        assert info.value.errors[0].field == "inputs.executing_authority"
    assert received.state == "accepted"


def test_a_stale_version_is_a_conflict_naming_who_and_when(service, world, received):
    seen = received.version_id
    service.fire(received, "acknowledge", world.actor(world.mex_clerk))
    with pytest.raises(Conflict) as info:
        service.fire(
            received, "pass_formal_review", world.actor(world.mex_supervisor),
            expected_version=seen,
        )  # fmt: skip
    assert world.mex_clerk.username in str(info.value) and "UTC" in str(info.value)
    assert received.state == "formal_review"


def test_steps_of_an_external_authority_are_recorded_on_its_behalf(session, service, world):
    peru = authorities.add_authority(
        session, "PER-UCJIE", country="PE", name="UCJIE", timezone="America/Lima", external=True
    )
    mex = world.actor(world.mex_clerk)
    request = service.create(
        mex,
        kind="mla",
        requesting_authority="PER-UCJIE",
        requested_authority="MEX-FGR",
        legal_basis="untoc-18",
        received_on=date(2026, 2, 27),
        channel="diplomatic_note",
        fields={
            "conducting_authority": "Fiscalía Provincial de Lima",
            "proceeding_type": "investigation",
            "subject": "Cohecho",
            "assistance_types": ["evidence_statements"],
            "facts": "Pagos indebidos a funcionarios.",
            "assistance_sought": "Declaración testimonial.",
            "purpose": "Juicio oral.",
            "language": "es",
        },
    )
    # Recorded as received, with the requested side: nobody drafts or signs it for Peru.
    assert request.requesting_authority is peru and request.holder_authority is world.mex
    assert request.state == "received"
    service.fire(request, "acknowledge", mex)
    service.fire(request, "request_information", mex, {"questions": "¿Qué testigo?"})
    event = service.fire(request, "provide_information", mex, {"answer": "El contador."})
    assert event.on_behalf_of_id == peru.id
    assert request.state == "formal_review"
    # An authority on mla records its own steps: nobody records them for it.
    with pytest.raises(Invalid, match="requesting_authority"):
        service.create(
            mex, kind="mla", requesting_authority="ARG-DAJIN", requested_authority="MEX-FGR",
            legal_basis="untoc-18",
        )  # fmt: skip


def test_extradition_formal_request_clock_runs_from_the_arrest(session, service, world, clock):
    arg = world.actor(world.arg_clerk)
    request = service.create(
        arg,
        kind="extradition",
        requested_authority="MEX-FGR",
        legal_basis="iace",
        fields={
            "person_description": "Varón, 45 años, 1,80 m.",
            "probable_location": "Cancún, Quintana Roo",
            "facts": "Homicidio en Rosario, 12 de enero de 2026.",
            "laws_violated": "Art. 79 Código Penal",
            "warrant_or_judgment": "Orden de detención del Juzgado Federal de Rosario",
            "undertaking": True,
            "channel": "central_authority",
        },
        urgency="urgent",
    )
    assert request.reference.startswith("EXT-ARG-2026-")
    service.fire(request, "request_provisional_arrest", arg)
    assert request.state == "provisional_arrest_requested"
    service.fire(
        request, "record_arrest", world.actor(world.mex_clerk), {"arrest_date": "2026-03-02"}
    )
    assert request.fields["arrest_date"] == "2026-03-02"
    formal = deadlines(session, request)["formal_request"]
    # The person is held in Mexico: 60 calendar days from the arrest, to the end of that day
    # in Mexico City (UTC-6), on the requested authority's calendar, while Argentina holds
    # the request (the formal request is its to send).
    assert formal.due_at == datetime(2026, 5, 2, 5, 59, 59, 999999, tzinfo=UTC)
    assert formal.authority_id == world.mex.id
    assert request.holder_authority is world.arg
    with pytest.raises(Conflict, match="runs until 2026-05-01 23:59"):
        service.fire(request, "release_for_lapse", world.actor(world.mex_clerk))
    # Hours before the end of the last day in Mexico (already 2 May in UTC): still running.
    clock.now = datetime(2026, 5, 2, 3, tzinfo=UTC)
    with pytest.raises(Conflict, match="runs until"):
        service.fire(request, "release_for_lapse", world.actor(world.mex_clerk))
    clock.now = datetime(2026, 5, 2, 6, tzinfo=UTC)
    service.fire(request, "release_for_lapse", world.actor(world.mex_clerk))
    assert deadlines(session, request)["formal_request"].outcome.value == "missed"


def test_each_party_authority_assigns_its_own_staff(session, service, world, received, make_user):
    other = make_user(world.mex, "clerk")
    with pytest.raises(NotAllowed):
        service.assign(received, other.id, world.actor(world.mex_clerk))
    # The requesting side's supervisor assigns its own clerk, not the requested side's.
    with pytest.raises(Invalid):
        service.assign(received, other.id, world.actor(world.arg_supervisor))
    event = service.assign(received, world.arg_clerk.id, world.actor(world.arg_supervisor))
    assert event.data["row"] == {"assigned": {"ARG-DAJIN": world.arg_clerk.username}}
    event = service.assign(received, other.id, world.actor(world.mex_supervisor))
    assert received.assignee_for(world.mex.id) is other
    assert received.assignee_for(world.arg.id) is world.arg_clerk  # each its own
    assert event.data == {
        "from": None,
        "to": other.username,
        "row": {"assigned": {"MEX-FGR": other.username}},
    }
    event = service.assign(received, None, world.actor(world.mex_supervisor))
    assert received.assignee_for(world.mex.id) is None
    assert received.assignee_for(world.arg.id) is world.arg_clerk
    assert event.data == {
        "from": other.username,
        "to": None,
        "row": {"assigned": {"MEX-FGR": None}},
    }
    assert chain.verify_request(session, received) is None


def test_only_an_active_colleague_can_be_assigned_and_others_read_alike(
    session, service, world, received, make_user
):
    gone = make_user(world.mex, "clerk")
    gone.active = False
    session.flush()
    supervisor = world.actor(world.mex_supervisor)
    said = set()
    # Another authority's user, an inactive colleague and an id nobody has: the same answer,
    # so that the ids of other authorities' users cannot be probed.
    for user_id in (world.arg_clerk.id, gone.id, 999_999):
        with pytest.raises(Invalid) as info:
            service.assign(received, user_id, supervisor)
        [error] = info.value.errors
        said.add((error.field, error.text))
    assert said == {("assignee", "choose an active user of MEX-FGR")}
    assert received.assignee_for(world.mex.id) is None


def test_create_and_submit_sends_a_complete_request_on(session, service, world):
    request = service.create_and_submit(
        world.actor(world.arg_clerk), kind="mla", requested_authority="MEX-FGR",
        legal_basis="untoc-18", fields=dict(MLA_FIELDS),
    )  # fmt: skip
    assert request.state != "draft"
    events = [e.data.get("event") for e in chain_events(session, request)]
    assert events[-1] == "submit_for_review"


def test_create_and_submit_names_every_missing_field_and_keeps_nothing(session, service, world):
    actor = world.actor(world.arg_clerk)
    savepoint = session.begin_nested()  # the caller's unit of work, rolled back on the error
    with pytest.raises(Incomplete) as info:
        service.create_and_submit(
            actor, kind="mla", requested_authority="MEX-FGR", legal_basis="untoc-18",
            fields={"subject": "Trata de personas"},
        )  # fmt: skip
    savepoint.rollback()
    missing = {e.field for e in info.value.errors}
    assert "conducting_authority" in missing and "subject" not in missing
    assert session.scalars(select(Request)).all() == []
    # A bad header and missing fields are told together, in one answer.
    with pytest.raises(Incomplete) as info:
        service.create_and_submit(
            actor, kind="mla", requested_authority="ARG-DAJIN", legal_basis="untoc-18",
            fields={"subject": "Trata de personas"},
        )  # fmt: skip
    fields = [e.field for e in info.value.errors]
    assert "requested_authority" in fields and "conducting_authority" in fields
    assert len(fields) == len(set(info.value.errors))
    # A complete request with a bad header is invalid, not incomplete.
    with pytest.raises(Invalid) as info:
        service.create_and_submit(
            actor, kind="mla", requested_authority="ARG-DAJIN", legal_basis="untoc-18",
            fields=dict(MLA_FIELDS),
        )  # fmt: skip
    assert not isinstance(info.value, Incomplete)


def test_only_the_counterpart_records_for_an_external_authority(session, service, world):
    authorities.add_authority(
        session, "PER-UCJIE", country="PE", name="UCJIE", timezone="America/Lima", external=True
    )
    mex, court = world.actor(world.mex_supervisor), world.actor(world.court_clerk)
    request = service.create(
        mex, kind="mla", requesting_authority="PER-UCJIE", requested_authority="MEX-FGR",
        legal_basis="untoc-18", fields={"subject": "Cohecho"},
        received_on=date(2026, 3, 2), channel="email",
    )  # fmt: skip
    assert set(service.parties(request, mex)) == {"requested", "requesting"}
    request.executing_authority = world.mex_court
    session.flush()
    # The executing authority acts for itself only: it never speaks for the requesting state.
    assert service.parties(request, court) == {"executing": None}
