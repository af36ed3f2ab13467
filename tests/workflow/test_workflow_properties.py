"""Property: random events by random parties never reach an undefined state and never let a
party fire another party's event."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workflow_support import EXTRADITION_FIELDS, MLA_FIELDS, NOW, Req

from mla.errors import MLAError, NotAllowed
from mla.workflow.model import PARTIES, ROLES, Input, Workflow
from mla.workflow.values import input_choices

SAMPLE_INPUTS = {
    "reasons": "Sufficient written reasons for the record.",
    "questions": "Which accounts?",
    "answer": "Accounts 1 and 2",
    "conditions": "Use only in case 42/2026",
    "resume_date": "2026-09-01",
    "executing_authority": "GT-MP",
    "grounds": ["essential_interests"],
    "arrest_date": "2026-02-01",
    "surrender_window_start": "2026-03-01",
    "return_date": "2026-12-01",
    "surrender_date": "2026-03-20",
    "consent_date": "2026-03-01",
    "ruling": "Extraditable",
    "outcome": "Convicted",
}


def _sample(i: Input, wf: Workflow, basis: str) -> Any:
    if i.name in SAMPLE_INPUTS:
        return SAMPLE_INPUTS[i.name]
    if i.type in ("choice", "multichoice"):
        code = input_choices(i, wf, basis)[0].code
        return code if i.type == "choice" else [code]
    return {"date": "2026-09-01", "boolean": True, "authority": "GT-MP"}.get(i.type, "Some text")


steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=200),
        st.sampled_from(PARTIES),
        st.sampled_from(ROLES),
        st.booleans(),
    ),
    max_size=40,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(["mla", "extradition"]), sequence=steps)
def test_random_events_stay_in_the_workflow(engines, name, sequence):
    engine = engines.latest(name)
    wf = engine.workflow
    fields = dict(MLA_FIELDS if name == "mla" else EXTRADITION_FIELDS)
    basis = "untoc-18" if name == "mla" else "iace"
    req = Req(wf.initial, legal_basis=basis, kind=name, fields=fields)
    events = sorted({t.event for t in wf.transitions})
    for pick, party, role, give_inputs in sequence:
        # Mostly events open from the current state, sometimes any event at all.
        open_now = [t.event for t in wf.transitions_from(req.state)]
        pool = open_now if open_now and pick % 4 else events
        event = pool[pick % len(pool)]
        t = engine.transition(req.state, event)
        inputs = {i.name: _sample(i, wf, basis) for i in t.inputs} if t and give_inputs else {}
        before = req.state
        try:
            taken = engine.fire(
                req, event, parties=frozenset({party}), role=role, inputs=inputs, now=NOW
            )
        except NotAllowed:
            assert req.state == before
            continue
        except MLAError:
            assert req.state == before
            continue
        assert taken.by == party, f"{party} fired {event}, which belongs to {taken.by}"
        assert req.state in wf.states
        assert req.state == taken.target(before)
        if t is not None and t.by != party:
            raise AssertionError("another party's event went through")
