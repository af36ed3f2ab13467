import stat
from pathlib import Path

import pytest

from mla import config, create_app
from mla.errors import ConfigError


def test_defaults_live_in_the_instance_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in config.SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLA_INSTANCE_DIR", str(tmp_path / "inst"))
    settings = config.load()
    assert settings["MLA_DATABASE_URL"] == f"sqlite:///{tmp_path / 'inst' / 'mla.db'}"
    assert settings["MLA_EVIDENCE_DIR"] == tmp_path / "inst" / "evidence"
    assert settings["MLA_MAX_UPLOAD_MB"] == 2048


def test_secret_key_is_generated_once_with_mode_0600(tmp_path: Path):
    first = config.load({"MLA_INSTANCE_DIR": str(tmp_path)})["MLA_SECRET_KEY"]
    second = config.load({"MLA_INSTANCE_DIR": str(tmp_path)})["MLA_SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    other = config.load({"MLA_INSTANCE_DIR": str(tmp_path / "other")})["MLA_SECRET_KEY"]
    assert other != first


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "MLA_DATABASE_URL",
            "mysql://x/y",
            "MLA_DATABASE_URL must be a sqlite:// or postgresql://",
        ),
        ("MLA_MAX_UPLOAD_MB", "lots", "MLA_MAX_UPLOAD_MB must be a positive whole number"),
        ("MLA_MAX_UPLOAD_MB", "0", "MLA_MAX_UPLOAD_MB must be a positive whole number"),
        ("MLA_WORKFLOWS_DIR", "/nonexistent/workflows", "MLA_WORKFLOWS_DIR"),
        ("MLA_SMTP_URL", "http://mail", "MLA_SMTP_URL must start with smtp://"),
        ("MLA_BASE_URL", "ftp://x", "MLA_BASE_URL must be an http(s) URL"),
        ("MLA_TRUSTED_PROXIES", "-1", "MLA_TRUSTED_PROXIES must be a whole number from 0"),
        ("MLA_TRUSTED_PROXIES", "one", "MLA_TRUSTED_PROXIES must be a whole number from 0"),
    ],
)
def test_bad_settings_fail_with_one_line(tmp_path: Path, name: str, value: str, message: str):
    with pytest.raises(ConfigError) as info:
        create_app({"MLA_INSTANCE_DIR": str(tmp_path), name: value})
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_postgresql_urls_use_psycopg(tmp_path: Path):
    settings = config.load(
        {"MLA_INSTANCE_DIR": str(tmp_path), "MLA_DATABASE_URL": "postgresql://u@h/db"}
    )
    assert settings["MLA_DATABASE_URL"] == "postgresql+psycopg://u@h/db"
