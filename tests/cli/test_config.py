"""``authserver config show`` and ``authserver config reference`` (docs/configuration.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from authserver.cli import main
from authserver.cli.config import reference_markdown
from authserver.config import RULES, SETTINGS
from authserver.crypto import key_fingerprint
from tests.conftest import TEST_SECRET

REFERENCE = Path(__file__).parents[2] / "docs" / "configuration.md"
OLD_KEY = "an-old-key-in-the-fallbacks-" + "f" * 20


@pytest.fixture
def instance(tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("AUTHSERVER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "config.py").write_text(f"SECRET_KEY = {TEST_SECRET!r}\nJWKS_MAX_AGE = 120\n")
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_the_committed_reference_is_current():
    assert REFERENCE.read_text(encoding="utf-8") == reference_markdown(), \
        "regenerate it: authserver config reference -o docs/configuration.md"


def test_the_reference_names_every_setting_default_and_rule():
    text = reference_markdown()
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in text and setting.meaning in text
    for rule in RULES:
        assert f"- `{rule.key}` {rule.requirement}." in text


def test_reference_writes_the_file_and_prints_json(tmp_path):
    result = invoke("config", "reference", "-o", str(tmp_path / "configuration.md"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "configuration.md").read_text(encoding="utf-8") == reference_markdown()
    rows = json.loads(invoke("config", "reference", "--json").stdout)
    assert [r["key"] for r in rows] == [s.name for s in SETTINGS]
    assert next(r for r in rows if r["key"] == "JWKS_MAX_AGE")["default"] == 300


def test_show_prints_the_effective_configuration_with_its_sources_secrets_redacted(instance, monkeypatch):
    monkeypatch.setenv("AUTHSERVER_SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://auth:hunter2@db:5432/auth")
    monkeypatch.setenv("AUTHSERVER_SECRET_KEY_FALLBACKS", json.dumps([OLD_KEY]))
    result = invoke("config", "show", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["key"]: row for row in json.loads(result.stdout)}
    assert [row for row in rows] == [s.name for s in SETTINGS]
    assert rows["SECRET_KEY"] == {"key": "SECRET_KEY", "source": "instance file",
                                  "value": f"<redacted> fingerprint {key_fingerprint(TEST_SECRET)}"}
    assert rows["SECRET_KEY_FALLBACKS"]["value"] == [f"<redacted> fingerprint {key_fingerprint(OLD_KEY)}"]
    assert rows["SQLALCHEMY_DATABASE_URI"] == {"key": "SQLALCHEMY_DATABASE_URI", "source": "environment",
                                               "value": "postgresql+psycopg://auth:<redacted>@db:5432/auth"}
    assert rows["JWKS_MAX_AGE"]["value"] == 120 and rows["JWKS_MAX_AGE"]["source"] == "instance file"
    assert rows["LOG_LEVEL"] == {"key": "LOG_LEVEL", "source": "default", "value": "INFO"}
    text = invoke("config", "show").stdout
    assert TEST_SECRET not in result.stdout + text and OLD_KEY not in result.stdout + text
    assert "hunter2" not in result.stdout + text
    assert "JWKS_MAX_AGE" in text and "instance file" in text


def test_show_refuses_an_unknown_name_in_one_line(instance, monkeypatch):
    monkeypatch.setenv("AUTHSERVER_JWKS_MAX_AGES", "60")
    result = invoke("config", "show")
    assert result.exit_code == 2
    assert result.stderr.strip() == ("Error: configuration error: AUTHSERVER_JWKS_MAX_AGES: unknown setting; "
                                     "did you mean AUTHSERVER_JWKS_MAX_AGE?")


def test_show_needs_no_database(instance, monkeypatch):
    monkeypatch.setenv("AUTHSERVER_SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance}/missing/dir/none.db")
    assert invoke("config", "show").exit_code == 0
