"""Editing a draft: what may change, by whom, until when; history and optimistic locking."""

from datetime import date, timedelta

import pytest

from mla.audit import chain
from mla.audit.models import EventKind
from mla.errors import Conflict, Invalid, NotAllowed, NotFound
from mla.requests.models import Urgency
from tests.requests.test_request_service import chain_events


def test_update_changes_fields_and_records_their_names(session, service, world, new_mla, clock):
    draft = new_mla()
    version = draft.version_id
    clock.advance(hours=1)
    event = service.update(
        draft,
        world.actor(world.arg_clerk),
        fields={"subject": "Lavado de activos (ampliado)", "purpose": None},
        urgency="urgent",
        their_reference="FF3-9/2026",
        expected_version=version,
    )
    assert draft.fields["subject"] == "Lavado de activos (ampliado)"
    assert "purpose" not in draft.fields and draft.fields["facts"]  # others untouched
    assert draft.urgency == Urgency.URGENT and draft.their_reference == "FF3-9/2026"
    assert draft.updated_at == clock.now and draft.version_id > version
    assert event.kind == EventKind.FIELDS_CHANGED
    assert event.data == {"fields": ["purpose", "subject", "their_reference", "urgency"]}
    assert "Lavado" not in str(event.data)  # names, never values
    assert event.actor_user_id == world.arg_clerk.id
    assert chain.verify_request(session, draft) is None


def test_an_update_that_changes_nothing_writes_nothing(session, service, world, new_mla):
    draft = new_mla()
    before = len(chain_events(session, draft))
    same = service.update(
        draft, world.actor(world.arg_clerk), fields={"subject": draft.fields["subject"]}
    )
    assert same is None and len(chain_events(session, draft)) == before


def test_update_names_every_bad_field(service, world, new_mla, clock):
    draft = new_mla()
    with pytest.raises(Invalid) as info:
        service.update(
            draft,
            world.actor(world.arg_clerk),
            fields={"colour": "blue", "proceeding_type": "gossip"},
            urgency="whenever",
            needed_by=date(2020, 1, 1),
        )
    fields = {e.field for e in info.value.errors}
    assert {"colour", "proceeding_type", "urgency", "needed_by", "needed_by_reason"} <= fields
    assert draft.fields["proceeding_type"] == "investigation"  # nothing applied
    later = clock.now.date() + timedelta(days=30)
    service.update(
        draft, world.actor(world.arg_clerk), needed_by=later, needed_by_reason="Juicio oral"
    )
    assert draft.needed_by == later and draft.needed_by_reason == "Juicio oral"


def test_a_stale_version_is_a_conflict_naming_who_and_when(service, world, new_mla, clock):
    draft = new_mla()
    seen = draft.version_id
    service.update(draft, world.actor(world.arg_supervisor), fields={"subject": "Otro asunto"})
    with pytest.raises(Conflict) as info:
        service.update(
            draft, world.actor(world.arg_clerk), fields={"purpose": "x"}, expected_version=seen
        )
    assert world.arg_supervisor.username in info.value.message
    assert clock.now.strftime("%Y-%m-%d %H:%M") in info.value.message


def test_only_the_requesting_side_edits_and_only_before_transmission(
    service, world, new_mla, received
):
    # The requested side cannot even see a draft; once transmitted it may not edit.
    draft = new_mla()
    with pytest.raises(NotFound):
        service.update(draft, world.actor(world.mex_clerk), fields={"subject": "x"})
    with pytest.raises(NotFound):
        service.update(received, world.actor(world.col_clerk), fields={"subject": "x"})
    with pytest.raises(NotAllowed):
        service.update(received, world.actor(world.mex_clerk), fields={"subject": "x"})
    with pytest.raises(NotAllowed) as info:
        service.update(received, world.actor(world.arg_clerk), fields={"subject": "x"})
    assert "transmitted" in info.value.message
    assert received.fields["subject"] != "x"


def test_a_draft_in_legal_review_can_still_be_edited(service, world, new_mla):
    draft = new_mla()
    service.fire(draft, "submit_for_review", world.actor(world.arg_clerk))
    service.update(draft, world.actor(world.arg_supervisor), confidential=True)
    assert draft.confidential is True
