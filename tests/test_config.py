"""Configuration layers and start-up validation."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

import authserver
import authserver_plugins
from authserver import create_app
from authserver.config import BY_NAME, DEFAULTS, LIBRARY_SETTINGS, SETTINGS, ConfigError, validate_config
from tests.conftest import TEST_SECRET


@pytest.fixture
def instance(tmp_path, monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("AUTHSERVER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path))
    return tmp_path


def write_config(instance, body: str) -> None:
    (instance / "config.py").write_text(body)


def test_layers_defaults_then_instance_file_then_environment(instance, monkeypatch):
    write_config(instance, f"SECRET_KEY = {TEST_SECRET!r}\nJWKS_MAX_AGE = 120\nMAX_TOKEN_LIFETIME = 1800\n")
    monkeypatch.setenv("AUTHSERVER_JWKS_MAX_AGE", "60")
    app = create_app()
    assert app.config["JWKS_MAX_AGE"] == 60  # environment wins
    assert app.config["MAX_TOKEN_LIFETIME"] == 1800  # instance file over default
    assert app.config["KEY_PREPUBLICATION_SECONDS"] == 900  # default
    assert app.instance_path == str(instance)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance}/authserver.db"


def test_missing_secret_key_names_the_key(instance):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


@pytest.mark.parametrize(("key", "value"), [
    ("JWKS_MAX_AGE", "'soon'"),
    ("KEY_PREPUBLICATION_SECONDS", "100"),  # not longer than JWKS max-age
    ("DEFAULT_SIGNING_ALG", "'HS256'"),
    ("RSA_KEY_SIZE", "1024"),
    ("ISSUER_BASE_URL", "'auth.example.com'"),
    ("SQLALCHEMY_DATABASE_URI", "'mysql://x'"),
    ("DEFAULT_TOKEN_LIFETIME", "99999"),
])
def test_bad_setting_stops_start_up_naming_the_key(instance, key, value):
    write_config(instance, f"SECRET_KEY = {TEST_SECRET!r}\n{key} = {value}\n")
    with pytest.raises(ConfigError) as info:
        create_app()
    assert info.value.key == key
    assert key in str(info.value)


# --- names that are no setting ----------------------------------------------------------


def test_a_misspelt_environment_variable_is_refused_naming_the_nearest_key(instance, monkeypatch):
    write_config(instance, f"SECRET_KEY = {TEST_SECRET!r}\n")
    monkeypatch.setenv("AUTHSERVER_ISSUER_BASE_ULR", "https://auth.example.com")
    with pytest.raises(ConfigError) as info:
        create_app()
    assert info.value.key == "AUTHSERVER_ISSUER_BASE_ULR"
    assert str(info.value).endswith("unknown setting; did you mean AUTHSERVER_ISSUER_BASE_URL?")


def test_a_misspelt_name_in_the_instance_file_is_refused_with_the_file(instance):
    write_config(instance, f"SECRET_KEY = {TEST_SECRET!r}\nJWKS_MAXAGE = 60\n")
    with pytest.raises(ConfigError) as info:
        create_app()
    assert info.value.key == "JWKS_MAXAGE"
    assert f"(in {instance / 'config.py'})" in str(info.value) and "did you mean JWKS_MAX_AGE?" in str(info.value)


def test_helpers_of_the_instance_file_start_with_an_underscore(instance):
    write_config(instance, f"_BASE = 'https://auth.example.com'\nSECRET_KEY = {TEST_SECRET!r}\n"
                           "ISSUER_BASE_URL = _BASE\n")
    app = create_app()
    assert app.config["ISSUER_BASE_URL"] == "https://auth.example.com" and "_BASE" not in app.config


def test_a_name_far_from_every_key_points_to_the_reference(instance, monkeypatch):
    write_config(instance, f"SECRET_KEY = {TEST_SECRET!r}\n")
    monkeypatch.setenv("AUTHSERVER_ZZZ", "1")
    with pytest.raises(ConfigError, match="unknown setting; see `authserver config reference`"):
        create_app()


def test_library_settings_nested_keys_and_other_variables_are_accepted(instance, monkeypatch):
    write_config(instance, f"SECRET_KEY = {TEST_SECRET!r}\nSESSION_COOKIE_SECURE = True\n")
    monkeypatch.setenv("AUTHSERVER_SQLALCHEMY_ENGINE_OPTIONS__pool_pre_ping", "true")
    monkeypatch.setenv("AUTHSERVER_PREFERRED_URL_SCHEME", "https")
    monkeypatch.setenv("AUTHSERVER_ISSUER", "http://127.0.0.1:5000/realms/default")  # the example backend's
    monkeypatch.setenv("AUTHSERVER_ADMIN_CLIENT_SECRET", "the remote CLI's")
    app = create_app()
    assert "ADMIN_CLIENT_SECRET" not in app.config and "ISSUER" not in app.config
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}
    assert app.config["PREFERRED_URL_SCHEME"] == "https" and app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_checked_at_start_up(setting):
    config = {**DEFAULTS, "SECRET_KEY": TEST_SECRET, "SQLALCHEMY_DATABASE_URI": "sqlite://",
              setting.name: object()}
    with pytest.raises(ConfigError) as info:
        validate_config(config)
    assert info.value.key == setting.name
    if setting.secret:
        assert "object" not in str(info.value)  # a secret's value is never quoted


def test_every_setting_the_code_reads_is_in_the_table():
    """The reference cannot miss a setting: every config["X"] in the code is one of SETTINGS."""
    read = set()
    for folder in (Path(authserver.__file__).parent, Path(authserver_plugins.__file__).parent):
        for path in folder.rglob("*.py"):
            read |= set(re.findall(r"config(?:\[|\.get\()\"([A-Z][A-Z0-9_]+)\"", path.read_text()))
    assert read - set(BY_NAME) - LIBRARY_SETTINGS <= {"CLOCK"}  # tests' frozen clock, via test_config


def test_the_sqlite_file_is_created_private(instance, tmp_path):
    write_config(instance, f"SECRET_KEY = {TEST_SECRET!r}\n")
    create_app()
    assert stat.S_IMODE((instance / "authserver.db").stat().st_mode) == 0o600
