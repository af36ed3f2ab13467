"""Every final state of the MLA workflow, reached through /api/v1 by the parties that act:
ARG-DAJIN requests, MEX-FGR is requested, MEX-FEMDO executes. Only what the API documents:
POST /requests, POST .../events with the inputs GET /requests/{ref} lists, reads."""

from __future__ import annotations

from datetime import date, timedelta

from mla.authorities import treaties
from mla.authorities.service import update_directory_entry
from tests.api.conftest import NEW_REQUEST, Api, Callers

REASONS = "Las razones se exponen por escrito con detalle (18.23)."


def step(caller: Api, reference: str, event: str, **inputs: object) -> dict:
    """Fire ``event`` as ``caller`` after checking the API offers it to that caller."""
    offered = {e["event"]: e for e in caller.get(f"/requests/{reference}").json["available_events"]}
    assert event in offered, (event, sorted(offered))
    response = caller.fire(reference, event, **inputs)
    assert response.status_code == 200, response.json
    return response.json


def draft(api: Callers, **changes: object) -> str:
    response = api.arg.post("/requests", json={**NEW_REQUEST, **changes})
    assert response.status_code == 201, response.json
    return response.json["reference"]


def transmit(api: Callers, ref: str) -> None:
    step(api.arg, ref, "submit_for_review")
    step(api.arg_supervisor, ref, "sign")
    status = step(api.arg, ref, "transmit")
    assert status["state"] == "received" and status["holder"] == "MEX-FGR"


def to_execution(api: Callers, ref: str) -> None:
    step(api.mex, ref, "acknowledge")
    step(api.mex, ref, "pass_formal_review")
    step(api.mex, ref, "accept")
    step(api.mex, ref, "assign", executing_authority="MEX-FEMDO")
    status = step(api.court, ref, "start_execution")
    assert status["state"] == "in_execution" and status["holder"] == "MEX-FEMDO"


def deadlines(caller: Api, ref: str) -> dict[str, dict]:
    return {d["name"]: d for d in caller.get(f"/requests/{ref}").json["deadlines"]}


def test_closed_with_information_asked_before_and_during_execution(api):
    ref = draft(api)
    transmit(api, ref)
    # The requesting side's follow-up reminders run from transmission (30, 60, 90 days).
    follow = deadlines(api.arg, ref)
    assert {"follow_up_first", "follow_up_second", "follow_up_third"} <= set(follow)
    first = date.fromisoformat(follow["follow_up_first"]["due_at"][:10])
    assert 29 <= (first - date.today()).days <= 31

    step(api.mex, ref, "acknowledge")
    step(api.mex, ref, "request_information", questions="¿Número de cuenta completo?")
    assert deadlines(api.mex, ref)["decision"]["status"] == "paused"
    step(api.arg, ref, "provide_information", answer="0123456789, Banco Ejemplo.")
    step(api.mex, ref, "pass_formal_review")
    step(api.mex, ref, "accept")
    step(api.mex, ref, "assign", executing_authority="MEX-FEMDO")
    step(api.court, ref, "start_execution")
    # 18.16 during execution: the executing authority asks; its clock waits for the answer.
    status = step(api.court, ref, "request_information", questions="¿Periodo de los extractos?")
    assert status["state"] == "execution_information_requested" and status["holder"] == "ARG-DAJIN"
    assert deadlines(api.court, ref)["execution"]["status"] == "paused"
    step(api.arg, ref, "provide_information", answer="De enero de 2023 a marzo de 2025.")
    assert deadlines(api.court, ref)["execution"]["status"] == "running"
    step(api.court, ref, "transmit_partial_results", description="Extractos de 2023.")
    step(api.court, ref, "complete_execution")
    step(api.mex, ref, "transmit_results", use_limitation="Solo para la causa FF3-1234/2026.")
    status = step(api.arg, ref, "close")
    assert status["state"] == "closed" and status["outcome"] == "closed"
    assert status["closed_at"] is not None

    # 18.19 after closure: consent to use the evidence for another purpose.
    status = step(api.arg, ref, "request_use_consent", purpose="Causa conexa por cohecho.")
    assert status["state"] == "use_consent_requested_after_closure"
    assert status["holder"] == "MEX-FGR" and status["closed_at"] is None
    assert "closed_use_consent_answer" in deadlines(api.mex, ref)
    status = step(api.mex, ref, "grant_use_consent")
    assert status["state"] == "closed" and status["closed_at"] is not None


def test_withdrawn(api):
    ref = draft(api)
    transmit(api, ref)
    status = step(api.arg, ref, "withdraw", reasons="La causa fue archivada.")
    assert status["state"] == "withdrawn" and status["outcome"] == "withdrawn"
    assert api.mex.get(f"/requests/{ref}").json["available_events"] == []


def test_returned_with_reasons(api):
    ref = draft(api)
    transmit(api, ref)
    step(api.mex, ref, "acknowledge")
    response = api.mex.fire(ref, "return_with_reasons", reasons=REASONS)
    assert response.status_code == 403  # a supervisor's decision
    status = step(api.mex_supervisor, ref, "return_with_reasons", reasons=REASONS)
    assert status["state"] == "returned_with_reasons"


def test_refused_after_consultation(api):
    ref = draft(api)
    transmit(api, ref)
    step(api.mex, ref, "acknowledge")
    step(api.mex, ref, "pass_formal_review")
    step(api.mex, ref, "open_consultation", subject="possible_refusal", reasons=REASONS)
    status = step(
        api.mex_supervisor, ref, "refuse", grounds=["essential_interests"], reasons=REASONS
    )
    assert status["state"] == "refused" and status["outcome"] == "refused"


