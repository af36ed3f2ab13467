"""Who may list, upload and download a request's evidence."""

from __future__ import annotations

import io

import pytest

from mla.authorities import tokens
from mla.authorities.models import Role
from mla.errors import NotAllowed, NotFound
from mla.requests.recording import sync_parties
from mla.requests.service import Actor

from .conftest import PDF


@pytest.fixture
def executed(received, world, session):
    """The received request, with MEX-FEMDO as its executing authority."""
    received.executing_authority = world.mex_court
    session.flush()
    return received


def can_use_evidence(evidence, request, actor, attachment_id) -> bool:
    evidence.list(request, actor)
    evidence.get(request, actor, attachment_id)
    with evidence.download(request, actor, attachment_id) as download:
        assert b"".join(download.chunks) == PDF
    evidence.upload(request, actor, "more.pdf", io.BytesIO(PDF))
    return True


@pytest.mark.parametrize(
    "who", ["arg_clerk", "arg_supervisor", "mex_clerk", "mex_supervisor", "court_clerk"]
)
def test_every_party_may_use_the_evidence(evidence, upload, executed, world, who):
    att = upload(executed)
    assert can_use_evidence(evidence, executed, Actor.for_user(getattr(world, who)), att.id)


def test_an_api_token_of_a_party_may_use_the_evidence(evidence, upload, executed, world, session):
    att = upload(executed)
    row, _secret = tokens.create(session, world.arg)
    token = Actor.for_token(row)
    assert can_use_evidence(evidence, executed, token, att.id)
    uploaded = evidence.list(executed, token)[-1]
    assert uploaded.uploaded_by_id is None and uploaded.uploaded_by_authority_id == world.arg.id
    assert uploaded.uploaded_by_token_id == row.id


def test_an_outsider_gets_not_found_for_everything(evidence, upload, executed, world):
    att = upload(executed)
    outsider = Actor.for_user(world.col_clerk)
    with pytest.raises(NotFound):
        evidence.list(executed, outsider)
    with pytest.raises(NotFound):
        evidence.get(executed, outsider, att.id)
    with pytest.raises(NotFound):
        evidence.download(executed, outsider, att.id)
    with pytest.raises(NotFound):
        evidence.upload(executed, outsider, "x.pdf", io.BytesIO(PDF))


@pytest.fixture
def confidential(new_mla, service, world):
    """A confidential request (Palermo 18.20) transmitted by Argentina, held by Mexico."""
    request = new_mla(confidential=True)
    service.fire(request, "submit_for_review", world.actor(world.arg_clerk))
    service.fire(request, "sign", world.actor(world.arg_supervisor))
    service.fire(request, "transmit", world.actor(world.arg_clerk))
    assert request.holder_authority_id == world.mex.id
    return request


def test_confidential_evidence_is_open_to_holding_supervisors_and_the_assignee(
    evidence, confidential, world, service
):
    supervisor = Actor.for_user(world.mex_supervisor)
    att = evidence.upload(confidential, supervisor, "secreto.pdf", io.BytesIO(PDF))
    assert can_use_evidence(evidence, confidential, supervisor, att.id)

    clerk = Actor.for_user(world.mex_clerk)
    with pytest.raises(NotAllowed, match="confidential"):
        evidence.list(confidential, clerk)
    service.assign(confidential, world.mex_clerk.id, supervisor)
    assert can_use_evidence(evidence, confidential, clerk, att.id)


def test_the_requesting_supervisor_keeps_its_confidential_evidence_after_transmission(
    evidence, confidential, world
):
    # 18.20 limits disclosure outside the authorities handling the request, not their staff.
    supervisor = Actor.for_user(world.arg_supervisor)
    att = evidence.upload(confidential, supervisor, "exhorto.pdf", io.BytesIO(PDF))
    assert can_use_evidence(evidence, confidential, supervisor, att.id)


def test_the_executing_assignee_attaches_to_a_confidential_request(
    evidence, confidential, world, session
):
    # MEX-FEMDO has no supervisor account: its assignee is who works the evidence there.
    confidential.executing_authority = world.mex_court
    session.flush()
    sync_parties(session, confidential)  # as the step that names the court writes them
    confidential.party_row(world.mex_court.id).assignee = world.court_clerk
    session.flush()
    att = evidence.upload(
        confidential, Actor.for_user(world.mex_supervisor), "secreto.pdf", io.BytesIO(PDF)
    )
    assert can_use_evidence(evidence, confidential, Actor.for_user(world.court_clerk), att.id)


@pytest.mark.parametrize("who", ["arg_clerk", "court_clerk"])
def test_confidential_evidence_is_closed_to_parties_unassigned_clerks(
    evidence, confidential, world, session, who
):
    confidential.executing_authority = world.mex_court
    session.flush()
    att = evidence.upload(
        confidential, Actor.for_user(world.mex_supervisor), "secreto.pdf", io.BytesIO(PDF)
    )
    actor = Actor.for_user(getattr(world, who))
    with pytest.raises(NotAllowed):
        evidence.list(confidential, actor)
    with pytest.raises(NotAllowed):
        evidence.download(confidential, actor, att.id)
    with pytest.raises(NotAllowed):
        evidence.upload(confidential, actor, "x.pdf", io.BytesIO(PDF))


def test_confidential_evidence_is_closed_to_api_tokens_and_outsiders(
    evidence, confidential, world, session
):
    att = evidence.upload(
        confidential, Actor.for_user(world.mex_supervisor), "secreto.pdf", io.BytesIO(PDF)
    )
    row, _secret = tokens.create(session, world.mex)
    token = Actor(authority=world.mex, role=Role.SUPERVISOR, token_id=row.id)
    with pytest.raises(NotAllowed):
        evidence.download(confidential, token, att.id)
    with pytest.raises(NotFound):
        evidence.download(confidential, Actor.for_user(world.col_clerk), att.id)
