"""Editing a draft: what may change, by whom, until when; history and optimistic locking."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from mla.audit import chain
from mla.audit.models import EventKind
from mla.errors import Conflict, Invalid, NotAllowed, NotFound
from mla.requests.models import Urgency
from tests.factories import MLA_FIELDS
from tests.requests.test_request_service import chain_events, deadlines


def test_update_changes_fields_and_records_their_values(session, service, world, new_mla, clock):
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
    # The names for the reader, the values for the replay of the row (mla audit verify).
    assert event.data == {
        "fields": ["purpose", "subject", "their_reference", "urgency"],
        "row": {
            "fields_set": {"subject": "Lavado de activos (ampliado)"},
            "fields_removed": ["purpose"],
            "their_reference": "FF3-9/2026",
            "urgency": "urgent",
        },
    }
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


# --- deadlines that count from what a draft edit changes ---------------------------------

DRAFT_DEADLINES = """\
    deadlines:
      - name: prepare
        labels: {en: X, es: X, fr: X, pt: X}
        within: 60 calendar days
        anchor: needed_by
        escalation:
          - {at: 0, to: [supervisors]}
      - name: hearing_file
        labels: {en: X, es: X, fr: X, pt: X}
        within: 10 calendar days
        when: hearing
        escalation:
          - {at: 0, to: [supervisors]}
"""
HEARING_FIELD = """\
  - name: hearing
    type: boolean
    labels: {en: X, es: X, fr: X, pt: X}
"""


@pytest.fixture
def draft_deadline_service(session, clock, tmp_path):
    """The request service on a copy of the MLA workflow whose draft state declares a
    deadline counted from ``needed_by`` and one that runs while the field ``hearing`` is
    true (the shipped workflows start such deadlines only after transmission)."""
    from mla.requests.service import RequestService
    from mla.workflow import Engines, load_all

    source = (Path(__file__).resolve().parents[2] / "workflows" / "mla.yaml").read_text()
    draft = "    labels: {en: Draft, es: Borrador, fr: Projet, pt: Rascunho}\n"
    assert source.count(draft) == 1 and source.count("\nfields:\n") == 1
    source = source.replace(draft, draft + DRAFT_DEADLINES)
    source = source.replace("\nfields:\n", "\nfields:\n" + HEARING_FIELD)
    (tmp_path / "mla.yaml").write_text(source)
    return RequestService(session, Engines(load_all(tmp_path)), clock=clock)


def test_editing_needed_by_moves_the_deadline_counted_from_it(
    session, draft_deadline_service, world, clock
):
    svc, clerk = draft_deadline_service, world.actor(world.arg_clerk)
    draft = svc.create(
        clerk, kind="mla", requested_authority="MEX-FGR", legal_basis="untoc-18",
        fields=dict(MLA_FIELDS), needed_by=date(2026, 3, 20), needed_by_reason="trial date",
    )  # fmt: skip
    started = clock.now
    prepare = deadlines(session, draft)["prepare"]
    assert prepare.due_at.date() == date(2026, 3, 21)  # end of 20 March in Buenos Aires
    clock.advance(days=2)
    svc.update(draft, clerk, needed_by=date(2026, 4, 10))
    assert prepare.due_at.date() == date(2026, 4, 11)
    assert prepare.started_at == started and prepare.next_step_at == prepare.due_at
    svc.update(draft, clerk, needed_by=None)  # no date: 60 days from when it started
    assert prepare.due_at.date() == (started + timedelta(days=60)).date() + timedelta(days=1)
    # Time a pause or an extension added stays added when the count moves.
    prepare.due_at += timedelta(days=3)
    svc.update(draft, clerk, needed_by=date(2026, 4, 10), needed_by_reason="trial date")
    assert prepare.due_at.date() == date(2026, 4, 14)
    assert chain.verify_request(session, draft) is None


def test_a_deadline_runs_while_its_when_field_is_true(session, draft_deadline_service, world):
    svc, clerk = draft_deadline_service, world.actor(world.arg_clerk)
    draft = svc.create(
        clerk, kind="mla", requested_authority="MEX-FGR", legal_basis="untoc-18",
        fields=dict(MLA_FIELDS),
    )  # fmt: skip
    assert "hearing_file" not in deadlines(session, draft)
    svc.update(draft, clerk, fields={"hearing": True})
    running = deadlines(session, draft)["hearing_file"]
    assert running.is_open
    svc.update(draft, clerk, fields={"hearing": False})
    assert not running.is_open and running.outcome.value == "cancelled"
