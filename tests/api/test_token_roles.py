import pytest

from mla.authorities import tokens
from mla.authorities.models import Role
from mla.errors import Invalid


def test_tokens_act_as_clerks_unless_issued_with_a_role(session, world):
    clerk, _ = tokens.create(session, world.arg)
    supervisor, _ = tokens.create(session, world.arg, role="supervisor")
    assert clerk.role == Role.CLERK and supervisor.role == Role.SUPERVISOR
    with pytest.raises(Invalid, match="role"):
        tokens.create(session, world.arg, role="judge")
