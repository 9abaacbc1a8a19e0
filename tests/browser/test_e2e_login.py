"""The browser login end to end, with parties authserver did not write: panva's
``openid-client`` (a certified Relying Party, npm) is the app, a real headless Chromium (Debian's
``chromium`` driven by npm ``playwright-core``) is the browser, npm ``oidc-provider`` is the
upstream IdP, and PyJWT verifies what authserver issued against its JWKS. authserver is served
on a real loopback port and configured through its CLI, as an operator would.

The driver is ``tests/support/browser/rp_login.mjs``; screenshots of every page the browser
stopped on, and the driver's report, are kept in ``tests/artifacts/browser/e2e/<test>/``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt as pyjwt
import pytest
import requests

from authserver.plugin_api import TOKEN_TYPE_ID_TOKEN
from tests.factories import TOKEN_EXCHANGE
from tests.support.browser.e2e import (
    ARTIFACTS,
    CHROMIUM,
    DRIVER,
    E2EStack,
    e2e_stack,
    missing_browser,
    missing_stack,
)

pytestmark = pytest.mark.integration
DRIVER_TIMEOUT = 90


@pytest.fixture
def e2e(database_url):
    """authserver and the upstream IdP on loopback, configured through the CLI."""
    reason = missing_stack()
    if reason:
        pytest.skip(reason)
    with e2e_stack(database_url) as stack:
        yield stack


@pytest.fixture
def e2e_artifacts(request, tmp_path, capsys):
    """This test's screenshot folder; copied to ``tests/artifacts/browser/e2e/<test>/`` at the end
    and the path printed. Skips the test when the browser cannot run here."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    folder = tmp_path / "browser"
    folder.mkdir()
    yield folder
    kept = ARTIFACTS / request.node.name
    shutil.rmtree(kept, ignore_errors=True)
    shutil.copytree(folder, kept, dirs_exist_ok=True)
    with capsys.disabled():
        print(f"\n  browser screenshots and report: {kept}")


def run_driver(stack: E2EStack, folder: Path, steps: list[dict] | None = None, **single) -> dict:
    """Run the node driver with ``steps`` (or one login from ``single``); return its report."""
    config = {"issuer": stack.issuer, "app_origin": stack.app_origin, "chromium": CHROMIUM,
              "screenshots": str(folder), "audience": "chat-api", "scope": "openid email chat:read",
              "upstream": {"origin": stack.upstream.issuer.rstrip("/"), "username": "alice"},
              "clients": stack.clients}
    if steps is not None:
        config["steps"] = steps
    config.update(single)
    done = subprocess.run(["node", str(DRIVER)], input=json.dumps(config), capture_output=True, text=True,
                          timeout=DRIVER_TIMEOUT, cwd=DRIVER.parent)
    assert done.returncode == 0 and done.stdout.strip(), f"driver failed: {done.stderr[-3000:]}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    (folder / "report.json").write_text(json.dumps(report, indent=2))
    assert report["error"] is None, f"the driver itself failed: {report['error']}"
    return report


def step(report: dict, name: str, *, may_fail: bool = False) -> dict:
    """One step's result; a failed step fails the test with what the browser saw."""
    result = report["steps"][name]
    if not may_fail:
        assert "error" not in result, (f"step {name} failed: {json.dumps(result['error'], indent=1)}\n"
                                       f"console: {report['console']}")
    return result


def verified_chat_jwt(stack: E2EStack, token: str) -> dict:
    signing_key = pyjwt.PyJWKClient(f"{stack.issuer}/jwks").get_signing_key_from_jwt(token)
    header = pyjwt.get_unverified_header(token)
    assert (header["typ"], header["alg"]) == ("at+jwt", "ES256")
    return pyjwt.decode(token, signing_key.key, algorithms=["ES256"], audience="chat-api", issuer=stack.issuer,
                        leeway=30)


