"""One CLI convention: the object acted on is an argument, every command that prints takes
``--json``, and text output never shows a Python repr (times in ISO 8601 UTC)."""

from __future__ import annotations

import json

import click
import pytest

from authserver.cli import main
from authserver.cli.output import text
from tests.cli_helpers import cli, cli_error

CREATED = "2027-01-15T08:00:00Z"  # the frozen clock of the tests, 1_800_000_000
NOT_PRINTING = {("run",), ("serve",), ("worker",)}  # long-running: they log, they print no result


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_command_that_prints_takes_json():
    missing = [" ".join(path) for path, command in leaf_commands(main)
               if path not in NOT_PRINTING and path[0] != "db"
               and "as_json" not in {param.name for param in command.params}]
    assert missing == []


def test_idp_commands_take_the_name_as_argument():
    idps = main.commands["idps"].commands
    for verb in ("show", "update", "delete", "enable", "disable"):
        arguments = [p.name for p in idps[verb].params if isinstance(p, click.Argument)]
        assert arguments == ["name"], verb
        assert "--name" not in {opt for p in idps[verb].params for opt in p.opts}, verb
    assert "--name" in {opt for p in idps["create"].params for opt in p.opts}


def test_the_old_name_option_is_refused(runner):
    assert "No such option '--name'" in cli_error(runner, "idps", "show", "--realm", "default",
                                                  "--name", "corp")


def lines(runner, *args) -> dict[str, str]:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)


def test_text_shows_booleans_json_and_iso_times(runner):
    cli(runner, "backends", "create", "--realm", "default", "--audience", "chat-api", "--scopes", "chat")
    created = cli(runner, "clients", "create", "--realm", "default", "--name", "web", "--public",
                  "--client-id", "web", "--audience", "chat-api", "--allow-anonymous")
    shown = lines(runner, "clients", "show", "--realm", "default", "web")
    assert shown["public"] == "true" and shown["allow_delegation"] == "false"
    assert shown["allow_anonymous"] == "true" and shown["disabled"] == "false"
    assert shown["jwks"] == "-" and shown["jwks_uri"] == "-"
    assert shown["created_at"] == CREATED and shown["updated_at"] == CREATED
    assert created["created_at"] == 1_800_000_000  # JSON keeps the numbers


def test_text_prints_objects_as_compact_json(runner, tmp_path):
    acl = tmp_path / "acl.json"
    acl.write_text(json.dumps([{"path": "/v1/users/{uid}/**", "methods": ["get"]}]))
    result = runner.invoke(main, ["backends", "create", "--realm", "default", "--audience", "chat-api",
                                  "--scopes", "chat", "--acl-template", str(acl)])
    assert result.exit_code == 0, result.output
    assert "acl_template: [{\"methods\":[\"GET\"],\"path\":\"/v1/users/{uid}/**\"}]\n" in result.stdout
    assert "'path'" not in result.stdout and "True" not in result.stdout and "False" not in result.stdout
    assert "credential_set: false\n" in result.stdout


def test_tables_show_iso_times(runner):
    table = runner.invoke(main, ["keys", "list", "--realm", "default"]).stdout.splitlines()
    assert table[0].split()[:5] == ["KID", "ALG", "STATE", "CREATED_AT", "ACTIVATES_AT"]
    assert table[1].split()[2:] == ["active", CREATED, CREATED, "-", "-"]
    realms = runner.invoke(main, ["realms", "list"]).stdout.splitlines()
    assert realms[1].split() == ["default", "-", CREATED]
    cli(runner, "backends", "create", "--realm", "default", "--audience", "chat-api", "--scopes", "chat")
    audit = runner.invoke(main, ["audit", "--realm", "default"]).stdout.splitlines()
    assert audit[0].split()[:3] == ["ID", "AT", "ACTOR"]
    assert audit[1].split()[:4] == ["2", CREATED, "cli", "backend.create"]
    assert audit[2].split()[:4] == ["1", CREATED, "system", "realm.create"]
    assert [k["created_at"] for k in cli(runner, "keys", "list", "--realm", "default")] == [1_800_000_000]


@pytest.mark.parametrize(("value", "field", "expected"), [
    (True, "", "true"), (False, "disabled", "false"), (None, "retired_at", "-"), ([], "scopes", "-"),
    (["a", "b"], "scopes", "a b"), ({"b": 1, "a": [True, None]}, "config", '{"a":[true,null],"b":1}'),
    ([{"path": "/x"}], "acl_template", '[{"path":"/x"}]'), (1_800_000_000, "created_at", CREATED),
    (1_800_000_000.7, "at", CREATED), (1_800_000_000, "tokens_not_before", CREATED),
    (1_800_000_000, "remove_after", CREATED), (300, "token_ttl", "300"), ("x", "name", "x"),
])
def test_text_of_one_value(value, field, expected):
    assert text(value, field) == expected


def test_idps_delete_takes_json(runner):
    cli(runner, "idps", "create", "--realm", "default", "--name", "corp", "--type", "oidc",
        "--issuer", "https://login.example.test", "--client-id", "web")
    assert cli(runner, "idps", "delete", "--realm", "default", "corp") == {"deleted": "corp"}
