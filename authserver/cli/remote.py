"""``authserver --server URL …``: the admin commands run against a remote server's admin API,
as ``kcadm.sh config credentials`` and ``hydra --endpoint`` manage theirs.

The credentials are an admin client (scope ``admin``; ``authserver admin bootstrap`` prints
one) of ``--realm-of-credentials``: by default ``$AUTHSERVER_ADMIN_REALM``, else ``default``;
a client of ADMIN_REALM administers every realm. :class:`RemoteAdmin` obtains an access token
with the client credentials grant (RFC 6749 §4.4) on first use, renews it shortly before it
expires, and once more when the server refuses it (RFC 6750 ``invalid_token``: a signing key
retired meanwhile, say). Nothing is stored on disk.

An error answer becomes :class:`RemoteFailure`: the server's ``error_description``, printed
as the one line a local failure prints, with exit status 2.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from authserver import __version__
from authserver.errors import ServiceError
from authserver.registry.paging import Page

RENEW_MARGIN = 30  # seconds before a token's expiry it is renewed
CONNECT_TIMEOUT, READ_TIMEOUT = 5.0, 120.0


class RemoteFailure(ServiceError):
    """The server (or the way to it) refused the request; the message is its own words."""

    def __init__(self, message: str, status_code: int = 0):
        super().__init__(message)
        self.status_code = status_code


def server_url(value: str) -> str:
    """``--server``: the server's base URL (what ISSUER_BASE_URL is on it), without ``/admin``."""
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.query or parsed.fragment:
        raise RemoteFailure(f"--server: expected the server's base URL, http(s)://host[:port][/path], got {value!r}")
    return value.rstrip("/")


class RemoteAdmin:
    """The admin API of one server, called with an admin token this object obtains itself."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, realm: str,
                 session: requests.Session | None = None, clock: Callable[[], float] = time.monotonic):
        self.base_url = server_url(base_url)
        self.token_url = f"{self.base_url}/realms/{realm}/token"
        self._credentials = (client_id, client_secret)
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = f"authserver-cli/{__version__}"
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0

    # --- the admin API ---------------------------------------------------------------------

    def request(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> Any:
        """``method /admin{path}``; the JSON answer (None for 204)."""
        response = self._send(method, path, body, query)
        return _answer(response) if response.content else None

    def list(self, path: str, query: dict | None = None) -> Page:
        """A paged list: the answer's array, and the cursor of its ``Link: <…>; rel="next"``."""
        response = self._send("GET", path, None, query)
        rows = _answer(response)
        if not isinstance(rows, list):
            raise RemoteFailure(f"{response.url}: expected a JSON array, got something else")
        return Page(rows, next_cursor(response))

    def _send(self, method: str, path: str, body: dict | None, query: dict | None) -> requests.Response:
        url = f"{self.base_url}/admin{path}"
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        for renewed in (False, True):
            headers = {"Authorization": f"Bearer {self._access_token(renew=renewed)}", "Accept": "application/json"}
            response = self._call(method, url, headers=headers, params=params,
                                  **({"json": body} if body is not None else {}))
            if response.status_code != 401:
                break
        if response.status_code >= 400:
            raise RemoteFailure(_reason(response), response.status_code)
        if response.is_redirect:
            raise RemoteFailure(f"{url} redirects to {response.headers.get('Location')}: give --server the URL "
                                "the server answers at", response.status_code)
        return response

    # --- the admin token -------------------------------------------------------------------

    def _access_token(self, renew: bool = False) -> str:
        if renew or self._token is None or self._clock() >= self._renew_at:
            self._token, lifetime = self._obtain_token()
            self._renew_at = self._clock() + max(lifetime - RENEW_MARGIN, lifetime / 2)
        return self._token

    def _obtain_token(self) -> tuple[str, float]:
        response = self._call("POST", self.token_url, auth=self._credentials, headers={"Accept": "application/json"},
                              data={"grant_type": "client_credentials", "scope": "admin"})
        if response.status_code != 200:
            raise RemoteFailure(f"admin login at {self.token_url} refused: {_reason(response)}", response.status_code)
        answer = _json(response)
        token, lifetime = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token:
            raise RemoteFailure(f"admin login at {self.token_url}: the answer holds no access_token")
        return token, float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 60.0

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self._session.request(method, url, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                                         allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise RemoteFailure(f"cannot reach {self.base_url}: {_network_reason(exc)}") from None


def next_cursor(response: requests.Response) -> str | None:
    target = response.links.get("next", {}).get("url")
    cursors = parse_qs(urlparse(target).query).get("cursor") if target else None
    return cursors[0] if cursors else None


def _query_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _answer(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise RemoteFailure(f"{response.url}: the answer is not JSON (is --server an authserver?)") from None


def _json(response: requests.Response) -> dict:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _reason(response: requests.Response) -> str:
    """The server's ``error_description`` (else its ``error``, else the status line)."""
    answer = _json(response)
    for key in ("error_description", "error"):
        if isinstance(answer.get(key), str) and answer[key].strip():
            return answer[key]
    return f"HTTP {response.status_code} {response.reason or ''} from {response.url}".strip()


def _network_reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or no route to the host"
    return type(exc).__name__
