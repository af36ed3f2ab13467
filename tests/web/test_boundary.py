"""The web boundary: every view goes through it; it reads no body before sign-in, caps what
it reads, and answers a refused form once, the same way everywhere."""

from __future__ import annotations

import io

from mla.web.boundary import FORM_MAX_BYTES


class Untouchable(io.BytesIO):
    """A request body that records whether anything read it."""

    touched = False

    def read(self, size: int | None = -1) -> bytes:
        self.touched = True
        return super().read(size)

    def read1(self, size: int | None = -1) -> bytes:
        self.touched = True
        return super().read1(size)

    def readline(self, size: int | None = -1) -> bytes:
        self.touched = True
        return super().readline(size)

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        self.touched = True
        return super().readinto(buffer)


def test_every_page_goes_through_the_boundary(app):
    outside = {"web.static", "web.healthz"}
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("web.")}
    unguarded = {
        e for e in endpoints - outside if not getattr(app.view_functions[e], "mla_boundary", False)
    }
    assert not unguarded


def test_no_body_is_read_before_sign_in(client, world, login):
    for path in ("/notifications/read", "/requests/MLA-ARG-2026-00001/events/sign", "/admin/users"):
        body = Untouchable(b"csrf_token=x&ids=1&" * 1000)
        response = client.post(
            path, input_stream=body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        assert not body.touched, path
    # Signed in, the same body is read (and refused for its CSRF token).
    login(world.mex_clerk)
    body = Untouchable(b"csrf_token=x&ids=1&" * 1000)
    response = client.post(
        "/notifications/read", input_stream=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400 and body.touched


def test_a_form_larger_than_the_cap_is_refused(client, world, login):
    token = login(world.mex_clerk)
    response = client.post(
        "/notifications/read",
        data={"csrf_token": token, "ids": "1" * (FORM_MAX_BYTES + 1)},
    )
    assert response.status_code == 413
    assert "larger than this form accepts" in response.get_data(as_text=True)
    # A form within the cap goes through.
    response = client.post("/notifications/read", data={"csrf_token": token, "ids": "1"})
    assert response.status_code == 303


def test_a_refused_action_is_flashed_on_the_page_it_came_from(client, world, received, login):
    token = login(world.mex_clerk)
    # Signing is not the requested clerk's to do: the refusal comes back to the request.
    response = client.post(
        f"/requests/{received.reference}/events/sign",
        data={"csrf_token": token, "version_id": received.version_id},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/requests/{received.reference}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not done:" in page