def verified_id_token(stack: E2EStack, token: str, client_id: str) -> dict:
    signing_key = pyjwt.PyJWKClient(f"{stack.issuer}/jwks").get_signing_key_from_jwt(token)
    return pyjwt.decode(token, signing_key.key, algorithms=["ES256", "RS256", "EdDSA"], audience=client_id,
                        issuer=stack.issuer, leeway=30)


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6 for ES256/RS256: the left half of SHA-256, base64url."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def assert_pages_refuse_framing(report: dict) -> None:
    assert report["console"] == [], report["console"]  # no CSP violation, no failed style sheet or script
    documents = report["documents"]
    assert documents, "the browser saw no authserver document"
    for document in documents:
        where = f"{document['step']}: {document['status']} {document['url']}"
        assert document["x_frame_options"] == "DENY", where
        assert "frame-ancestors 'none'" in (document["csp"] or ""), where


def assert_screenshots(report: dict, *names: str) -> None:
    files = [Path(page["file"]) for page in report["pages"]]
    assert all(f.stat().st_size > 1000 for f in files), files
    for name in names:
        assert any(f.name.endswith(f"-{name}.png") for f in files), (name, [f.name for f in files])


def test_a_public_client_logs_in_refreshes_and_signs_on_once(e2e_artifacts, e2e):
    stack = e2e
    report = run_driver(stack, e2e_artifacts, [
        {"do": "login", "name": "first", "client": "widget", "choose_idp": "corp"},
        {"do": "userinfo", "name": "userinfo", "of": "first"},
        {"do": "refresh", "name": "refresh", "of": "first"},
        {"do": "login", "name": "second", "client": "admin", "scope": "openid chat:read"},
        {"do": "logout", "name": "logout", "of": "second", "post_logout_redirect_uri": stack.app_page("bye"),
         "state": "bye"},
        {"do": "login", "name": "after-logout", "client": "widget", "prompt": "none"},
    ])

    # 1. through authserver's login page and the upstream's login and consent pages
    first = step(report, "first")
    assert first["seen"][0] == "authserver-login", first["seen"]
    assert {"upstream-login", "upstream-consent"} <= set(first["seen"]), first["seen"]
    assert first["response"]["params"]["iss"] == stack.issuer  # RFC 9207; openid-client checked it too
    tokens = first["tokens"]
    assert tokens["token_type"].lower() == "bearer" and tokens["expires_in"] > 0 and tokens["refresh_token"]
    assert set(tokens["scope"].split()) == {"openid", "email", "chat:read"}

    # 2. the ID token, validated by openid-client (signature, iss, aud, nonce) and again here
    claims = first["id_token_claims"]
    id_token = verified_id_token(stack, tokens["id_token"], "chat-widget")
    assert id_token == claims and claims["nonce"] == first["request"]["params"]["nonce"]
    assert isinstance(claims["auth_time"], int) and claims["at_hash"] == at_hash(tokens["access_token"])
    assert claims["email"] == "alice@example.test"

    # 3. the chat JWT, for the backend
    chat = verified_chat_jwt(stack, tokens["access_token"])
    assert (chat["sub"], chat["idp"], chat["client_id"]) == (claims["sub"], "corp", "chat-widget")

    # 4. the same user the token exchange gives for the same upstream subject
    upstream_id_token = stack.upstream.login("alice", client_id="authserver")["id_token"]
    exchanged = requests.post(f"{stack.issuer}/token", timeout=10, data={
        "grant_type": TOKEN_EXCHANGE, "client_id": "chat-widget", "idp": "corp", "audience": "chat-api",
        "subject_token": upstream_id_token, "subject_token_type": TOKEN_TYPE_ID_TOKEN})
    assert exchanged.status_code == 200, exchanged.text
    exchanged_chat = verified_chat_jwt(stack, exchanged.json()["access_token"])
    assert (exchanged_chat["uid"], exchanged_chat["sub"]) == (chat["uid"], chat["sub"])

    # 5. userinfo answers for the same subject (openid-client checks sub)
    assert step(report, "userinfo")["claims"]["sub"] == claims["sub"]

    # 6. refresh rotates; the old token again is refused and revokes the family
    refresh = step(report, "refresh")
    assert refresh["rotated"] and verified_chat_jwt(stack, refresh["tokens"]["access_token"])["uid"] == chat["uid"]
    assert (refresh["reuse_error"], refresh["family_error"]) == ("invalid_grant", "invalid_grant")

    # 7. single sign-on: the second client, same browser, no page at all
    second = step(report, "second")
    assert second["seen"] == [], second["seen"]
    sso = second["id_token_claims"]
    assert (sso["aud"], sso["sub"], sso["auth_time"]) == ("chat-admin", claims["sub"], claims["auth_time"])

    # 8. logout returns to the registered URI with state; then prompt=none needs a login again
    assert step(report, "logout")["returned"] == f"{stack.app_page('bye')}?state=bye"
    after = step(report, "after-logout", may_fail=True)
    assert after["error"]["error"] == "login_required", after["error"]
    assert after["response"]["params"]["iss"] == stack.issuer

    assert_pages_refuse_framing(report)
    assert_screenshots(report, "first-authserver-login", "first-upstream-login", "first-upstream-consent",
                       "first-app")


