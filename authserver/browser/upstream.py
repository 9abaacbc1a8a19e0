"""The browser login's upstream leg: authserver as a Relying Party of the realm's IdP
connection (OIDC Core §3.1, RFC 7636 PKCE S256, RFC 9207 ``iss``, RFC 6749 §2.3.1 / RFC 7523
client authentication).

:func:`start` builds the upstream authorization request with a fresh ``state``, ``nonce``
and PKCE verifier — 256 bits each — and seals what the return needs (the verifier, nonce,
redirect URI, time) under the server key, bound to the realm, the connection and the state;
the caller keeps only the state's keyed hash, to find its request again. :func:`finish`
checks the answer (state, ``error``, ``iss``), redeems the code at the upstream token
endpoint, verifies the ID token with the *same connector and core checks as the token
exchange* (:func:`authserver.identity.federation.verify_subject`), then the nonce (and
``auth_time`` against ``max_age``, OIDC Core §3.1.3.7 item 11).

A leg lives ``BROWSER_LOGIN_TIMEOUT_SECONDS``. Every refusal is :class:`UpstreamLoginFailed`,
whose message may be shown (what the upstream said goes to the log); an upstream that cannot
be reached is :class:`~authserver.plugin_api.UpstreamUnavailable` (503), from either step.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote_plus, urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import current_app
from joserfc.jwk import JWKRegistry

from authserver.crypto import DecryptionError, new_secret
from authserver.errors import ServiceError
from authserver.identity.federation import SubjectTokenRefused, verify_subject
from authserver.keys.jose import sign_jwt
from authserver.models import Client, IdentityProvider
from authserver.plugin_api import (
    TOKEN_TYPE_ID_TOKEN,
    BrowserEndpoints,
    Identity,
    InvalidSubjectToken,
    UpstreamUnavailable,
)
from authserver.plugin_host.loader import connector_class
from authserver.state import RealmContext

log = logging.getLogger(__name__)

DEFAULT_SCOPE = "openid email profile"
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: RFC 7523 §3: our client assertion is good for this long (it is sent at once).
ASSERTION_TTL = 60
#: RFC 7518 §3.1 and §3.4, RFC 8037 §3.1: what each private key may sign our assertion with;
#: the first is used when the JWK names no ``alg``.
ASSERTION_ALGS = {("RSA", None): ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
                  ("EC", "P-256"): ("ES256",), ("EC", "P-384"): ("ES384",), ("EC", "P-521"): ("ES512",),
                  ("OKP", "Ed25519"): ("EdDSA",), ("OKP", "Ed448"): ("EdDSA",)}
MAX_CODE_LENGTH = 4096


class UpstreamLoginFailed(ServiceError):
    """The upstream leg did not produce a verified identity; ``message`` may be shown to the
    user on authserver's page (never a token or a secret)."""


@dataclass(frozen=True)
class UpstreamStart:
    redirect_url: str  # the upstream authorization request, for the browser
    state: str  # the caller stores only state_hash(state)
    leg_sealed: bytes  # what finish() needs, sealed


def supports_browser_login(idp: IdentityProvider) -> bool:
    return not idp.disabled and connector_class(idp.type).browser_login


def state_hash(ctx: RealmContext, state: str) -> str:
    return ctx.state.hasher.hash(f"upstream-state|{state}")


def upstream_client_id(idp: IdentityProvider) -> str:
    """Our client id at the upstream: the connection's setting, else its first accepted audience."""
    if idp.upstream_client_id:
        return idp.upstream_client_id
    ids = (idp.config or {}).get("client_ids") or []
    if not ids:
        raise UpstreamLoginFailed("the identity provider connection names no client id for the browser login")
    return ids[0]


