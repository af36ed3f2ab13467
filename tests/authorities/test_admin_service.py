"""An authority's own administration: its directory entry, its users' roles and access."""

import pytest

from mla.authorities import service as authorities
from mla.authorities.models import Role, SessionEnd
from mla.deadlines import closures
from mla.errors import Invalid, NotAllowed, NotFound


def test_directory_entry_is_replaced_after_checking_each_field(session, world):
    authorities.update_directory_entry(
        session,
        world.mex,
        languages=["es", "EN", "es", ""],
        contact_points=[
            {"name": "Guardia", "email": "Guardia@Example.org", "phone": "+52 55 5346 0000"},
            {"name": "Mesa de partes", "phone": "(55) 5346-1111"},
        ],
    )
    assert world.mex.languages == ["es", "en"]
    assert world.mex.contact_points[0] == {
        "name": "Guardia",
        "email": "Guardia@example.org",
        "phone": "+52 55 5346 0000",
    }
    assert world.mex.contact_points[1] == {"name": "Mesa de partes", "phone": "(55) 5346-1111"}
    with pytest.raises(Invalid) as info:
        authorities.update_directory_entry(
            session,
            world.mex,
            languages=["xx"],
            contact_points=[
                {"name": "", "email": "not-an-address"},
                {"name": "Phone only", "phone": "call <script>"},
                {"name": "Nothing to reach"},
            ],
        )
    fields = {e.field for e in info.value.errors}
    assert fields == {
        "languages",
        "contact_points.0.name",
        "contact_points.0.email",
        "contact_points.1.phone",
        "contact_points.2.email",
    }
    assert world.mex.languages == ["es", "en"]  # unchanged
    with pytest.raises(Invalid) as info:
        authorities.update_directory_entry(session, world.mex, languages=[], contact_points=[])
    assert info.value.errors[0].field == "languages"


def test_an_admin_changes_roles_and_access_of_their_own_users_only(session, world, make_user):
    admin = make_user(world.mex, "admin")
    authorities.set_role(session, admin, world.mex_clerk.id, "supervisor")
    assert world.mex_clerk.role == Role.SUPERVISOR
    with pytest.raises(Invalid) as info:
        authorities.set_role(session, admin, world.mex_clerk.id, "boss")
    assert info.value.errors[0].field == "role"
    authorities.set_active(session, admin, world.mex_clerk.id, False)
    assert world.mex_clerk.active is False
    authorities.set_active(session, admin, world.mex_clerk.id, True)
    assert world.mex_clerk.active is True
    # Another authority's users do not exist for this admin.
    with pytest.raises(NotFound):
        authorities.set_role(session, admin, world.arg_clerk.id, "admin")
    with pytest.raises(NotFound):
        authorities.set_active(session, admin, world.arg_clerk.id, False)
    with pytest.raises(NotFound):
        authorities.set_active(session, admin, 999_999, False)
    assert world.arg_clerk.role == Role.CLERK and world.arg_clerk.active


def test_an_admin_cannot_demote_or_deactivate_themself(session, world, make_user):
    admin = make_user(world.mex, "admin")
    with pytest.raises(NotAllowed):
        authorities.set_role(session, admin, admin.id, "clerk")
    with pytest.raises(NotAllowed):
        authorities.set_active(session, admin, admin.id, False)
    assert admin.role == Role.ADMIN and admin.active
    authorities.set_role(session, admin, admin.id, "admin")  # no change: allowed


def test_closure_days_are_removed_only_by_their_authority(session, world):
    from datetime import date

    closure = closures.add_closure(session, world.mex, date(2026, 12, 24), "Nochebuena")
    with pytest.raises(NotFound):
        closures.remove_closure(session, world.arg, closure.id)
    closures.remove_closure(session, world.mex, closure.id)
    assert closures.list_closures(session, world.mex) == []
    with pytest.raises(NotFound):
        closures.remove_closure(session, world.mex, closure.id)


def test_a_central_authoritys_admin_manages_its_executing_authorities_users_only(
    session, world, seeder
):
    admin = seeder.user(world.mex, "admin", username="mex_head")
    # An executing authority of another state, even one wrongly filed under MEX-FGR.
    stray = seeder.authority("GT-MP", country="GT", kind="executing", parent_code="MEX-FGR")
    stray_clerk = seeder.user(stray, "clerk", username="gt_clerk")
    managed = authorities.managed_users(session, world.mex)
    names = [u.username for u in managed]
    assert {"mex_clerk", "mex_supervisor", "mex_head", "court_clerk"} <= set(names)
    assert not {"arg_clerk", "col_clerk", "gt_clerk"} & set(names)
    assert names.index("court_clerk") > names.index("mex_clerk")  # its own first
    for outsider in (world.arg_clerk, world.col_clerk, stray_clerk):
        with pytest.raises(NotFound):
            authorities.reset_password(session, admin, outsider.id)
        with pytest.raises(NotFound):
            authorities.set_role(session, admin, outsider.id, "admin")
    with pytest.raises(Invalid) as info:
        authorities.add_user(
            session, "intruder", authority_code="ARG-DAJIN", role="clerk",
            email="x@example.org", password="Long-enough-pass-1", managed_by=world.mex,
        )  # fmt: skip
    assert [e.field for e in info.value.errors] == ["authority"]


def test_a_reset_password_is_a_one_time_secret_that_must_be_changed(session, world, seeder):
    admin = seeder.user(world.mex, "admin", username="mex_head")
    before = world.court_clerk.password_hash
    user, temporary = authorities.reset_password(session, admin, world.court_clerk.id)
    assert user.must_change_password and user.password_hash != before
    assert temporary not in user.password_hash and authorities.verify_password(user, temporary)
    with pytest.raises(NotAllowed):
        authorities.reset_password(session, admin, admin.id)
    authorities.set_password(session, user, "Chosen-by-me-2026", SessionEnd.PASSWORD_CHANGED)
    assert not user.must_change_password
