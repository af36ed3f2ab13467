"""The engine on a plain model: happy paths, refusals by party and role, inputs, guards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from workflow_support import EXTRADITION_FIELDS, MLA_FIELDS, NOW, Req

from mla.errors import Conflict, Invalid, NotAllowed
from mla.workflow import Engine
from mla.workflow.engine import RegistryMachine
from mla.workflow.registry import RunningDeadline

REQUESTING = frozenset({"requesting"})
REQUESTED = frozenset({"requested"})
EXECUTING = frozenset({"executing"})
REASONS = "The request concerns a matter under our own prosecution."


@pytest.fixture
def mla(engines) -> Engine:
    return engines.latest("mla")


@pytest.fixture
def ext(engines) -> Engine:
    return engines.latest("extradition")


def test_mla_happy_path_from_draft_to_closed(mla):
    req = Req("draft", fields=dict(MLA_FIELDS))
    steps = [
        ("submit_for_review", REQUESTING, "clerk", {}),
        ("sign", REQUESTING, "supervisor", {}),
        ("transmit", REQUESTING, "clerk", {}),
        ("acknowledge", REQUESTED, "clerk", {}),
        ("request_information", REQUESTED, "clerk", {"questions": "Which accounts?"}),
        ("provide_information", REQUESTING, "clerk", {"answer": "Accounts 1 and 2"}),
        ("pass_formal_review", REQUESTED, "clerk", {}),
        ("accept", REQUESTED, "clerk", {}),
        ("assign", REQUESTED, "clerk", {"executing_authority": "GT-MP-FECI"}),
    ]
    for event, parties, role, inputs in steps:
        mla.fire(req, event, parties=parties, role=role, inputs=inputs, now=NOW)
    assert req.state == "assigned"
    assert mla.owner(req.state) == "executing"
    req.executing_authority_code = "GT-MP-FECI"
    mla.fire(req, "start_execution", parties=EXECUTING, role="clerk", inputs={}, now=NOW)
    t = mla.fire(
        req,
        "transmit_partial_results",
        parties=EXECUTING,
        role="clerk",
        inputs={"description": "Statements of account 1"},
        now=NOW,
    )
    assert t.dest is None and req.state == "in_execution"
    for event, parties, inputs in [
        ("complete_execution", EXECUTING, {}),
        ("transmit_results", REQUESTED, {"use_limitation": "Only for case 42/2026"}),
        ("close", REQUESTING, {}),
    ]:
        mla.fire(req, event, parties=parties, role="clerk", inputs=inputs, now=NOW)
    assert req.state == "closed"


def test_refusal_only_through_consultation_with_grounds_from_the_basis(mla):
    req = Req("substantive_review", legal_basis="untoc-18")
    with pytest.raises(Conflict, match="not possible in state 'substantive_review'"):
        mla.fire(req, "refuse", parties=REQUESTED, role="supervisor", inputs={}, now=NOW)
    mla.fire(
        req,
        "open_consultation",
        parties=REQUESTED,
        role="clerk",
        inputs={"subject": "possible_refusal", "reasons": REASONS},
        now=NOW,
    )
    assert req.state == "consultation"
    # A Nassau ground is not in Palermo's closed list.
    with pytest.raises(Invalid) as exc:
        mla.fire(
            req,
            "refuse",
            parties=REQUESTED,
            role="supervisor",
            inputs={"grounds": ["political_offence"], "reasons": REASONS},
            now=NOW,
        )
    assert [e.field for e in exc.value.errors] == ["inputs.grounds"]
    with pytest.raises(NotAllowed, match="supervisor"):
        mla.fire(
            req,
            "refuse",
            parties=REQUESTED,
            role="clerk",
            inputs={"grounds": ["essential_interests"], "reasons": REASONS},
            now=NOW,
        )
    with pytest.raises(Conflict, match="written reasons"):
        mla.fire(
            req,
            "refuse",
            parties=REQUESTED,
            role="supervisor",
            inputs={"grounds": ["essential_interests"], "reasons": "No."},
            now=NOW,
        )
    assert req.state == "consultation"
    mla.fire(
        req,
        "refuse",
        parties=REQUESTED,
        role="admin",  # admin ⊇ supervisor
        inputs={"grounds": ["essential_interests"], "reasons": REASONS},
        now=NOW,
    )
    assert req.state == "refused"


def test_wrong_party_is_not_allowed(mla):
    req = Req("received")
    with pytest.raises(NotAllowed, match="only the requested authority"):
        mla.fire(req, "acknowledge", parties=REQUESTING, role="admin", inputs={}, now=NOW)
    assert req.state == "received"
    # One authority holding both parties may act as either.
    mla.fire(req, "acknowledge", parties=REQUESTING | REQUESTED, role="clerk", inputs={}, now=NOW)
    assert req.state == "formal_review"


def test_unknown_event_and_missing_inputs(mla):
    req = Req("formal_review")
    with pytest.raises(Invalid) as exc:
        mla.fire(req, "teleport", parties=REQUESTED, role="clerk", inputs={}, now=NOW)
    assert exc.value.errors[0].field == "event"
    with pytest.raises(Invalid) as exc:
        mla.fire(
            req,
            "request_information",
            parties=REQUESTED,
            role="clerk",
            inputs={"questions": "  ", "colour": "blue"},
            now=NOW,
        )
    assert sorted(e.field for e in exc.value.errors) == ["inputs.colour", "inputs.questions"]
    assert req.state == "formal_review"


def test_completeness_guard_reports_what_is_missing(mla):
    fields = {k: v for k, v in MLA_FIELDS.items() if k != "purpose"}
    req = Req("draft", fields=fields)
    with pytest.raises(Conflict, match="purpose is required"):
        mla.fire(req, "submit_for_review", parties=REQUESTING, role="clerk", inputs={}, now=NOW)
    assert req.state == "draft"


def test_facts_not_required_for_service_of_documents_only(mla):
    fields = {k: v for k, v in MLA_FIELDS.items() if k != "facts"}
    req = Req("draft", fields={**fields, "assistance_types": ["service_of_documents"]})
    mla.fire(req, "submit_for_review", parties=REQUESTING, role="clerk", inputs={}, now=NOW)
    assert req.state == "legal_review"


def test_bilateral_basis_requires_the_treaty(mla):
    req = Req("draft", legal_basis="bilateral", fields=dict(MLA_FIELDS))
    with pytest.raises(Conflict, match="treaty is required"):
        mla.fire(req, "submit_for_review", parties=REQUESTING, role="clerk", inputs={}, now=NOW)


def test_postponement_needs_a_future_resume_date(mla):
    req = Req("consultation")
    inputs = {"reasons": REASONS, "resume_date": (NOW - timedelta(days=1)).date().isoformat()}
    with pytest.raises(Conflict, match="in the future"):
        mla.fire(req, "postpone", parties=REQUESTED, role="supervisor", inputs=inputs, now=NOW)
    inputs["resume_date"] = "2026-06-01"
    mla.fire(req, "postpone", parties=REQUESTED, role="supervisor", inputs=inputs, now=NOW)
    mla.fire(req, "resume", parties=REQUESTED, role="clerk", inputs={}, now=NOW)
    assert req.state == "substantive_review"


def test_conditions_need_the_requesting_states_agreement(mla):
    req = Req("consultation")
    c = {"conditions": "Evidence used only in case 42/2026"}
    mla.fire(req, "propose_conditions", parties=REQUESTED, role="clerk", inputs=c, now=NOW)
    assert mla.owner(req.state) == "requesting"
    with pytest.raises(NotAllowed):
        mla.fire(req, "agree_to_conditions", parties=REQUESTED, role="admin", inputs={}, now=NOW)
    mla.fire(req, "agree_to_conditions", parties=REQUESTING, role="clerk", inputs={}, now=NOW)
    assert req.state == "accepted_with_conditions"


def test_withdrawal_from_any_open_state_and_none_from_final(mla):
    for state in ("draft", "formal_review", "in_execution", "postponed"):
        req = Req(state)
        inputs = {"reasons": "No longer needed: the case was closed."}
        mla.fire(req, "withdraw", parties=REQUESTING, role="clerk", inputs=inputs, now=NOW)
        assert req.state == "withdrawn"
    with pytest.raises(Conflict):
        mla.fire(req, "withdraw", parties=REQUESTING, role="clerk", inputs=inputs, now=NOW)


def test_available_lists_the_callers_events_with_reasons(mla):
    req = Req("draft", fields={})
    got = {a.event: a for a in mla.available(req, parties=REQUESTING, role="clerk", now=NOW)}
    assert set(got) == {"submit_for_review", "record_oral_request", "withdraw"}
    assert not got["submit_for_review"].allowed
    assert "incomplete" in got["submit_for_review"].reason
    assert got["withdraw"].allowed
    assert mla.available(req, parties=REQUESTED, role="admin", now=NOW) == []
    req = Req("consultation")
    got = {a.event: a for a in mla.available(req, parties=REQUESTED, role="clerk", now=NOW)}
    assert got["refuse"].allowed is False and "supervisor" in got["refuse"].reason
    assert got["accept"].allowed


def test_one_machine_per_version_serves_every_request(mla, engines):
    machine = mla.machine
    assert isinstance(machine, RegistryMachine)
    requests = [Req("received") for _ in range(50)]
    for req in requests:
        mla.fire(req, "acknowledge", parties=REQUESTED, role="clerk", inputs={}, now=NOW)
    assert engines.latest("mla").machine is machine
    assert machine.models == []
    assert all(r.state == "formal_review" for r in requests)
    assert not hasattr(requests[0], "acknowledge")  # no triggers bound onto the model


def test_machine_resolves_names_only_from_the_registry(mla):
    with pytest.raises(AttributeError, match="not a registered guard"):
        mla.machine.resolve_callable("os.system", None)


def test_extradition_provisional_arrest_to_surrender(ext):
    req = Req("draft", legal_basis="iace", kind="extradition", fields=dict(EXTRADITION_FIELDS))
    ext.fire(
        req, "request_provisional_arrest", parties=REQUESTING, role="clerk", inputs={}, now=NOW
    )
    t = ext.fire(
        req,
        "record_arrest",
        parties=REQUESTED,
        role="clerk",
        inputs={"arrest_date": "2026-03-01"},
        now=NOW,
    )
    assert [i.to_field for i in t.inputs] == ["arrest_date"]
    req.fields["arrest_date"] = "2026-03-01"  # the service stores to_field inputs
    # The guard asks the deadline service (here: a running deadline due in a week).
    with pytest.raises(Conflict, match="runs until"):
        ext.fire(
            req,
            "release_for_lapse",
            parties=REQUESTED,
            role="clerk",
            inputs={},
            now=NOW,
            due=lambda name: RunningDeadline(NOW + timedelta(days=7), False),
        )
    for event, parties, role, inputs in [
        ("transmit_formal_request", REQUESTING, "clerk", {"identification": "Huellas"}),
        ("acknowledge", REQUESTED, "clerk", {}),
        ("refer_to_court", REQUESTED, "clerk", {"executing_authority": "MEX-FEMDO"}),
        ("record_simplified_consent", EXECUTING, "clerk", {"consent_date": "2026-03-02"}),
        ("grant", REQUESTED, "supervisor", {"surrender_window_start": "2026-03-02"}),
        ("schedule_surrender", REQUESTED, "clerk", {"surrender_date": "2026-04-10"}),
        ("record_surrender", REQUESTED, "clerk", {}),
    ]:
        ext.fire(req, event, parties=parties, role=role, inputs=inputs, now=NOW)
    assert req.state == "surrendered"


def test_extradition_release_when_the_formal_request_is_late(ext):
    req = Req("person_arrested", legal_basis="iace", fields={"arrest_date": "2025-12-31"})
    with pytest.raises(Conflict, match="not running"):
        ext.fire(req, "release_for_lapse", parties=REQUESTED, role="clerk", inputs={}, now=NOW)
    due = {"formal_request": RunningDeadline(NOW - timedelta(seconds=1), False)}
    ext.fire(
        req, "release_for_lapse", parties=REQUESTED, role="clerk", inputs={}, now=NOW, due=due.get
    )
    assert req.state == "released_for_lapse"


def test_extradition_refused_for_nationality_is_prosecuted_at_home(ext):
    req = Req("consultation", legal_basis="untoc-16")
    inputs = {"grounds": ["dual_criminality"], "reasons": REASONS}
    with pytest.raises(Conflict, match="nationality"):
        ext.fire(
            req, "refuse_and_refer", parties=REQUESTED, role="supervisor", inputs=inputs, now=NOW
        )
    inputs["grounds"] = ["nationality"]
    ext.fire(req, "refuse_and_refer", parties=REQUESTED, role="supervisor", inputs=inputs, now=NOW)
    assert req.state == "referred_for_domestic_prosecution"


def test_request_in_a_state_the_workflow_does_not_know(mla):
    with pytest.raises(Conflict, match="unknown to this workflow"):
        mla.fire(Req("limbo"), "withdraw", parties=REQUESTING, role="clerk", inputs={}, now=NOW)
