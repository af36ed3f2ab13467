"""A request's search words follow its contents: an edit that changes them is found by its
new words (and no longer by the old ones), and a step that leaves them alone keeps them."""

from sqlalchemy import select

from mla.requests import search
from tests.requests.test_request_statements import statements


def found(session, q: str) -> set[int]:
    return set(session.scalars(select(search.matching(session, q).subquery())))


def test_an_edit_changes_the_words_a_request_is_found_by(session, service, world, new_mla):
    draft = new_mla()
    clerk = world.actor(world.arg_clerk)
    assert draft.id in found(session, "narcotráfico")
    service.update(
        draft,
        clerk,
        fields={"subject": "Cohecho transnacional de funcionarios"},
        their_reference="Legajo-7781",
    )
    assert draft.id in found(session, "cohecho funcionarios")
    assert draft.id in found(session, "LEGAJO 7781")
    assert draft.id not in found(session, "narcotráfico")
    # Back again, in a new unit of work that reads the request from its reference.
    session.expunge(draft)
    draft = service.get(clerk, draft.reference, for_change=True)
    service.update(draft, clerk, fields={"subject": "Trata de personas"})
    assert draft.id in found(session, "trata personas")
    assert draft.id not in found(session, "cohecho")
    assert draft.id in found(session, "legajo")  # what the edit left alone is still there


def test_a_step_that_leaves_the_contents_alone_keeps_the_words(session, service, world, received):
    mex = world.actor(world.mex_clerk)
    session.expunge(received)
    received = service.get(mex, received.reference, for_change=True)
    with statements(session) as seen:
        service.fire(received, "acknowledge", mex)
    assert not [s for s in seen if "request_search" in s]
    assert received.id in found(session, "narcotráfico")
