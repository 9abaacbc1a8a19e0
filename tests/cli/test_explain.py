"""``authserver explain``: the same explanation here (the host's database) and through
``--server`` (the admin API), nothing written either way, one line and exit 2 on bad input."""

from __future__ import annotations

import json

import pytest

from authserver.cli import main
from tests.cli.test_remote import Remote
from tests.cli_helpers import cli, cli_error
from tests.factories import AppBackend, make_backend
from tests.grants.test_explain import row_counts
from tests.live_server import LiveServer


@pytest.fixture
def backend(app):
    make_backend(app)
    return AppBackend(app)


def explain_args(backend, token: str, *extra: str) -> list[str]:
    return ["explain", "--realm", "default", "--client", backend.client_id, "--subject-token", token,
            "--subject-token-type", "jwt", *extra]


def without_jti(answer: dict) -> dict:
    answer = json.loads(json.dumps(answer))
    if answer["token"]:
        answer["token"]["claims"].pop("jti")
    return answer


def test_explain_prints_the_steps_and_changes_nothing(app, runner, backend, clock):
    assertion = backend.assertion("cli-user", now=clock())
    before = row_counts(app)
    answer = cli(runner, *explain_args(backend, assertion, "--audience", "chat-api"))
    assert answer["verdict"] == "issue" and answer["identity"]["outcome"] == "would create"
    text = runner.invoke(main, explain_args(backend, assertion))
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("verdict: issue\n") and "  ok    replay" in text.stdout
    assert "identity: would create (rule provisioning:create)" in text.stdout
    refused = runner.invoke(main, explain_args(backend, assertion, "--audience", "billing-api"))
    assert refused.exit_code == 0 and refused.stdout.startswith("verdict: refuse at audience: invalid_target\n")
    assert "  FAIL  audience" in refused.stdout
    assert row_counts(app) == before
    assert assertion not in text.output + refused.output


def test_the_subject_token_may_come_from_stdin(runner, backend, clock):
    result = runner.invoke(main, [*explain_args(backend, "-"), "--json"], input=backend.assertion(now=clock()) + "\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "issue"


def test_bad_input_is_one_line_and_exit_2(runner, backend, clock):
    assert "--client" in cli_error(runner, "explain", "--realm", "default", "--subject-token", "x",
                                   "--subject-token-type", "jwt")
    assert "subject_token: required" in cli_error(runner, *explain_args(backend, ""))
    assert "nowhere" in cli_error(runner, "explain", "--realm", "nowhere", "--client", "c", "--subject-token", "x",
                                  "--subject-token-type", "jwt")


def test_explain_through_the_admin_api_answers_the_same(app, runner, backend, clock):
    boot = cli(runner, "admin", "bootstrap")
    assertion = backend.assertion("remote-user", now=clock())
    local = cli(runner, *explain_args(backend, assertion))
    with LiveServer(app) as live:
        remote = Remote(live.url, boot["client_id"], boot["client_secret"])
        assert without_jti(remote.json(*explain_args(backend, assertion))) == without_jti(local)
        before = row_counts(app)  # after the admin login, which the token endpoint rate-limits
        assert remote.json(*explain_args(backend, assertion))["verdict"] == "issue"
        assert "nowhere" in remote.error("explain", "--realm", "nowhere", "--client", "c", "--subject-token", "x",
                                         "--subject-token-type", "jwt")
        assert row_counts(app) == before
