from datetime import timedelta

import pytest

from mla.authorities import tokens
from mla.db import utcnow
from mla.errors import Conflict, NotFound


def test_token_is_stored_hashed_and_authenticates(session, make_authority):
    authority = make_authority()
    row, token = tokens.create(session, authority)
    assert token.startswith("mla_") and token not in (row.secret_hash, row.prefix)
    assert tokens.authenticate(session, token) is row
    assert row.last_used_at is not None
    assert tokens.authenticate(session, token + "x") is None


def test_revoked_and_expired_tokens_are_refused(session, make_authority):
    authority = make_authority()
    row, token = tokens.create(session, authority, valid_for=timedelta(days=1))
    assert tokens.authenticate(session, token, now=utcnow() + timedelta(days=2)) is None
    tokens.revoke(session, row.id)
    assert tokens.authenticate(session, token) is None
    with pytest.raises(Conflict):
        tokens.revoke(session, row.id)
    with pytest.raises(NotFound):
        tokens.revoke(session, 999_999)


def test_an_admin_revokes_only_its_own_authoritys_tokens(session, make_authority):
    mine, theirs = make_authority(), make_authority()
    row, _token = tokens.create(session, theirs)
    with pytest.raises(NotFound):
        tokens.revoke(session, row.id, authority=mine)
    assert row.revoked_at is None
    assert tokens.revoke(session, row.id, authority=theirs).revoked_at is not None
