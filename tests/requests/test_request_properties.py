"""Property: random events by random actors, through the request service and the database.

Never an undefined state, never another party's event, the holder always the owner of the
state, and a history that ``mla audit verify`` accepts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mla.audit import chain
from mla.errors import MLAError, NotAllowed, NotFound
from mla.workflow.model import Transition
from mla.workflow.values import input_choices
from tests.factories import MLA_FIELDS

EXTRADITION_FIELDS = {
    "person_description": "Varón, 45 años, 1,80 m, cicatriz en la mano izquierda.",
    "probable_location": "Cancún, Quintana Roo",
    "facts": "Homicidio en Rosario el 12 de enero de 2026.",
    "laws_violated": "Art. 79 del Código Penal",
    "warrant_or_judgment": "Orden de detención del Juzgado Federal de Rosario",
    "undertaking": True,
    "channel": "central_authority",
    "laws_text": "Art. 79: prisión de 8 a 25 años; prescripción: 15 años.",
    "identification": "Fotografías y fichas dactiloscópicas adjuntas.",
}
BASES = {"mla": "untoc-18", "extradition": "iace"}
FIELDS = {"mla": MLA_FIELDS, "extradition": EXTRADITION_FIELDS}
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _inputs(t: Transition, wf: Any, basis: str, draw: Any, today: Any) -> dict[str, Any]:
    """Plausible inputs for ``t``: mostly valid, sometimes missing."""
    values: dict[str, Any] = {}
    for i in t.inputs:
        if draw(st.integers(0, 9)) == 0:
            continue  # leave it out: the service must say which input is missing
        choices = [c.code for c in input_choices(i, wf, basis)]
        if i.type == "authority":
            values[i.name] = draw(st.sampled_from(["MEX-FEMDO", "COL-FGN", "NOPE"]))
        elif i.type == "date":
            values[i.name] = (today + timedelta(days=draw(st.integers(-70, 70)))).isoformat()
        elif i.type == "multichoice" and choices:
            values[i.name] = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=2))
        elif i.type == "choice" and choices:
            values[i.name] = draw(st.sampled_from(choices))
        elif i.type == "boolean":
            values[i.name] = draw(st.booleans())
        else:
            values[i.name] = "Motivos suficientes y por escrito para esta actuación."
    return values


@pytest.mark.parametrize("kind", ["mla", "extradition"])
@SETTINGS
@given(data=st.data())
def test_random_events_keep_every_invariant(session, service, world, clock, kind, data):
    users = [
        world.arg_clerk,
        world.arg_supervisor,
        world.mex_clerk,
        world.mex_supervisor,
        world.court_clerk,
        world.col_clerk,
    ]
    request = service.create(
        world.actor(world.arg_clerk),
        kind=kind,
        requested_authority="MEX-FGR",
        legal_basis=BASES[kind],
        fields=dict(FIELDS[kind]),
    )
    engine = service.engine(request)
    wf = engine.workflow
    events = sorted({t.event for t in wf.transitions})
    fired: list[str] = []
    for _ in range(data.draw(st.integers(1, 30))):
        # Mostly an event open now, by someone of the party that may fire it, so requests
        # travel far; sometimes any event by anyone, which must then be refused.
        open_now = [t for t in wf.transitions_from(request.state) if t.event != "withdraw"]
        if open_now and data.draw(st.integers(0, 4)):
            chosen = data.draw(st.sampled_from(open_now))
            event = chosen.event
            able = [u for u in users if chosen.by in service.parties(request, world.actor(u))]
            user = data.draw(st.sampled_from(able or users))
        else:
            event = data.draw(st.sampled_from(events))
            user = data.draw(st.sampled_from(users))
        actor = world.actor(user)
        clock.advance(days=data.draw(st.integers(0, 40)))
        before = request.state
        t = engine.transition(before, event)
        inputs = _inputs(t, wf, request.legal_basis, data.draw, clock().date()) if t else {}
        parties = service.parties(request, actor)
        savepoint = session.begin_nested()
        try:
            service.fire(request, event, actor, inputs)
        except MLAError as exc:
            savepoint.rollback()
            assert request.state == before
            if t is not None and t.by not in parties:
                assert isinstance(exc, NotAllowed | NotFound)
            continue
        savepoint.commit()
        fired.append(event)
        assert t is not None, f"{event} fired from {before}, where it is not open"
        assert t.by in parties, f"{user.username} fired {event} for the {t.by} party"
        assert request.state in wf.states
        assert request.state == t.target(before)
        owner = wf.states[request.state].owner
        assert request.holder_authority is request.answering_for(owner)
    assert chain.verify_request(session, request) is None
    assert request.event_count == len(fired) + 1