def start(ctx: RealmContext, idp: IdentityProvider, callback_url: str, *, login_hint: str | None = None,
          prompt: str | None = None, max_age: int | None = None) -> UpstreamStart:
    endpoints = _endpoints(ctx, idp)
    state, nonce, verifier = new_secret(32), new_secret(32), new_secret(32)
    leg = {"idp": idp.name, "state": state, "nonce": nonce, "verifier": verifier, "redirect_uri": callback_url,
           "created_at": int(ctx.now()), "max_age": max_age}
    params = {"response_type": "code", "client_id": upstream_client_id(idp), "redirect_uri": callback_url,
              "scope": idp.upstream_scope or DEFAULT_SCOPE, "state": state, "nonce": nonce,
              "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    if login_hint:
        params["login_hint"] = login_hint
    if prompt:
        params["prompt"] = prompt
    if max_age is not None:
        params["max_age"] = str(max_age)
    separator = "&" if "?" in endpoints.authorization_endpoint else "?"
    sealed = ctx.state.box.seal(json.dumps(leg).encode(), context=_leg_context(ctx, idp))
    return UpstreamStart(f"{endpoints.authorization_endpoint}{separator}{urlencode(params)}", state, sealed)


def finish(ctx: RealmContext, client: Client, idp: IdentityProvider, leg_sealed: bytes | None, state: str,
           callback_args: Mapping[str, str]) -> Identity:
    leg = _open_leg(ctx, idp, leg_sealed, state)
    endpoints = _endpoints(ctx, idp)
    _check_answer(endpoints, callback_args)
    id_token = _redeem(ctx, idp, endpoints, leg, callback_args["code"])
    try:
        identity = verify_subject(ctx, client, idp, id_token, TOKEN_TYPE_ID_TOKEN)
    except InvalidSubjectToken as exc:
        log.warning("upstream ID token of %s refused: %s", idp.name, exc.detail or exc.description)
        raise UpstreamLoginFailed("the identity provider's ID token could not be verified") from None
    except SubjectTokenRefused as exc:
        raise UpstreamLoginFailed(f"the identity provider's ID token was refused: {exc.message}") from None
    claims = identity.claims if isinstance(identity.claims, Mapping) else {}
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), leg["nonce"].encode()):
        raise UpstreamLoginFailed("the identity provider's ID token does not carry this login's nonce")
    _check_auth_time(ctx, leg, claims.get("auth_time"))
    return identity


def leg_timeout() -> int:
    """``BROWSER_LOGIN_TIMEOUT_SECONDS``: how long the upstream may take to send the browser back."""
    return int(current_app.config["BROWSER_LOGIN_TIMEOUT_SECONDS"])


# --- the steps --------------------------------------------------------------------------


def _endpoints(ctx: RealmContext, idp: IdentityProvider) -> BrowserEndpoints:
    connector = ctx.state.connectors.connector(idp)
    if not connector.browser_login:
        raise UpstreamLoginFailed("this identity provider connection cannot run a browser login")
    return connector.browser_endpoints()


def _leg_context(ctx: RealmContext, idp: IdentityProvider) -> str:
    return f"upstream-leg:{ctx.realm.id}:{idp.name}"


def _open_leg(ctx: RealmContext, idp: IdentityProvider, sealed: bytes | None, state: str) -> dict:
    try:
        leg = json.loads(ctx.state.box.open(sealed or b"", context=_leg_context(ctx, idp)))
    except (DecryptionError, ValueError):
        raise UpstreamLoginFailed("this sign-in cannot be completed; start again") from None
    if not hmac.compare_digest(str(leg.get("state", "")).encode(), str(state).encode()) or leg.get("idp") != idp.name:
        raise UpstreamLoginFailed("the identity provider's answer does not belong to this sign-in")
    if int(leg.get("created_at", 0)) + leg_timeout() <= ctx.now():
        raise UpstreamLoginFailed("this sign-in took too long; start again")
    return leg


def _check_answer(endpoints: BrowserEndpoints, args: Mapping[str, str]) -> None:
    """OIDC Core §3.1.2.6 errors, then RFC 9207 §2.4: ``iss``, when sent or promised, is the issuer."""
    if ("iss" in args or endpoints.iss_parameter_supported) and args.get("iss") != endpoints.issuer:
        raise UpstreamLoginFailed("the answer does not come from this identity provider (iss)")
    if args.get("error"):
        log.info("upstream authorization error %s: %s", _code(args["error"]), _code(args.get("error_description"), 200))
        raise UpstreamLoginFailed(f"the identity provider refused the sign-in ({_code(args['error'])})")
    code = args.get("code")
    if not isinstance(code, str) or not code or len(code) > MAX_CODE_LENGTH:
        raise UpstreamLoginFailed("the identity provider's answer has no code")


def _redeem(ctx: RealmContext, idp: IdentityProvider, endpoints: BrowserEndpoints, leg: dict, code: str) -> str:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": leg["redirect_uri"],
            "code_verifier": leg["verifier"]}
    headers = _authenticate(ctx, idp, endpoints, form)
    response = ctx.state.http.post(endpoints.token_endpoint, data=form, headers=headers)
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status != 200 or not isinstance(body, dict):
        error = _code(body.get("error")) if isinstance(body, dict) else str(response.status)
        description = _code(body.get("error_description"), 200) if isinstance(body, dict) else "(not JSON)"
        log.warning("upstream token endpoint of %s answered %s: %s %s", idp.name, response.status, error, description)
        raise UpstreamLoginFailed(f"the identity provider did not redeem the code ({error}); start again")
    if not isinstance(body.get("id_token"), str):
        log.warning("upstream token endpoint of %s answered without an id_token", idp.name)
        raise UpstreamLoginFailed("the identity provider answered without an ID token")
    return body["id_token"]


