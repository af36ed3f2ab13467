import pytest

from mla.authorities import service
from mla.authorities.models import AuthorityKind, Role

# Bound when this module is collected, before tests/conftest.py lowers the cost for the suite.
from mla.authorities.service import hash_password as users_hash
from mla.errors import Conflict, Invalid, NotFound


def test_add_authority_validates_each_field(session):
    with pytest.raises(Invalid) as info:
        service.add_authority(
            session, "bad code!", country="XX", name=" ", languages=["zz"], timezone="Mars/Base"
        )
    fields = {e.field for e in info.value.errors}
    assert fields == {"code", "country", "name", "languages", "timezone"}


def test_executing_authority_needs_a_known_parent(session, make_authority):
    with pytest.raises(Invalid):
        service.add_authority(
            session, "EXEC-1", country="AR", name="Juzgado", kind=AuthorityKind.EXECUTING
        )
    with pytest.raises(NotFound):
        service.add_authority(
            session,
            "EXEC-1",
            country="AR",
            name="Juzgado",
            kind=AuthorityKind.EXECUTING,
            parent_code="NOPE",
        )
    central = make_authority()
    court = service.add_authority(
        session,
        "exec-1",
        country="AR",
        name="Juzgado",
        kind=AuthorityKind.EXECUTING,
        parent_code=central.code,
    )
    assert court.code == "EXEC-1" and court.parent is central


def test_real_users_get_scrypt_at_its_full_cost():
    assert users_hash("correct-horse-42").startswith("scrypt:32768:8:1$")


def test_duplicate_authority_code_conflicts(session, make_authority):
    make_authority("ARG-X")
    with pytest.raises(Conflict):
        make_authority("arg-x")


def test_users_get_a_scrypt_hash_and_checked_input(session, make_authority, make_user):
    authority = make_authority()
    user = make_user(authority, "supervisor", username="ana.perez")
    assert user.password_hash.startswith("scrypt:")
    assert service.verify_password(user, "correct-horse-42")
    assert not service.verify_password(user, "correct-horse-43")
    assert user.role is Role.SUPERVISOR and Role.SUPERVISOR.includes(Role.CLERK)
    with pytest.raises(Conflict):
        make_user(authority, username="ana.perez")
    with pytest.raises(Invalid, match="password"):
        make_user(authority, password="short")
    with pytest.raises(Invalid, match="email"):
        make_user(authority, email="not-an-address")
    with pytest.raises(NotFound):
        service.add_user(
            session,
            "x.y",
            authority_code="NOPE",
            role="clerk",
            email="x@example.org",
            password="correct-horse-42",
        )