def test_a_confidential_client_pushes_its_request_and_is_answered_by_form_post(e2e_artifacts, e2e):
    stack = e2e
    report = run_driver(stack, e2e_artifacts, [
        {"do": "login", "name": "pushed", "client": "console", "use_par": True, "response_mode": "form_post",
         "idp_hint": "partner", "scope": "openid profile chat:write", "login_hint": "alice"},
        {"do": "refresh", "name": "refresh", "of": "pushed"},
        {"do": "login", "name": "again", "client": "console", "use_par": True, "response_mode": "form_post",
         "idp_hint": "partner", "prompt": "login"},
    ])

    pushed = step(report, "pushed")
    assert set(pushed["request"]["params"]) == {"client_id", "request_uri"}, pushed["request"]  # RFC 9126 §4
    assert "authserver-login" not in pushed["seen"] and "upstream-login" in pushed["seen"], pushed["seen"]
    assert pushed["response"]["method"] == "POST" and pushed["response"]["params"]["iss"] == stack.issuer
    tokens = pushed["tokens"]
    chat = verified_chat_jwt(stack, tokens["access_token"])
    assert (chat["idp"], chat["client_id"]) == ("partner", "chat-console")
    assert "chat:write" in chat["scope"].split() and "chat:read" not in chat["scope"].split()
    assert pushed["id_token_claims"]["aud"] == "chat-console" and pushed["id_token_claims"]["name"]

    refresh = step(report, "refresh")
    assert refresh["rotated"] and (refresh["reuse_error"], refresh["family_error"]) == ("invalid_grant",) * 2

    again = step(report, "again")  # prompt=login: the session is not reused, the upstream asks again
    assert "upstream-login" in again["seen"] and "authserver-login" not in again["seen"], again["seen"]
    assert again["id_token_claims"]["sub"] == pushed["id_token_claims"]["sub"]
    assert again["id_token_claims"]["auth_time"] >= pushed["id_token_claims"]["auth_time"]

    assert_pages_refuse_framing(report)
    form_posts = [d for d in report["documents"] if d["status"] == 200 and "text/html" in (d["content_type"] or "")]
    assert form_posts and all(stack.app_origin in d["csp"] for d in form_posts), form_posts  # form-action
    assert_screenshots(report, "pushed-upstream-login", "pushed-app")