def _authenticate(ctx: RealmContext, idp: IdentityProvider, endpoints: BrowserEndpoints,
                  form: dict) -> dict[str, str]:
    """Our client authentication at the upstream token endpoint, as the connection says."""
    client_id = upstream_client_id(idp)
    method = idp.upstream_auth_method or ("client_secret_basic" if idp.upstream_secret_sealed else "none")
    secret = upstream_secret(ctx, idp) if method != "none" else None
    if method != "none" and secret is None:
        raise UpstreamLoginFailed("the identity provider connection has no upstream client secret")
    if method == "client_secret_basic":
        raw = f"{_form_encode(client_id)}:{_form_encode(secret)}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
    form["client_id"] = client_id
    if method == "client_secret_post":
        form["client_secret"] = secret
    elif method == "private_key_jwt":
        form["client_assertion_type"] = CLIENT_ASSERTION_TYPE
        form["client_assertion"] = _client_assertion(client_id, secret, endpoints, int(ctx.now()))
    return {}


def upstream_secret(ctx: RealmContext, idp: IdentityProvider) -> str | None:
    if idp.upstream_secret_sealed is None:
        return None
    return ctx.state.box.open(idp.upstream_secret_sealed, context=upstream_secret_context(idp)).decode()


def upstream_secret_context(idp: IdentityProvider) -> str:
    return f"idp-upstream-secret:{idp.realm_id}:{idp.name}"


def _client_assertion(client_id: str, private_jwk: str, endpoints: BrowserEndpoints, now: int) -> str:
    """RFC 7523 §3: a short-lived assertion with a fresh ``jti``, for the token endpoint."""
    jwk = json.loads(private_jwk)
    key, alg = JWKRegistry.import_key(jwk), assertion_alg(jwk)
    claims = {"iss": client_id, "sub": client_id, "aud": endpoints.token_endpoint, "iat": now,
              "exp": now + ASSERTION_TTL, "jti": new_secret(32)}
    header = {"typ": "JWT", **({"kid": jwk["kid"]} if isinstance(jwk.get("kid"), str) else {})}
    return sign_jwt(header, claims, key, alg)


def assertion_alg(jwk: Mapping) -> str:
    """The algorithm a private JWK signs our client assertion with: its ``alg`` when that fits
    the key, else the key type's default; ``ValueError`` for a key that cannot sign one."""
    kty = jwk.get("kty")
    allowed = ASSERTION_ALGS.get((kty, None if kty == "RSA" else jwk.get("crv")))
    if allowed is None:
        raise ValueError("an EC (P-256, P-384, P-521), RSA or OKP (Ed25519, Ed448) key is needed")
    alg = jwk.get("alg", allowed[0])
    if alg not in allowed:
        raise ValueError(f"alg must be one of {', '.join(allowed)} for this key")
    return alg


def _check_auth_time(ctx: RealmContext, leg: Mapping, auth_time: object) -> None:
    """OIDC Core §3.1.3.7 item 11: with ``max_age`` asked, ``auth_time`` is required and recent."""
    max_age = leg.get("max_age")
    if max_age is None:
        return
    if not isinstance(auth_time, int) or isinstance(auth_time, bool):
        raise UpstreamLoginFailed("the identity provider's ID token does not say when the user signed in")
    if ctx.now() - auth_time > int(max_age) + ctx.settings.clock_skew:
        raise UpstreamLoginFailed("the identity provider did not sign the user in again recently enough")


def _form_encode(value: str) -> str:
    """RFC 6749 §2.3.1: client id and secret are form-encoded before Basic."""
    return quote_plus(value)


def _code(value: object, limit: int = 64) -> str:
    """An upstream's ``error`` (or its description, for the log) cut down to harmless characters."""
    text = "".join(c for c in str(value or "")[:limit] if c.isascii() and (c.isalnum() or c in "_-.,:;() "))
    return text.strip() or "error"


__all__ = ["AUTH_METHODS", "UpstreamLoginFailed", "UpstreamStart", "UpstreamUnavailable", "assertion_alg", "finish",
           "leg_timeout", "start", "state_hash", "supports_browser_login", "upstream_secret_context"]
