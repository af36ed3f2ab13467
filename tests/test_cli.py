"""The mla command: one clear line, and a non-zero exit on bad input."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from mla import demo
from mla.cli import cli
from mla.db import make_engine, utcnow
from mla.requests.models import Request


@pytest.fixture
def mla(fresh_database_url: str, tmp_path: Path):
    runner = CliRunner()
    env = {"MLA_INSTANCE_DIR": str(tmp_path / "instance"), "MLA_DATABASE_URL": fresh_database_url}

    def run(*args: str, input: str | None = None):
        return runner.invoke(cli, list(args), env=env, input=input, catch_exceptions=False)

    assert run("init").exit_code == 0
    return run


def _one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_commands_need_an_initialised_database(tmp_path: Path, fresh_database_url: str):
    env = {"MLA_INSTANCE_DIR": str(tmp_path), "MLA_DATABASE_URL": fresh_database_url}
    result = CliRunner().invoke(cli, ["authorities", "list"], env=env)
    assert result.exit_code == 1
    assert "run `mla init`" in _one_error_line(result)


def test_init_is_idempotent(mla):
    result = mla("init")
    assert result.exit_code == 0 and "database at revision" in result.output


def test_bad_setting_is_one_line(tmp_path: Path):
    env = {"MLA_INSTANCE_DIR": str(tmp_path), "MLA_MAX_UPLOAD_MB": "many"}
    result = CliRunner().invoke(cli, ["init"], env=env)
    assert result.exit_code == 1
    assert "MLA_MAX_UPLOAD_MB" in _one_error_line(result)


def test_authorities_add_and_list(mla):
    result = mla(
        "authorities", "add", "ARG-DAJIN", "--country", "AR", "--name", "Dirección de Asistencia",
        "--languages", "es,en", "--timezone", "America/Argentina/Buenos_Aires",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    result = mla(
        "authorities", "add", "ARG-J5", "--country", "AR", "--name", "Juzgado Federal 5",
        "--kind", "executing", "--parent", "ARG-DAJIN",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    listing = mla("authorities", "list").output
    assert "ARG-DAJIN" in listing and "ARG-J5" in listing and "executing" in listing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--country", "ZZ", "--name", "X"], "country"),
        (["--country", "AR", "--name", "X", "--timezone", "Nowhere/City"], "timezone"),
        (["--country", "AR", "--name", "X", "--kind", "executing", "--parent", "NOPE"], "NOPE"),
    ],
)
def test_authorities_add_rejects_bad_input(mla, args, message):
    result = mla("authorities", "add", "NEW-1", *args)
    assert result.exit_code == 1
    assert message in _one_error_line(result)


def test_users_add_and_refusals(mla):
    mla("authorities", "add", "MEX-FGR", "--country", "MX", "--name", "FGR")
    ok = mla(
        "users", "add", "lucia", "--authority", "MEX-FGR", "--role", "clerk",
        "--email", "lucia@fgr.example.org", "--password-stdin", input="correct-horse-42\n",
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert "lucia" in mla("users", "list").output

    def add(username, authority="MEX-FGR", email="x@fgr.example.org", password="correct-horse-42"):
        return mla(
            "users", "add", username, "--authority", authority, "--role", "clerk",
            "--email", email, "--password-stdin", input=password + "\n",
        )  # fmt: skip

    assert "unknown authority" in _one_error_line(add("pedro", authority="NOPE"))
    assert "already exists" in _one_error_line(add("lucia"))
    assert "password" in _one_error_line(add("pedro", password="12345"))
    assert "email" in _one_error_line(add("pedro", email="pedro-at-fgr"))


def test_users_add_prompts_for_the_password(mla):
    mla("authorities", "add", "MEX-FGR", "--country", "MX", "--name", "FGR")
    result = mla(
        "users", "add", "rosa", "--authority", "MEX-FGR", "--role", "admin",
        "--email", "rosa@fgr.example.org", input="correct-horse-42\ncorrect-horse-42\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_users_set_password_ends_every_session(mla, fresh_database_url, tmp_path):
    from mla import create_app
    from tests.web.conftest import sign_in

    mla("authorities", "add", "MEX-FGR", "--country", "MX", "--name", "FGR")
    mla(
        "users", "add", "lucia", "--authority", "MEX-FGR", "--role", "clerk",
        "--email", "lucia@fgr.example.org", "--password-stdin", input="correct-horse-42\n",
    )  # fmt: skip
    app = create_app(
        {"MLA_INSTANCE_DIR": str(tmp_path / "web"), "MLA_DATABASE_URL": fresh_database_url}
    )
    browser = app.test_client()
    assert sign_in(browser, "lucia").status_code == 302
    weak = mla("users", "set-password", "lucia", "--password-stdin", input="12345\n")
    assert "password" in _one_error_line(weak)
    assert browser.get("/").status_code == 200  # a refused reset changes nothing
    assert "unknown user" in _one_error_line(
        mla("users", "set-password", "nadie", "--password-stdin", input="a-new-secret-77\n")
    )
    result = mla("users", "set-password", "lucia", "--password-stdin", input="a-new-secret-77\n")
    assert result.exit_code == 0 and "sessions have ended" in result.output
    assert browser.get("/").status_code == 302
    assert sign_in(app.test_client(), "lucia", "a-new-secret-77").status_code == 302
    app.extensions["mla.db"].engine.dispose()


def test_tokens_create_list_revoke(mla):
    mla("authorities", "add", "USA-OIA", "--country", "US", "--name", "OIA")
    created = mla("tokens", "create", "USA-OIA")
    assert created.exit_code == 0
    token = created.output.strip().splitlines()[-1].split()[-1]
    assert token.startswith("mla_")
    listing = mla("tokens", "list").output
    assert "USA-OIA" in listing and token not in listing and "active" in listing
    assert mla("tokens", "revoke", "1").exit_code == 0
    assert "revoked" in mla("tokens", "list").output
    assert "already revoked" in _one_error_line(mla("tokens", "revoke", "1"))
    assert "unknown authority" in _one_error_line(mla("tokens", "create", "NOPE"))


def test_tokens_expire_after_a_year_unless_told(mla):
    mla("authorities", "add", "USA-OIA", "--country", "US", "--name", "OIA")
    today = utcnow().date()
    by_default = mla("tokens", "create", "USA-OIA")
    assert f"expires {today + timedelta(days=365):%Y-%m-%d}" in by_default.output
    shorter = mla("tokens", "create", "USA-OIA", "--days", "30")
    assert f"expires {today + timedelta(days=30):%Y-%m-%d}" in shorter.output
    listing = mla("tokens", "list").output
    assert f"{today + timedelta(days=365):%Y-%m-%d}" in listing
    never = mla("tokens", "create", "USA-OIA", "--days", "0")
    assert never.exit_code != 0 and "'--days'" in never.stderr


def test_demo_is_idempotent_and_prints_logins(mla):
    first = mla("demo")
    assert first.exit_code == 0, first.output
    assert "arg.clerk / " in first.output
    second = mla("demo")
    assert second.exit_code == 0 and second.output == first.output
    listing = mla("authorities", "list").output
    for code in ("ARG-DAJIN", "BRA-DRCI", "MEX-FGR", "COL-FGN", "CHL-FN", "USA-OIA"):
        assert code in listing
    seeded = len(demo.data().requests)
    assert f"{seeded} request histories verified" in mla("audit", "verify").output


def test_demo_seeds_at_any_hour(session, engines):
    # 02:00 UTC is the evening before in the Americas: a date read off UTC would be tomorrow
    # on the demo's authorities' calendars, and refused as in the future.
    demo.seed(session, engines, now=datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    seeded = session.scalar(select(func.count()).select_from(Request))
    assert seeded == len(demo.data().requests)


def test_demo_requests_span_the_workflows_and_some_are_overdue(mla, fresh_database_url):
    mla("demo")
    engine = make_engine(fresh_database_url)
    with engine.connect() as conn:
        states: dict[str, set[str]] = {"mla": set(), "extradition": set(), "assets": set()}
        for row in conn.execute(text("SELECT kind, state FROM request")):
            states[row.kind].add(row.state)
        overdue = conn.execute(
            text("SELECT count(*) FROM deadline WHERE closed_at IS NULL AND due_at < :now"),
            {"now": utcnow().replace(tzinfo=None) if engine.dialect.name == "sqlite" else utcnow()},
        ).scalar_one()
    engine.dispose()
    assert len(states["mla"]) >= 8 and len(states["extradition"]) >= 4
    assert {"draft", "received", "execution_information_requested", "closed", "refused"} <= (
        states["mla"]
    )
    # Extradition walked past the dead ends the first version had: after a provisional
    # arrest to surrender, and through a court's binding ruling.
    assert {"surrendered", "referred_for_domestic_prosecution", "person_arrested"} <= (
        states["extradition"]
    )
    assert {"freeze_requested", "frozen", "assets_transferred"} <= states["assets"]
    assert overdue >= 2


def test_audit_verify_on_an_empty_database(mla):
    result = mla("audit", "verify")
    assert result.exit_code == 0 and "0 request histories verified" in result.output
