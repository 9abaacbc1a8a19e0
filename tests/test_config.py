"""Configuration layers and start-up validation."""

from __future__ import annotations

import pytest

from authserver import create_app
from authserver.config import ConfigError
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