def test_accepted_in_part_then_postponed_and_refused_during_execution(api):
    ref = draft(api)
    transmit(api, ref)
    step(api.mex, ref, "acknowledge")
    step(api.mex, ref, "pass_formal_review")
    step(api.mex, ref, "open_consultation", subject="possible_refusal", reasons=REASONS)
    status = step(
        api.mex_supervisor,
        ref,
        "accept_in_part",
        part_refused="Los registros de 2025.",
        grounds=["domestic_law_bar"],
        reasons=REASONS,
    )
    assert status["state"] == "accepted_in_part"
    step(api.mex, ref, "assign", executing_authority="MEX-FEMDO")
    step(api.court, ref, "start_execution")
    # 18.25 during execution: postponed through consultation, execution's clock waits.
    step(api.mex, ref, "open_consultation", subject="possible_postponement", reasons=REASONS)
    assert deadlines(api.court, ref)["execution"]["status"] == "paused"
    resume = (date.today() + timedelta(days=20)).isoformat()
    status = step(api.mex_supervisor, ref, "postpone", reasons=REASONS, resume_date=resume)
    assert status["state"] == "execution_postponed"
    assert "execution_resumption" in deadlines(api.mex, ref)
    step(api.mex, ref, "resume")
    assert deadlines(api.court, ref)["execution"]["status"] == "running"
    step(api.mex, ref, "open_consultation", subject="partial_refusal", reasons=REASONS)
    status = step(
        api.mex_supervisor,
        ref,
        "refuse_in_part",
        part_refused="La declaración del gerente.",
        grounds=["essential_interests"],
        reasons=REASONS,
    )
    assert status["state"] == "in_execution"
    step(api.mex, ref, "open_consultation", subject="possible_refusal", reasons=REASONS)
    status = step(
        api.mex_supervisor, ref, "refuse", grounds=["contrary_to_legal_system"], reasons=REASONS
    )
    assert status["state"] == "refused"


def test_urgent_oral_request_reaches_the_requested_side_before_the_writing(api):
    ref = draft(api, urgency="urgent")
    assert api.mex.get(f"/requests/{ref}").status_code == 404  # a draft is ARG's own
    status = step(api.arg, ref, "record_oral_request", channel="Llamada de la fiscal, 9:10")
    assert status["state"] == "awaiting_written_confirmation" and status["holder"] == "MEX-FGR"
    seen = api.mex.get(f"/requests/{ref}").json
    assert "take_provisional_measures" in {e["event"] for e in seen["available_events"]}
    due = {d["name"] for d in seen["deadlines"]}
    assert {"provisional_measures", "written_confirmation"} <= due
    step(api.mex, ref, "take_provisional_measures", measures="Congelamiento de la cuenta.")
    status = step(api.arg, ref, "confirm_in_writing")
    assert status["state"] == "received"


def test_a_language_the_requested_side_does_not_accept(api, session, world):
    response = api.arg.post(
        "/requests", json={**NEW_REQUEST, "fields": {**NEW_REQUEST["fields"], "language": "fr"}}
    )
    assert response.status_code == 422
    assert any(
        e["field"] == "language" and "es, en" in e["message"] for e in response.json["errors"]
    )
    ref = draft(api)
    step(api.arg, ref, "submit_for_review")
    step(api.arg_supervisor, ref, "sign")
    # The directory changes while the request is prepared: transmission says why it cannot go.
    update_directory_entry(session, world.mex, languages=["en"], contact_points=[])
    response = api.arg.fire(ref, "transmit")
    assert response.status_code == 409
    assert "accepts en" in response.json["detail"]


def test_bilateral_treaty_sets_the_decision_deadline(api, session):
    treaties.add_treaty(
        session, "AR-MX-1990", name="Tratado AR-MX", states=("AR", "MX"),
        figures={"decide_days": 18},
    )  # fmt: skip
    treaties.add_treaty(session, "AR-CO-2000", name="Tratado AR-CO", states=("AR", "CO"))
    listed = api.arg.get("/treaties").json["items"]
    assert {t["code"] for t in listed} == {"AR-MX-1990", "AR-CO-2000"}
    fields = {**NEW_REQUEST["fields"], "treaty": "AR-CO-2000"}
    response = api.arg.post(
        "/requests", json={**NEW_REQUEST, "legal_basis": "bilateral", "fields": fields}
    )
    assert response.status_code == 422
    assert any(e["field"] == "treaty" for e in response.json["errors"])
    ref = draft(api, legal_basis="bilateral", fields={**fields, "treaty": "AR-MX-1990"})
    transmit(api, ref)
    due = date.fromisoformat(deadlines(api.mex, ref)["decision"]["due_at"][:10])
    assert 17 <= (due - date.today()).days <= 19


def test_an_authority_sets_its_own_targets(api, session, world, workflows):
    # MEX-FGR's admin shortens its own decision target; ARG's follow-ups keep the default.
    treaties.set_target(session, world.mex, workflows.latest("mla"), "decide_days", 20)
    treaties.set_target(session, world.arg, workflows.latest("mla"), "follow_up_first_days", 14)
    ref = draft(api)
    transmit(api, ref)
    due = {n: date.fromisoformat(d["due_at"][:10]) for n, d in deadlines(api.mex, ref).items()}
    assert 19 <= (due["decision"] - date.today()).days <= 21
    assert 6 <= (due["acknowledgement"] - date.today()).days <= 8  # not overridden
    assert 13 <= (due["follow_up_first"] - date.today()).days <= 15
