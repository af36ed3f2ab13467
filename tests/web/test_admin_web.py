"""Admin pages: users' roles and access, webhooks, undelivered notifications, the directory
entry and closure days; each only for admins, only on their own authority, only with CSRF."""

from datetime import date

import pytest

from mla.authorities.models import Role
from mla.db import utcnow
from mla.deadlines import closures
from mla.keyring import app_keyring
from mla.notify.models import Channel, Notification, Status, WebhookSubscription
from mla.notify.subscriptions import SubscriptionService

# A global address written as an IP: no DNS lookup, and not a private target.
HOOK = "https://8.8.8.8/mla-hook"


@pytest.fixture
def admin(world, make_user):
    return make_user(world.mex, "admin")


def _dead(session, authority, **kw):
    row = Notification(
        channel=Channel.EMAIL,
        event="deadline.escalated",
        authority_id=authority.id,
        address=f"desk@{authority.code.lower()}.example.org",
        subject="Overdue",
        payload={"text": "Overdue"},
        status=Status.DEAD,
        attempts=8,
        last_error="550 mailbox unavailable",
        created_at=utcnow(),
        **kw,
    )
    session.add(row)
    session.flush()
    return row


@pytest.mark.parametrize(
    "path",
    ["/admin/webhooks", "/admin/notifications", "/admin/directory", "/admin/closures"],
)
def test_admin_pages_are_for_admins_only(client, world, login, path):
    login(world.mex_supervisor)
    assert client.get(path).status_code == 403


def test_clerks_and_supervisors_cannot_post_to_admin_actions(client, world, login, admin, session):
    token = login(world.mex_supervisor)
    for path, data in [
        (f"/admin/users/{world.mex_clerk.id}/role", {"role": "admin"}),
        (f"/admin/users/{world.mex_clerk.id}/active", {"active": "0"}),
        ("/admin/webhooks", {"url": HOOK}),
        ("/admin/directory", {"languages": "fr", "contact_points.0.name": ""}),
        ("/admin/closures", {"day": "2026-12-24", "reason": "Nochebuena"}),
    ]:
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    assert world.mex_clerk.role == Role.CLERK and world.mex_clerk.active
    assert "fr" not in world.mex.languages


