"""A live mla server (cheroot, as `mla serve` runs, in a thread, loopback, free port) over a
migrated database seeded with the shared world, and a headless Debian chromium driven by Playwright.

The module is skipped, with the reason, when /usr/bin/chromium is absent; Playwright's own
browser downloads are never used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from mla import create_app
from mla.db import utcnow
from mla.requests.service import RequestService
from tests.factories import PASSWORD, Seeder, new_mla
from tests.serving import serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


@dataclass
class Live:
    url: str
    app: Any
    overdue_reference: str
    arg_only_reference: str


def _seed(app: Any) -> tuple[str, str]:
    """The shared world (tests/factories.py) and MEX-FGR's admin ``mex_admin``; a request
    held by MEX whose acknowledgement is overdue, and one between ARG and COL."""
    from mla.db import get_session

    with app.app_context():
        db = get_session()
        seeder = Seeder(db)
        world = seeder.world()
        seeder.user(world.mex, "admin", username="mex_admin")
        past = utcnow() - timedelta(days=20)
        svc = RequestService(db, app.extensions["mla.engines"], clock=lambda: past)
        arg = world.actor(world.arg_clerk)
        late = new_mla(svc, arg, their_reference="FF3-0001/2026")
        svc.fire(late, "submit_for_review", arg)
        svc.fire(late, "sign", world.actor(world.arg_supervisor))
        svc.fire(late, "transmit", arg)
        other = new_mla(svc, arg, requested_authority="COL-FGN")
        db.commit()
        return late.reference, other.reference


@pytest.fixture
def live(migrated_database_url: str, tmp_path: Path) -> Iterator[Live]:
    app = create_app(
        {"MLA_INSTANCE_DIR": str(tmp_path / "instance"), "MLA_DATABASE_URL": migrated_database_url}
    )
    late, other = _seed(app)
    try:
        with serving(app) as url:
            yield Live(url, app, late, other)
    finally:
        app.extensions["mla.db"].engine.dispose()


# Per module, not per session: Playwright's sync API keeps an asyncio loop running in the
# main thread while it lives, and code that runs its own loop there (pyHanko signing a
# document) would fail in every test after the browser tests.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    """A new browser context's page, closed before ``live`` stops: the server's stop waits
    (10 s) for the keep-alive connections of a browser still open."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, live: Live, username: str) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/")


def texts(locator: Any) -> list[str]:
    """The text of every match once the page has loaded. Unlike ``inner_text()``,
    ``all_inner_texts()`` does not wait: right after a click the next page may still be
    arriving, and it would read an empty table."""
    locator.page.wait_for_load_state()
    return locator.all_inner_texts()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
