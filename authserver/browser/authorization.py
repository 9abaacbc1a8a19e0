"""The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636, RFC 8707,
RFC 9126, RFC 8252 §7.3), parsed strictly and checked against the registered client.

:func:`parse_request` turns the query (or a pushed form) into :class:`AuthorizationParams`.
Errors found before the client and its redirect URI are established are shown on
authserver's own page and never redirected (RFC 6749 §4.1.2.1, RFC 9700 §4.1); after that
they go back to the client, with ``state`` and ``iss`` (RFC 9207).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import InvalidScopeError

from authserver.errors import InvalidTargetError
from authserver.models import Client
from authserver.registry.clients import GRANT_AUTHORIZATION_CODE, cached_client
from authserver.registry.validation import is_loopback_host
from authserver.state import RealmContext
from authserver.tokens.audience import resolve_backend
from authserver.tokens.scopes import grant_scopes, parse_scope

#: OIDC scopes the ID token and userinfo answer for; the others are the chat backend's.
OIDC_SCOPES = ("openid", "profile", "email")
PROMPTS = ("none", "login")
RESPONSE_MODES = ("query", "form_post")
#: RFC 7636 §4.2: 43-128 characters of the unreserved set (S256: base64url of 32 bytes = 43).
CODE_CHALLENGE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
MAX_VALUE = 2048
SINGLE_VALUED = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
                 "code_challenge", "code_challenge_method", "prompt", "max_age", "login_hint",
                 "idp_hint", "response_mode", "request_uri", "session_token")


class AuthorizationError(Exception):
    """A refused authorization request. ``redirect_uri`` None: show it on our own page."""

    def __init__(self, error: str, description: str, *, client: Client | None = None,
                 redirect_uri: str | None = None, state: str | None = None, response_mode: str = "query"):
        super().__init__(description)
        self.error, self.description = error, description
        self.client, self.redirect_uri, self.state, self.response_mode = client, redirect_uri, state, response_mode


@dataclass(frozen=True)
class AuthorizationParams:
    """What the client asked for, validated; stored with the request while the user logs in."""

    client_id: str
    redirect_uri: str
    state: str | None
    nonce: str | None
    code_challenge: str
    audience: str
    chat_scopes: list[str]
    oidc_scopes: list[str]
    prompt: str | None
    max_age: int | None
    login_hint: str | None
    idp_hint: str | None
    response_mode: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> AuthorizationParams:
        return cls(**data)

    @property
    def scopes(self) -> list[str]:
        return [*self.oidc_scopes, *self.chat_scopes]


def single_values(source) -> dict[str, str]:
    """The request's parameters, each at most once and bounded (RFC 6749 §3.1); the only
    parameters that may repeat are ``audience`` and ``resource`` (RFC 8707)."""
    values: dict[str, str] = {}
    for name in source:
        found = source.getlist(name)
        if name in SINGLE_VALUED and len(found) > 1:
            raise AuthorizationError("invalid_request", f"{name} must not be repeated")
        if any(len(v) > MAX_VALUE or "\x00" in v for v in found):
            raise AuthorizationError("invalid_request", f"{name} is too long or holds NUL")
        values[name] = found[0] if len(found) == 1 else " ".join(found)
    return values


def find_client(ctx: RealmContext, values: dict[str, str]) -> Client:
    client_id = values.get("client_id")
    if not client_id:
        raise AuthorizationError("invalid_request", "client_id is required")
    client = cached_client(ctx.realm, client_id)
    if client is None or client.disabled:
        raise AuthorizationError("invalid_client", "unknown or disabled client")
    if not client.check_grant_type(GRANT_AUTHORIZATION_CODE):
        raise AuthorizationError("unauthorized_client", "this client may not use the authorization code flow")
    return client


def check_redirect_uri(client: Client, values: dict[str, str]) -> str:
    """RFC 9700 §4.1.3: exact match; a native client's loopback URI may use any port
    (RFC 8252 §7.3). Required even with one registered URI (OIDC Core §3.1.2.1)."""
    uri = values.get("redirect_uri")
    if not uri:
        raise AuthorizationError("invalid_request", "redirect_uri is required")
    if uri in client.redirect_uris or (client.application_type == "native" and _loopback_match(client, uri)):
        return uri
    raise AuthorizationError("invalid_request", "redirect_uri is not registered for this client")


def _loopback_match(client: Client, uri: str) -> bool:
    presented = urlsplit(uri)
    if presented.scheme != "http" or not is_loopback_host(presented.hostname):
        return False
    for registered in client.redirect_uris:
        known = urlsplit(registered)
        if (known.scheme, known.hostname, known.path, known.query) == (
                presented.scheme, presented.hostname, presented.path, presented.query):
            return True
    return False


def parse_request(ctx: RealmContext, client: Client, redirect_uri: str, values: dict[str, str]) -> AuthorizationParams:
    """Everything after the redirect URI is known: errors from here go back to the client."""
    state = values.get("state")
    mode = values.get("response_mode") or "query"

    def refuse(error: str, description: str) -> AuthorizationError:
        return AuthorizationError(error, description, client=client, redirect_uri=redirect_uri, state=state,
                                  response_mode=mode if mode in RESPONSE_MODES else "query")

    if mode not in RESPONSE_MODES:
        raise refuse("invalid_request", "response_mode must be query or form_post")
    if values.get("response_type") != "code":
        raise refuse("unsupported_response_type", "only response_type=code is supported")
    challenge, method = values.get("code_challenge"), values.get("code_challenge_method")
    if not challenge or method != "S256":
        raise refuse("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256")
    if not CODE_CHALLENGE.fullmatch(challenge):
        raise refuse("invalid_request", "code_challenge is not a valid RFC 7636 value")
    try:
        requested = parse_scope(values.get("scope")) or []
    except InvalidScopeError as exc:
        raise refuse("invalid_scope", exc.description) from None
    if "openid" not in requested:
        raise refuse("invalid_scope", "scope must include openid")
    prompt = values.get("prompt") or None
    if prompt is not None and prompt not in PROMPTS:
        raise refuse("invalid_request", "prompt must be none or login")
    max_age = _max_age(values.get("max_age"), refuse)
    target = values.get("audience") or values.get("resource") or None
    if target is not None and " " in target:
        raise refuse("invalid_target", "name one chat backend")
    try:
        backend = resolve_backend(ctx.realm, client, target)
    except InvalidTargetError as exc:
        raise refuse("invalid_target", exc.description) from None
    chat_requested = [s for s in requested if s not in OIDC_SCOPES]
    try:
        chat_scopes = grant_scopes(chat_requested or None, client.scopes, backend.scopes, backend.default_scopes)
    except InvalidScopeError as exc:
        raise refuse("invalid_scope", exc.description) from None
    return AuthorizationParams(
        client_id=client.client_id, redirect_uri=redirect_uri, state=state, nonce=values.get("nonce") or None,
        code_challenge=challenge, audience=backend.audience, chat_scopes=chat_scopes,
        oidc_scopes=[s for s in OIDC_SCOPES if s in requested], prompt=prompt, max_age=max_age,
        login_hint=values.get("login_hint") or None, idp_hint=values.get("idp_hint") or None,
        response_mode=mode)


def _max_age(value: str | None, refuse) -> int | None:
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise refuse("invalid_request", "max_age must be a non-negative integer of seconds")
    return int(value)