def test_an_anonymous_visitor_signs_in_and_keeps_their_user(e2e_artifacts, e2e):
    stack = e2e
    visitor = requests.post(f"{stack.issuer}/sessions", timeout=10, json={"client_id": "chat-widget",
                                                                          "audience": "chat-api"})
    assert visitor.status_code in (200, 201), visitor.text
    anonymous = visitor.json()
    report = run_driver(stack, e2e_artifacts, [
        {"do": "login", "name": "upgrade", "client": "widget", "use_par": True, "username": "bob",
         "extra": {"session_token": anonymous["session_token"]}, "choose_idp": "corp"},
    ])
    upgrade = step(report, "upgrade")
    assert "session_token" not in upgrade["request"]["params"]  # pushed, never in the URL
    chat = verified_chat_jwt(stack, upgrade["tokens"]["access_token"])
    assert (chat["uid"], chat["identified"]) == (anonymous["_id"], True)
    assert upgrade["id_token_claims"]["email"] == "bob@example.test"


def test_prompt_none_without_a_session_is_login_required_with_iss(e2e_artifacts, e2e):
    stack = e2e
    widget = stack.clients["widget"]
    report = run_driver(stack, e2e_artifacts, client_id=widget["client_id"], redirect_uri=widget["redirect_uri"],
                        prompt="none")
    silent = step(report, "login", may_fail=True)
    assert silent["error"]["error"] == "login_required", silent["error"]  # openid-client checked iss first
    params = silent["response"]["params"]
    assert params["iss"] == stack.issuer and params["state"] == silent["request"]["params"]["state"]
    assert "code" not in params and silent["seen"] == []


def test_every_page_refuses_to_be_framed_and_discovery_tells_it_all(e2e):
    stack = e2e
    widget = stack.clients["widget"]
    login_page = requests.get(f"{stack.issuer}/authorize", timeout=10, allow_redirects=False, params={
        "client_id": widget["client_id"], "redirect_uri": widget["redirect_uri"], "response_type": "code",
        "scope": "openid", "state": "s", "nonce": "n", "code_challenge": "E9Melhoa2OwvFrEMTJguCQaoeKm7Vx6f6Wf3eRkh3kc",
        "code_challenge_method": "S256", "audience": "chat-api"})
    unknown_client = requests.get(f"{stack.issuer}/authorize", timeout=10, params={"client_id": "nobody"})
    signed_out = requests.get(f"{stack.issuer}/logout", timeout=10)
    for page, status in ((login_page, 200), (unknown_client, 400), (signed_out, 200)):
        assert page.status_code == status and page.headers["Content-Type"].startswith("text/html"), page.url
        assert page.headers["X-Frame-Options"] == "DENY", page.url
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"], page.url
        assert page.headers["Cache-Control"] == "no-store", page.url
    assert "Continue with corp" in login_page.text and "Continue with partner" in login_page.text

    console = stack.clients["console"]
    unpushed = requests.get(f"{stack.issuer}/authorize", timeout=10, allow_redirects=False, params={
        "client_id": console["client_id"], "redirect_uri": console["redirect_uri"], "response_type": "code",
        "scope": "openid", "state": "s", "code_challenge": "E9Melhoa2OwvFrEMTJguCQaoeKm7Vx6f6Wf3eRkh3kc",
        "code_challenge_method": "S256"})
    answer = parse_qs(urlsplit(unpushed.headers["Location"]).query)
    assert (answer["error"], answer["iss"], answer["state"]) == (["invalid_request"], [stack.issuer], ["s"])

    metadata = requests.get(f"{stack.issuer}/.well-known/openid-configuration", timeout=10).json()
    assert metadata["issuer"] == stack.issuer
    for name, path in (("authorization_endpoint", "authorize"), ("pushed_authorization_request_endpoint", "par"),
                       ("token_endpoint", "token"), ("userinfo_endpoint", "userinfo"),
                       ("end_session_endpoint", "logout"), ("jwks_uri", "jwks")):
        assert metadata[name] == f"{stack.issuer}/{path}", name
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert {"query", "form_post"} <= set(metadata["response_modes_supported"])
    assert {"authorization_code", "refresh_token"} <= set(metadata["grant_types_supported"])
    assert {"none", "login"} <= set(metadata["prompt_values_supported"])
