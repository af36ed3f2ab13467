"""Writers and sign-ins at once, against a real server over a database file: no 5xx.

API clients create requests while clerks sign in, mark notifications read and sign out, all
over HTTP to the server ``mla serve`` runs (cheroot), each client on its own connection. On
SQLite a unit of work that read before it wrote used to fail with "database is locked" as
soon as another writer committed first; the boundary now opens every writing unit of work
as one that may write.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from mla import create_app
from mla.authorities import service as authorities
from mla.authorities import tokens
from mla.db import get_session
from tests.factories import MLA_FIELDS, PASSWORD
from tests.serving import serving

WRITERS = 4  # API clients creating requests
CLERKS = 3  # people signing in and out
ROUNDS = 6  # per client
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def served(migrated_database_url: str, tmp_path: Path) -> Iterator[tuple[str, Flask, list[str]]]:
    app = create_app(
        {"MLA_INSTANCE_DIR": str(tmp_path / "instance"), "MLA_DATABASE_URL": migrated_database_url}
    )
    with app.app_context():
        db = get_session()
        authorities.add_authority(db, "ARG-DAJIN", country="AR", name="DAJIN")
        authorities.add_authority(db, "MEX-FGR", country="MX", name="FGR", languages=["es"])
        for i in range(CLERKS):
            authorities.add_user(
                db, f"clerk{i}", authority_code="MEX-FGR", role="clerk",
                email=f"clerk{i}@example.org", password=PASSWORD,
            )  # fmt: skip
        arg = authorities.get_authority(db, "ARG-DAJIN")
        secrets = [tokens.create(db, arg)[1] for _ in range(WRITERS)]
        db.commit()
    try:
        with serving(app, threads=WRITERS + CLERKS) as base:
            yield base, app, secrets
    finally:
        app.extensions["mla.db"].engine.dispose()


def _writer(base: str, secret: str) -> list[tuple[str, int, str]]:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {secret}"
    out = []
    for _ in range(ROUNDS):
        r = http.post(
            f"{base}/api/v1/requests",
            json={"kind": "mla", "requested_authority": "MEX-FGR", "legal_basis": "untoc-18",
                  "fields": MLA_FIELDS},
            timeout=120,
        )  # fmt: skip
        out.append(("POST /api/v1/requests", r.status_code, r.text[:300]))
    return out


def _clerk(base: str, username: str) -> list[tuple[str, int, str]]:
    out = []
    for _ in range(ROUNDS):
        http = requests.Session()
        page = http.get(f"{base}/login", timeout=120)
        token = _CSRF.search(page.text)
        assert token, page.text
        r = http.post(
            f"{base}/login",
            data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
            allow_redirects=False,
            timeout=120,
        )
        out.append(("POST /login", r.status_code, r.text[:300]))
        page = http.get(f"{base}/notifications", timeout=120)
        token = _CSRF.search(page.text)
        assert token, page.text
        csrf = token.group(1)
        r = http.post(
            f"{base}/notifications/read",
            data={"ids": ["1", "2", "3"], "csrf_token": csrf},
            allow_redirects=False,
            timeout=120,
        )
        out.append(("POST /notifications/read", r.status_code, r.text[:300]))
        r = http.post(
            f"{base}/logout", data={"csrf_token": csrf}, allow_redirects=False, timeout=120
        )
        out.append(("POST /logout", r.status_code, r.text[:300]))
    return out


def _together(jobs: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = jobs[i]()
        except Exception as exc:  # the test reports what each client got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    return results


def test_writers_and_sign_ins_together_get_no_server_error(served):
    base, _app, secrets = served
    jobs: list[Callable[[], Any]] = [lambda s=s: _writer(base, s) for s in secrets]
    jobs += [lambda i=i: _clerk(base, f"clerk{i}") for i in range(CLERKS)]
    results = _together(jobs)
    failures = [r for r in results if isinstance(r, Exception)]
    assert not failures, failures
    calls = [call for r in results for call in r]
    errors = [call for call in calls if call[1] >= 500]
    assert not errors, errors[:3]
    assert len(calls) == ROUNDS * (WRITERS + 3 * CLERKS)
    created = [c for c in calls if c[0] == "POST /api/v1/requests"]
    assert {c[1] for c in created} == {201}
    assert {c[1] for c in calls if c[0] == "POST /login"} == {302}
    assert {c[1] for c in calls if c[0] == "POST /notifications/read"} == {303}
