"""``authserver realms`` and ``authserver keys``: output, --json, and one-line errors (exit 2)."""

from __future__ import annotations

import json

import pytest

from authserver.cli import main


def invoke(runner, *args):
    return runner.invoke(main, list(args))


def test_realms_create_and_list_json(runner):
    result = invoke(runner, "realms", "create", "support-chat", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["name"] == "support-chat"
    listed = json.loads(invoke(runner, "realms", "list", "--json").output)
    assert [r["name"] for r in listed] == ["default", "support-chat"]


def test_realms_list_table(runner):
    output = invoke(runner, "realms", "list").output
    assert output.splitlines()[0].split() == ["NAME", "DISPLAY_NAME", "CREATED_AT"]


@pytest.mark.parametrize("name", ["Bad Name", "UPPER", "-lead", "trail-", "a/b", "x" * 64, ""])
def test_bad_realm_name_is_one_line_exit_2(runner, name):
    result = invoke(runner, "realms", "create", "--", name)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "invalid realm name" in result.output


def test_duplicate_realm_is_refused(runner):
    result = invoke(runner, "realms", "create", "default")
    assert result.exit_code == 2
    assert "already exists" in result.output


def test_keys_rotate_and_list(runner):
    rotated = json.loads(invoke(runner, "keys", "rotate", "--realm", "default", "--alg", "EdDSA", "--json").output)
    assert rotated["state"] == "next" and rotated["alg"] == "EdDSA"
    keys = json.loads(invoke(runner, "keys", "list", "--realm", "default", "--json").output)
    assert sorted(k["state"] for k in keys) == ["active", "next"]
    assert all("private" not in json.dumps(k).lower() for k in keys)


def test_keys_errors_are_one_line_exit_2(runner):
    for args in (("keys", "list", "--realm", "nope"), ("keys", "rotate", "--realm", "nope")):
        result = invoke(runner, *args)
        assert result.exit_code == 2
        assert result.output.strip() == "Error: no realm named 'nope'"
    invoke(runner, "keys", "rotate", "--realm", "default")
    result = invoke(runner, "keys", "rotate", "--realm", "default")
    assert result.exit_code == 2 and "already pending" in result.output
    result = invoke(runner, "keys", "rotate", "--realm", "default", "--alg", "HS256")
    assert result.exit_code == 2
