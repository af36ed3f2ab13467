"""Webhook subscriptions over the API: admins only (one rule in the service), and a cap per
authority."""

from __future__ import annotations

import pytest

HOOK = "https://8.8.8.8/mla-hook"  # a public literal: no DNS needed


@pytest.mark.parametrize("role", ["clerk", "supervisor"])
def test_only_an_admin_token_manages_subscriptions(api, world, role):
    admin = api.issue(world.arg, "admin")
    theirs = admin.post("/subscriptions", json={"url": HOOK}).json
    caller = api.issue(world.arg, role)
    for response in (
        caller.post("/subscriptions", json={"url": HOOK + "/2"}),
        caller.get("/subscriptions"),
        caller("DELETE", f"/subscriptions/{theirs['id']}"),
    ):
        assert response.status_code == 403, response.json
        assert response.mimetype == "application/problem+json"
        assert "admin" in response.json["detail"]
    assert [s["url"] for s in admin.get("/subscriptions").json["items"]] == [HOOK]


def test_subscriptions_per_authority_are_capped(app, api, world):
    app.config["MLA_WEBHOOK_MAX_SUBSCRIPTIONS"] = 2
    admin = api.issue(world.arg, "admin")
    for n in range(2):
        assert admin.post("/subscriptions", json={"url": f"{HOOK}/{n}"}).status_code == 201
    response = admin.post("/subscriptions", json={"url": f"{HOOK}/2"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    [error] = response.json["errors"]
    assert error["field"] == "url" and "the most allowed" in error["message"]
    # Another authority has its own allowance; removing one makes room again.
    assert (
        api.issue(world.mex, "admin").post("/subscriptions", json={"url": HOOK}).status_code == 201
    )
    first = admin.get("/subscriptions").json["items"][0]
    assert admin("DELETE", f"/subscriptions/{first['id']}").status_code == 204
    assert admin.post("/subscriptions", json={"url": f"{HOOK}/2"}).status_code == 201
