"""``mla keys`` and ``mla evidence verify`` on a real instance folder and database."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from mla import create_app
from mla.app_services import evidence_service, request_service
from mla.authorities.models import User
from mla.cli import cli
from mla.db import get_session, unit_of_work
from mla.evidence.models import Attachment
from mla.requests.service import Actor
from tests.factories import new_mla, seed_world

from .conftest import PDF


@pytest.fixture
def instance(migrated_database_url: str, tmp_path: Path):
    """An instance with three attachments, and a function running ``mla`` on it."""
    config = {
        "MLA_INSTANCE_DIR": str(tmp_path / "instance"),
        "MLA_DATABASE_URL": migrated_database_url,
    }
    runner = CliRunner()

    def mla(*args: str):
        return runner.invoke(cli, list(args), env=config, catch_exceptions=False)

    assert mla("init").exit_code == 0
    app = create_app(config)
    with app.app_context():
        with unit_of_work() as session:
            actor = Actor.for_user(seed_world(session).arg_clerk)
            request = new_mla(request_service(), actor)
            for i in range(3):
                data = io.BytesIO(PDF + b"%d" % i)
                evidence_service().upload(request, actor, f"doc{i}.pdf", data)
        get_session().close()
    mla.app = app
    yield mla
    app.extensions["mla.db"].engine.dispose()


def attachments(mla) -> list[Attachment]:
    with mla.app.app_context():
        rows = get_session().query(Attachment).order_by(Attachment.id).all()
        get_session().close()
        return rows


def blob(mla, att: Attachment) -> Path:
    return Path(mla.app.config["MLA_EVIDENCE_DIR"]) / att.storage_key[:2] / att.storage_key


def error_line(result) -> str:
    return result.stderr.strip().splitlines()[-1]


def test_rotate_rewraps_everything_and_retire_follows(instance):
    mla = instance
    blobs = {a.id: blob(mla, a).read_bytes() for a in attachments(mla)}
    status = mla("keys", "status")
    assert status.exit_code == 0
    assert "k1   active (current)" in status.output and status.output.rstrip().endswith("3")

    refused = mla("keys", "retire", "k1")
    assert refused.exit_code == 1 and "current key" in error_line(refused)

    result = mla("keys", "rotate", "--batch", "2")
    assert result.exit_code == 0, result.output
    assert "added key k2" in result.output and "(3 re-wrapped now)" in result.output
    assert {a.key_id for a in attachments(mla)} == {"k2"}
    assert {a.id: blob(mla, a).read_bytes() for a in attachments(mla)} == blobs

    status = mla("keys", "status").output.splitlines()
    assert status[1].split()[:2] + status[1].split()[-1:] == ["k1", "active", "0"]
    assert status[2].split()[:3] + status[2].split()[-1:] == ["k2", "active", "(current)", "3"]
    retired = mla("keys", "retire", "k1")
    assert retired.exit_code == 0 and "retired key k1" in retired.output
    assert mla("evidence", "verify", "--all").exit_code == 0


def test_an_interrupted_rotation_resumes_and_retire_waits_for_it(instance):
    mla = instance
    with mla.app.app_context():
        service = evidence_service()
        service.keyring.add_key()  # the rotation started...
        with unit_of_work():
            assert service.rewrap_batch(limit=1) == 1  # ...and died after one batch
        get_session().close()
    refused = mla("keys", "retire", "k1")
    assert refused.exit_code == 1 and "still wraps 2 data key(s)" in error_line(refused)

    result = mla("keys", "rotate")
    assert result.exit_code == 0, result.output
    assert "resuming: 2 data key(s)" in result.output and "added key" not in result.output
    assert {a.key_id for a in attachments(mla)} == {"k2"}
    assert mla("keys", "retire", "k1").exit_code == 0


def test_verify_names_the_first_tampered_attachment(instance):
    mla = instance
    ok = mla("evidence", "verify", "--all")
    assert ok.exit_code == 0 and "3 attachment(s) verified" in ok.output

    second = attachments(mla)[1]
    data = bytearray(blob(mla, second).read_bytes())
    data[-20] ^= 0x01
    blob(mla, second).write_bytes(bytes(data))
    result = mla("evidence", "verify", "--all")
    assert result.exit_code == 1
    assert f"attachment {second.id} (doc1.pdf)" in error_line(result)
    assert mla("evidence", "verify", str(attachments(mla)[0].id)).exit_code == 0

    unknown = mla("evidence", "verify", "424242")
    assert unknown.exit_code == 1 and "no attachment 424242" in error_line(unknown)
    assert mla("evidence", "verify").exit_code == 2  # neither IDs nor --all


def test_verify_names_an_attachment_moved_to_another_request(instance):
    # Attack re-run (issue 12): an attachment row pointed at another request in the database
    # (which may be another authority's, who could then download it) once passed both
    # `mla evidence verify` and `mla audit verify`; its upload is recorded in the history of
    # the request it was uploaded to, and nowhere else.
    mla = instance
    first = attachments(mla)[0]
    with mla.app.app_context():
        with unit_of_work() as session:
            owner = session.get_one(Attachment, first.id).request
            user = session.get_one(User, owner.created_by_id)
            other = request_service().create(
                Actor.for_user(user), kind="mla", requested_authority="MEX-FGR",
                legal_basis="untoc-18", fields=dict(owner.fields),
            )  # fmt: skip
            session.get_one(Attachment, first.id).request_id = other.id
        get_session().close()
    result = mla("evidence", "verify", "--all")
    assert result.exit_code == 1
    assert f"attachment {first.id} (doc0.pdf)" in error_line(result)
    assert "upload" in error_line(result)
