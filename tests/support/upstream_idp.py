"""A real OpenID Provider on loopback, for integration tests that need an upstream IdP.

Runs ``tests/support/oidc_provider/server.mjs`` (the npm package ``oidc-provider``) under
``node`` and drives the authorization code flow against it over plain HTTP with
``requests``: no browser, and no listening redirect URI (the code is read from the
``Location`` header).

    with UpstreamIdP() as idp:
        tokens = idp.login("alice")            # id_token, access_token, ...
        idp.userinfo(tokens["access_token"])   # {"sub": "alice", "email": ...}
        idp.rotate_keys()                      # new kid in the JWKS and in new ID tokens

Install the Node side once with ``npm ci --prefix tests/support/oidc_provider``.

From a shell (the README's walkthrough uses both)::

    python -m tests.support.upstream_idp serve --port 4000      # until Ctrl-C
    python -m tests.support.upstream_idp login alice --issuer http://127.0.0.1:4000   # an ID token
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

import requests

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
NPM_CI_HINT = "npm ci --prefix tests/support/oidc_provider"

DEFAULT_CLIENTS = (
    {
        "client_id": "chat-web",
        "client_secret": "chat-web-secret-0123456789abcdef0123456789abcdef",
        "redirect_uris": ["https://chat-web.example.test/callback"],
    },
    {
        "client_id": "other-app",
        "client_secret": "other-app-secret-0123456789abcdef0123456789abcdef",
        "redirect_uris": ["https://other-app.example.test/callback"],
    },
)

HTTP_TIMEOUT = 10.0
MAX_REDIRECTS = 12


class UpstreamIdPError(RuntimeError):
    """The provider could not be started, or a flow against it did not go as expected."""


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _basic_auth(client_id: str, client_secret: str) -> str:
    # RFC 6749 section 2.3.1: form-encode both parts before base64.
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def _same_endpoint(url: str, redirect_uri: str) -> bool:
    a, b = urlsplit(url), urlsplit(redirect_uri)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


def _stop_process(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


class UpstreamIdP:
    """One ``node server.mjs`` process serving an OpenID Provider on 127.0.0.1.

    ``clients`` is a list of oidc-provider client metadata dicts (``client_id``,
    ``client_secret``, ``redirect_uris``, optionally ``id_token_signed_response_alg`` ...);
    the default registers ``chat-web`` and ``other-app``. ``accounts`` maps a login name
    to claims that override the derived ones (``sub`` is always the login name;
    ``email`` is ``<name>@example.test``, ``email_verified`` true, names derived).
    """

    def __init__(
        self,
        clients: list[dict] | None = None,
        *,
        accounts: dict[str, dict] | None = None,
        port: int | None = None,
        workdir: str | os.PathLike | None = None,
        startup_timeout: float = 20.0,
        node: str = "node",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self._clients = copy.deepcopy(
            list(clients if clients is not None else DEFAULT_CLIENTS)
        )
        self._accounts = copy.deepcopy(accounts or {})
        self._port = port
        self._startup_timeout = startup_timeout
        self._node = node
        self._extra_env = dict(extra_env or {})
        self._owns_workdir = workdir is None
        self._workdir = (
            Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="upstream-idp-"))
        )
        self._proc: subprocess.Popen | None = None
        self._attached = False
        self._discovery: dict | None = None
        # What must be cleaned up even if the object is dropped without close().
        self._state = {
            "proc": None,
            "workdir": self._workdir,
            "owns": self._owns_workdir,
        }
        self._finalizer = weakref.finalize(self, UpstreamIdP._cleanup, self._state)

    # -- lifecycle -----------------------------------------------------------------

    @staticmethod
    def _cleanup(state: dict) -> None:
        _stop_process(state["proc"])
        if state["owns"]:
            shutil.rmtree(state["workdir"], ignore_errors=True)

    def start(self) -> Self:
        """Start node on a free loopback port (or the fixed one) and wait for discovery."""
        if self.running:
            return self
        self._check_installed()
        fixed_port = self._port is not None
        attempts_left = 1 if fixed_port else 3
        while True:
            attempts_left -= 1
            port = self._port if fixed_port else _free_loopback_port()
            try:
                self._spawn(port)
                self._wait_ready()
            except UpstreamIdPError:
                if attempts_left and "EADDRINUSE" in self._stderr_tail():
                    continue  # lost a race for the port: pick another one
                raise
            self._port = port
            return self

    def stop(self) -> None:
        """Stop node. Keys and the chosen port are kept, so ``start()`` comes back the same."""
        _stop_process(self._proc)
        self._proc = self._state["proc"] = None

    def restart(self) -> Self:
        """Stop and start again on the same port with the same keys (sessions are lost)."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop node and delete the working directory (keys) if this object created it."""
        self.stop()
        self._finalizer()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._attached or (self._proc is not None and self._proc.poll() is None)

    @classmethod
    def attach(cls, issuer: str, clients: list[dict] | None = None) -> UpstreamIdP:
        """A handle on a ``server.mjs`` another process started at ``issuer``, with the same
        ``clients`` (default: ``chat-web`` and ``other-app``): the flows and the control
        surface work; ``start``/``stop`` do nothing."""
        idp = cls(clients, workdir=tempfile.gettempdir())
        idp._attached, idp._issuer = True, issuer.rstrip("/")
        return idp

    def _check_installed(self) -> None:
        if shutil.which(self._node) is None:
            raise UpstreamIdPError(
                f"'{self._node}' not found on PATH: Node.js 20+ is needed"
            )
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            raise UpstreamIdPError(
                f"{PROVIDER_DIR / 'node_modules'} is missing; run `{NPM_CI_HINT}` first"
            )

    def _spawn(self, port: int) -> None:
        env = dict(os.environ)
        env.update(
            PORT=str(port),
            ISSUER=f"http://127.0.0.1:{port}",
            KEYS_FILE=str(self.keys_file),
            CLIENTS=json.dumps(self._clients),
            ACCOUNTS=json.dumps(self._accounts),
        )
        env.update(self._extra_env)
        self._stdout_path = self._workdir / "stdout.log"
        self._stderr_path = self._workdir / "stderr.log"
        with open(self._stdout_path, "wb") as out, open(self._stderr_path, "wb") as err:
            self._proc = subprocess.Popen(
                [self._node, "server.mjs"],
                cwd=PROVIDER_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        self._state["proc"] = self._proc
        self._issuer = f"http://127.0.0.1:{port}"
        self._discovery = None

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        url = f"{self._issuer}/.well-known/openid-configuration"
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise UpstreamIdPError(
                    f"node server.mjs exited with status {self._proc.returncode} before it was "
                    f"ready; stderr:\n{self._stderr_tail()}"
                )
            try:
                resp = requests.get(url, timeout=1.0)
                if resp.status_code == 200:
                    self._discovery = resp.json()
                    return
                last_error = UpstreamIdPError(f"discovery answered {resp.status_code}")
            except requests.RequestException as exc:
                last_error = exc
            time.sleep(0.05)
        _stop_process(self._proc)
        raise UpstreamIdPError(
            f"upstream IdP not ready at {url} within {self._startup_timeout}s "
            f"(last error: {last_error}); stderr:\n{self._stderr_tail()}"
        )

    def _stderr_tail(self, limit: int = 4000) -> str:
        try:
            return self._stderr_path.read_text(errors="replace")[-limit:]
        except (AttributeError, OSError):
            return "(no stderr captured)"

    # -- facts ---------------------------------------------------------------------

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def issuer(self) -> str:
        self._require_running()
        return self._issuer

    @property
    def keys_file(self) -> Path:
        return self._workdir / "jwks.private.json"

    @property
    def discovery(self) -> dict:
        self._require_running()
        if self._discovery is None:
            self._discovery = self._get_json(
                f"{self._issuer}/.well-known/openid-configuration"
            )
        return self._discovery

    @property
    def jwks_uri(self) -> str:
        return self.discovery["jwks_uri"]

    def jwks(self) -> dict:
        """The public JWKS as served now."""
        return self._get_json(self.jwks_uri)

    def client(self, client_id: str) -> dict:
        for client in self._clients:
            if client["client_id"] == client_id:
                return client
        raise UpstreamIdPError(
            f"no client {client_id!r} is registered at the upstream IdP"
        )

    @property
    def clients(self) -> list[dict]:
        return copy.deepcopy(self._clients)

    def _require_running(self) -> None:
        if not self.running:
            raise UpstreamIdPError(
                "the upstream IdP is not running: call start() first"
            )

    def _get_json(self, url: str) -> dict:
        resp = requests.get(url, timeout=HTTP_TIMEOUT)
        if resp.status_code != 200:
            raise UpstreamIdPError(
                f"GET {url} answered {resp.status_code}: {resp.text[:500]}"
            )
        return resp.json()

    # -- control -------------------------------------------------------------------

    def rotate_keys(self, *, keep_previous: bool = False) -> list[str]:
        """Replace the signing keys; returns the kids now published (new ones first).

        With ``keep_previous`` the old public keys stay in the JWKS (as after a graceful
        rotation) but new tokens are signed with the new keys.
        """
        return self._control("rotate-keys", {"keep_previous": keep_previous})["kids"]

    def set_account(self, username: str, **claims) -> None:
        """Override claims of one account (e.g. ``email_verified=False``) from now on."""
        self._accounts.setdefault(username, {}).update(claims)
        self._control("accounts", {username: claims})

    def _control(self, action: str, body: dict) -> dict:
        self._require_running()
        url = f"{self._issuer}/__control/{action}"
        resp = requests.post(url, json=body, timeout=HTTP_TIMEOUT)
        if resp.status_code != 200:
            raise UpstreamIdPError(
                f"POST {url} answered {resp.status_code}: {resp.text[:500]}"
            )
        return resp.json()

    # -- flows ---------------------------------------------------------------------

    def authorize(
        self,
        username: str,
        client_id: str = "chat-web",
        scope: str = "openid email profile",
        nonce: str | None = None,
        *,
        redirect_uri: str | None = None,
        extra_params: dict[str, str] | None = None,
    ) -> dict:
        """Run the front channel: /auth, login as ``username``, consent; return the code.

        Returns ``{"code", "state", "iss", "redirect_uri", "code_verifier", "nonce"}``.
        """
        client = self.client(client_id)
        redirect_uri = redirect_uri or client["redirect_uris"][0]
        state = secrets.token_urlsafe(16)
        code_verifier, code_challenge = _pkce_pair()
        params = {
            "client_id": client_id,
            "response_type": "code",
            "scope": scope,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        if nonce is not None:
            params["nonce"] = nonce
        params.update(extra_params or {})

        endpoint = self.discovery["authorization_endpoint"]
        url = f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"
        query = self.follow_authorization(url, username, redirect_uri)
        return self._read_callback(query, state, redirect_uri, code_verifier, nonce)

    def follow_authorization(
        self,
        url: str,
        username: str,
        redirect_uri: str,
        *,
        deny: bool = False,
        session: requests.Session | None = None,
    ) -> dict:
        """The front channel of an authorization request built by someone else (a Relying
        Party under test): GET ``url``, log in as ``username`` and consent (or ``deny``), and
        return the query of the redirect to ``redirect_uri`` as it came, unchecked (``code``
        or ``error``, ``state``, ``iss``). ``session`` keeps the upstream's cookies (SSO)."""
        session = session or requests.Session()
        resp = session.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)
        for _ in range(MAX_REDIRECTS):
            if resp.status_code not in (302, 303) or "Location" not in resp.headers:
                raise UpstreamIdPError(
                    f"{resp.request.method} {resp.url} answered {resp.status_code} "
                    f"instead of a redirect: {resp.text[:500]}"
                )
            location = urljoin(resp.url, resp.headers["Location"])
            if _same_endpoint(location, redirect_uri):
                return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
            if urlsplit(location).path.startswith("/interaction/"):
                form = {"deny": "1"} if deny else {"login": username}
                resp = session.post(
                    location, data=form, allow_redirects=False, timeout=HTTP_TIMEOUT
                )
            else:
                resp = session.get(location, allow_redirects=False, timeout=HTTP_TIMEOUT)
        raise UpstreamIdPError(
            f"no redirect to {redirect_uri} after {MAX_REDIRECTS} hops"
        )

    def _read_callback(
        self, query, state, redirect_uri, code_verifier, nonce
    ) -> dict:
        if "error" in query:
            raise UpstreamIdPError(f"authorization failed: {query}")
        if query.get("state") != state:
            raise UpstreamIdPError(f"state mismatch in callback {query}")
        if query.get("iss") != self._issuer:
            raise UpstreamIdPError(f"iss mismatch in callback {query}")
        return {
            "code": query["code"],
            "state": state,
            "iss": query["iss"],
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
            "nonce": nonce,
        }

    def exchange_code(
        self,
        code: str,
        client_id: str,
        redirect_uri: str,
        code_verifier: str | None = None,
    ) -> dict:
        """POST the code to the token endpoint (client_secret_basic); return the JSON."""
        client = self.client(client_id)
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
        }
        if code_verifier:
            data["code_verifier"] = code_verifier
        resp = requests.post(
            self.discovery["token_endpoint"],
            data=data,
            headers={"Authorization": _basic_auth(client_id, client["client_secret"])},
            timeout=HTTP_TIMEOUT,
        )
        if resp.status_code != 200:
            raise UpstreamIdPError(
                f"token endpoint answered {resp.status_code}: {resp.text[:500]}"
            )
        return resp.json()

    def login(
        self,
        username: str,
        client_id: str = "chat-web",
        scope: str = "openid email profile",
        nonce: str | None = None,
        **authorize_kwargs,
    ) -> dict:
        """The whole authorization code flow; returns the token response
        (``id_token``, ``access_token``, ``token_type``, ``expires_in``, ``scope``)."""
        grant = self.authorize(username, client_id, scope, nonce, **authorize_kwargs)
        return self.exchange_code(
            grant["code"], client_id, grant["redirect_uri"], grant["code_verifier"]
        )

    def userinfo(self, access_token: str) -> dict:
        resp = requests.get(
            self.discovery["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=HTTP_TIMEOUT,
        )
        if resp.status_code != 200:
            raise UpstreamIdPError(
                f"userinfo answered {resp.status_code}: {resp.text[:500]}"
            )
        return resp.json()


def upstream_idp_fixture(scope: str = "session", **kwargs):
    """Build a pytest fixture yielding a started :class:`UpstreamIdP`.

    In a conftest: ``upstream_idp = upstream_idp_fixture()`` (session-scoped by default).
    """
    import pytest

    @pytest.fixture(scope=scope)
    def upstream_idp():
        with UpstreamIdP(**kwargs) as idp:
            yield idp

    return upstream_idp


def main(argv: list[str] | None = None) -> int:
    """``serve``: run the provider in the foreground; ``login``: print an ID token from it."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.support.upstream_idp",
                                     description="The test suite's upstream OpenID Provider.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="Run the provider on 127.0.0.1 until interrupted.")
    serve.add_argument("--port", type=int, default=4000)
    login = commands.add_parser("login", help="Log USERNAME in (code flow + PKCE, no browser); "
                                              "print the ID token.")
    login.add_argument("username")
    login.add_argument("--issuer", required=True, help="The running provider, e.g. http://127.0.0.1:4000.")
    login.add_argument("--client-id", default="chat-web", help="One of the provider's default clients.")
    args = parser.parse_args(argv)
    try:
        if args.command == "login":
            print(UpstreamIdP.attach(args.issuer).login(args.username, args.client_id)["id_token"])
            return 0
        with UpstreamIdP(port=args.port) as idp:
            print(f"issuer: {idp.issuer}  (clients: chat-web, other-app; Ctrl-C stops)", flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while idp.running:
                time.sleep(0.5)
            return 1
    except (UpstreamIdPError, requests.RequestException) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