def test_an_admin_changes_a_role_and_deactivates_a_user(client, world, login, admin, session):
    token = login(admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{world.mex_clerk.id}/role" in page
    assert f"/admin/users/{admin.id}/role" not in page  # no controls on one's own row
    response = client.post(
        f"/admin/users/{world.mex_clerk.id}/role", data={"csrf_token": token, "role": "supervisor"}
    )
    session.expire_all()  # the app wrote through its own session
    assert response.status_code == 303 and world.mex_clerk.role == Role.SUPERVISOR
    client.post(
        f"/admin/users/{world.mex_clerk.id}/active", data={"csrf_token": token, "active": "0"}
    )
    session.expire_all()
    assert world.mex_clerk.active is False
    assert "can no longer sign in" in client.get("/admin/users").get_data(as_text=True)
    client.post(
        f"/admin/users/{world.mex_clerk.id}/active", data={"csrf_token": token, "active": "1"}
    )
    session.expire_all()
    assert world.mex_clerk.active is True


def test_an_admin_cannot_demote_themself_nor_touch_another_authority(
    client, world, login, admin, session
):
    token = login(admin)
    response = client.post(
        f"/admin/users/{admin.id}/role",
        data={"csrf_token": token, "role": "clerk"},
        follow_redirects=True,
    )
    assert "cannot change your own role" in response.get_data(as_text=True)
    client.post(f"/admin/users/{admin.id}/active", data={"csrf_token": token, "active": "0"})
    session.expire_all()
    assert admin.role == Role.ADMIN and admin.active
    response = client.post(
        f"/admin/users/{world.arg_clerk.id}/active", data={"csrf_token": token, "active": "0"}
    )
    assert response.status_code == 404 and world.arg_clerk.active
    # Without the CSRF token nothing changes.
    response = client.post(f"/admin/users/{world.mex_clerk.id}/active", data={"active": "0"})
    assert response.status_code == 400 and world.mex_clerk.active


def test_webhooks_add_with_a_secret_shown_once_then_remove(
    app, client, world, login, admin, session
):
    subscriptions = SubscriptionService(session, keyring=app_keyring(app))
    token = login(admin)
    response = client.post(
        "/admin/webhooks",
        data={"csrf_token": token, "url": HOOK, "events": ["request.state_changed"]},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "shown only this once" in page and "whsec_" in page
    [sub] = subscriptions.list(world.admin(world.mex))
    assert sub.url == HOOK and sub.events == ["request.state_changed"]
    assert "whsec_" not in client.get("/admin/webhooks").get_data(as_text=True)
    # Refused targets are named at the field.
    response = client.post(
        "/admin/webhooks", data={"csrf_token": token, "url": "http://127.0.0.1/x"}
    )
    assert response.status_code == 422 and 'id="url-error"' in response.get_data(as_text=True)
    # Another authority's subscription cannot be removed (nor seen).
    theirs, _secret = subscriptions.add(world.admin(world.arg), HOOK)
    assert (
        client.post(f"/admin/webhooks/{theirs.id}/remove", data={"csrf_token": token}).status_code
        == 404
    )
    assert theirs.active
    assert client.post(f"/admin/webhooks/{sub.id}/remove", data={}).status_code == 400
    response = client.post(f"/admin/webhooks/{sub.id}/remove", data={"csrf_token": token})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(WebhookSubscription, sub.id).active is False


def test_dead_notifications_are_listed_and_resent_within_the_authority(
    client, world, login, admin, session
):
    ours = _dead(session, world.mex)
    theirs = _dead(session, world.arg)
    token = login(admin)
    page = client.get("/admin/notifications").get_data(as_text=True)
    assert "desk@mex-fgr.example.org" in page and "550 mailbox unavailable" in page
    assert "desk@arg-dajin.example.org" not in page
    response = client.post(f"/admin/notifications/{theirs.id}/resend", data={"csrf_token": token})
    assert response.status_code == 404 and theirs.status == Status.DEAD
    assert client.post(f"/admin/notifications/{ours.id}/resend").status_code == 400
    response = client.post(f"/admin/notifications/{ours.id}/resend", data={"csrf_token": token})
    assert response.status_code == 303
    session.expire_all()
    assert ours.status == Status.PENDING and ours.attempts == 0
    # A second resend is a clear refusal, not an error page.
    page = client.post(
        f"/admin/notifications/{ours.id}/resend",
        data={"csrf_token": token},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "not dead" in page


def test_the_directory_entry_is_edited_with_errors_at_each_field(
    client, world, login, admin, session
):
    token = login(admin)
    form = {
        "csrf_token": token,
        "languages": "es, en, xx",
        "contact_points.0.name": "Guardia",
        "contact_points.0.email": "not-an-address",
        "contact_points.0.phone": "",
        "contact_points.1.name": "",
        "contact_points.1.email": "",
        "contact_points.1.phone": "",
    }
    response = client.post("/admin/directory", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="languages-error"' in page and 'id="contact-0-email-error"' in page
    form.update({"languages": "es, en", "contact_points.0.email": "guardia@fgr.example.org"})
    assert client.post("/admin/directory", data=form).status_code == 303
    session.expire_all()
    assert world.mex.languages == ["es", "en"]
    assert world.mex.contact_points == [{"name": "Guardia", "email": "guardia@fgr.example.org"}]
    page = client.get("/admin/directory").get_data(as_text=True)
    assert 'value="guardia@fgr.example.org"' in page
    form.pop("csrf_token")
    assert client.post("/admin/directory", data=form).status_code == 400


def test_closure_days_are_added_listed_and_removed(client, world, login, admin, session):
    token = login(admin)
    response = client.post(
        "/admin/closures", data={"csrf_token": token, "day": "24/12/2026", "reason": ""}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="day-error"' in page
    response = client.post(
        "/admin/closures", data={"csrf_token": token, "day": "2026-12-24", "reason": "Nochebuena"}
    )
    assert response.status_code == 303
    [closure] = closures.list_closures(session, world.mex)
    assert closure.day == date(2026, 12, 24)
    assert "Nochebuena" in client.get("/admin/closures").get_data(as_text=True)
    # The same day again is named at the field.
    response = client.post(
        "/admin/closures", data={"csrf_token": token, "day": "2026-12-24", "reason": "Otra"}
    )
    assert response.status_code == 422 and "already closed" in response.get_data(as_text=True)
    theirs = closures.add_closure(session, world.arg, date(2026, 12, 24), "Nochebuena")
    response = client.post(f"/admin/closures/{theirs.id}/delete", data={"csrf_token": token})
    assert response.status_code == 404
    assert client.post(f"/admin/closures/{closure.id}/delete").status_code == 400
    response = client.post(f"/admin/closures/{closure.id}/delete", data={"csrf_token": token})
    assert response.status_code == 303
    assert closures.list_closures(session, world.mex) == []
    assert closures.list_closures(session, world.arg) == [theirs]


def test_deactivated_users_are_signed_out(client, world, login, admin, session):
    login(world.mex_clerk)
    assert client.get("/").status_code == 200
    world.mex_clerk.active = False
    session.flush()
    assert client.get("/").status_code == 302


def test_the_webhook_cap_is_a_form_error(app, client, login, admin):
    app.config["MLA_WEBHOOK_MAX_SUBSCRIPTIONS"] = 1
    token = login(admin)
    first = client.post("/admin/webhooks", data={"csrf_token": token, "url": HOOK})
    assert first.status_code == 200 and "whsec_" in first.get_data(as_text=True)
    response = client.post("/admin/webhooks", data={"csrf_token": token, "url": HOOK + "/2"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="url-error"' in page
    assert "the most allowed" in page and "whsec_" not in page
