"""``authserver idps create|update`` with the browser login's upstream client: the secret
comes from a file or stdin (never an argument that lands in shell history), is never printed,
and bad options are one line on stderr with exit status 2."""

from __future__ import annotations

import json

import pytest
from joserfc.jwk import ECKey

from authserver.cli import main
from tests.cli_helpers import cli, cli_error

ISSUER = "https://login.example.test"
SECRET = "upstream-secret-0123456789abcdef"
CREATE = ("idps", "create", "--realm", "default", "--name", "corp", "--type", "oidc", "--issuer", ISSUER,
          "--client-id", "chat-web", "--client-id", "authserver")
UPDATE = ("idps", "update", "--realm", "default", "corp")


def test_create_takes_the_upstream_client_and_its_secret_from_a_file(runner, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    result = runner.invoke(main, [*CREATE, "--upstream-client-id", "authserver", "--upstream-auth-method",
                                  "client_secret_post", "--upstream-scope", "openid email",
                                  "--upstream-secret-file", str(secret_file), "--json"])
    assert result.exit_code == 0, result.output
    idp = json.loads(result.stdout)
    assert (idp["upstream_client_id"], idp["upstream_auth_method"], idp["upstream_scope"],
            idp["upstream_secret_set"]) == ("authserver", "client_secret_post", "openid email", True)
    assert SECRET not in result.output
    shown = runner.invoke(main, ["idps", "show", "--realm", "default", "corp"])
    assert shown.exit_code == 0 and SECRET not in shown.output and "upstream_secret_set" in shown.output


def test_a_private_jwk_comes_from_stdin(runner):
    cli(runner, *CREATE)
    key = json.dumps({**ECKey.generate_key("P-256", private=True).as_dict(private=True), "kid": "k1"})
    result = runner.invoke(main, [*UPDATE, "--upstream-client-id", "authserver", "--upstream-auth-method",
                                  "private_key_jwt", "--upstream-secret-file", "-", "--json"], input=key)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["upstream_secret_set"] is True and '"d"' not in result.output


def test_an_update_without_a_secret_keeps_it(runner, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    cli(runner, *CREATE, "--upstream-client-id", "authserver", "--upstream-secret-file", str(secret_file))
    kept = cli(runner, *UPDATE, "--upstream-scope", "openid profile")
    assert kept["upstream_secret_set"] is True and kept["upstream_scope"] == "openid profile"
    assert cli(runner, *UPDATE, "--clear-upstream-secret")["upstream_secret_set"] is False


@pytest.mark.parametrize(("args", "message"), [
    (("--upstream-auth-method", "client_secret_jwt"), "--upstream-auth-method"),
    (("--upstream-secret", SECRET), "No such option '--upstream-secret'"),  # no secret as an argument
    (("--upstream-secret-file", "{file}", "--clear-upstream-secret"), "exclude each other"),
    (("--upstream-secret-file", "{empty}"), "the file is empty"),
    (("--upstream-secret-file", "{dir}"), "--upstream-secret-file"),
    (("--upstream-scope", "openid \"quoted\""), "not a valid scope token"),
    (("--upstream-auth-method", "private_key_jwt", "--upstream-secret-file", "{file}"), "needs a private JWK"),
])
def test_bad_options_are_one_line_and_exit_2(runner, tmp_path, args, message):
    cli(runner, *CREATE)
    (tmp_path / "secret").write_text(SECRET)
    (tmp_path / "empty").write_text("  \n")
    paths = {"{file}": str(tmp_path / "secret"), "{empty}": str(tmp_path / "empty"), "{dir}": str(tmp_path)}
    line = cli_error(runner, *UPDATE, *(paths.get(a, a) for a in args))
    assert message in line and SECRET not in line


def test_the_help_names_the_options(runner):
    text = runner.invoke(main, ["idps", "update", "--help"]).output
    for option in ("--upstream-client-id", "--upstream-auth-method", "--upstream-scope", "--upstream-secret-file",
                   "--clear-upstream-secret"):
        assert option in text
