"""Property-based fuzzing of the OAuth endpoints with malformed input (hand-written strategies).

``/token``, ``/introspect``, ``/revoke``, ``/register`` and ``/sessions`` get repeated and
unknown parameters, bodies that are not UTF-8 (or are UTF-16, or JSON nested thousands
deep), huge and empty values, lone surrogates, wrong media types, and every shape of bad
``Authorization`` header, mixed with the valid values of a realistic realm so that requests
also get past the first check. The property: never a 5xx; every 4xx is a JSON object with a
string ``error``, and an ``error_description`` that is a string, not a Python list repr.
Bounded and derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from urllib.parse import quote, quote_from_bytes, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authserver.plugin_api import TOKEN_TYPE_JWT
from authserver.registry import registration
from authserver.registry.realms import create_realm, get_realm
from tests.factories import TOKEN_EXCHANGE, AppBackend, basic_auth, make_backend, make_client

REALM = "/realms/default"
FUZZ = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])
FORM = "application/x-www-form-urlencoded"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
SESSION_TOKEN_TYPE = "urn:authserver:token-type:session_token"
DEEP_JSON = "[" * 3000 + "]" * 3000
#: A Python list or tuple of strings shown as such (``['a', 'b']``): internals leaking.
PYTHON_REPR = re.compile(r"""[\[(](['"]).*?\1(?:, |[\])])""")

#: Placeholders the strategies use for this realm's secrets, replaced when a request is sent.
SECRETS = ("$svc", "$poster", "$rs", "$backend", "$token", "$assertion", "$initial", "$session")


@dataclass
class Realm:
    """A realistic realm: a chat backend, confidential clients (Basic, post, a resource server
    that introspects), a public client allowed anonymous sessions, the app's own backend
    (assertions), an initial access token, a live access token and a session token."""

    app: object
    client: object
    secrets: dict[str, str]

    def real(self, value: str) -> str:
        return self.secrets.get(value, value)


@pytest.fixture
def realm(make_app, clock) -> Realm:
    app = make_app(AUTH_FAILURE_LIMIT=0, TOKEN_RATE_LIMIT=0, ANONYMOUS_SESSION_LIMIT=1_000_000)
    with app.app_context():
        create_realm("default")
    make_backend(app)
    svc = make_client(app, client_id="svc", name="svc", audiences=["chat-api"], scopes="chat:read chat:write")
    poster = make_client(app, client_id="poster", name="poster", auth_method="client_secret_post",
                         audiences=["chat-api"], scopes="chat:read")
    rs = make_client(app, client_id="chat-rs", name="chat backend", serves=["chat-api"])
    make_client(app, client_id="spa", name="spa", auth_method="none", grant_types=[TOKEN_EXCHANGE],
                audiences=["chat-api"], scopes="chat:read", allow_anonymous=True)
    backend = AppBackend(app)
    with app.app_context():
        initial = registration.create_initial_token(get_realm("default"), 3600, "test")["initial_access_token"]
    client = app.test_client()
    issued = client.post(f"{REALM}/token", headers=basic_auth("svc", svc["client_secret"]),
                         data={"grant_type": "client_credentials", "audience": "chat-api", "scope": "chat:read"})
    session = client.post(f"{REALM}/sessions", json={"client_id": "spa", "audience": "chat-api"})
    assert issued.status_code == 200 and session.status_code == 201, (issued.get_json(), session.get_json())
    return Realm(app, client, {
        "$svc": svc["client_secret"], "$poster": poster["client_secret"], "$rs": rs["client_secret"],
        "$backend": backend.secret, "$token": issued.get_json()["access_token"],
        "$assertion": backend.assertion(now=int(clock())), "$initial": initial,
        "$session": session.get_json()["session_token"]})


# --- strategies ---------------------------------------------------------------------------

text = st.text(max_size=24)  # any Unicode scalar value, control characters included
huge = st.sampled_from(["a" * 20_000, "%" * 5_000, "chat:read " * 2_000])
latin1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40)
client_ids = st.sampled_from(["svc", "poster", "chat-rs", "spa", "app-backend", "nobody", "", "svc\x00"])
secrets = st.sampled_from(SECRETS) | text
scopes = st.sampled_from(["chat:read", "chat:read chat:write", "chat:read\tchat:write", "chat:read\nadmin",
                          "admin", " ", "chat:read  chat:read", '"chat:read"', "ch\u00e4t"]) | text
token_types = st.sampled_from([TOKEN_TYPE_JWT, ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE, SESSION_TOKEN_TYPE,
                               "urn:ietf:params:oauth:token-type:refresh_token", "jwt", ""])
jose_like = st.sampled_from(["$assertion", "$token", "$session", "a.b.c", "a.b", "....", "e30.e30.", "eyJ.eyJ.x",
                             "=" * 40, "$token.x"]) | text | huge


def values_for(name: str) -> st.SearchStrategy[str]:
    """Plausible and implausible values of an OAuth parameter."""
    specific = {
        "grant_type": st.sampled_from(["client_credentials", TOKEN_EXCHANGE, "refresh_token", "authorization_code",
                                       "password", "urn:ietf:params:oauth:grant-type:jwt-bearer", ""]),
        "client_id": client_ids, "client_secret": secrets, "scope": scopes,
        "audience": st.sampled_from(["chat-api", "other-api", "", "chat-api\x00", "https://[::1/cb"]),
        "resource": st.sampled_from(["chat-api", "https://chat.example/api", "https://[::1/cb", "urn:x", ""]),
        "subject_token": jose_like, "actor_token": jose_like, "token": jose_like, "client_assertion": jose_like,
        "subject_token_type": token_types, "actor_token_type": token_types, "requested_token_type": token_types,
        "token_type_hint": st.sampled_from(["access_token", "refresh_token", "session_token", "x", ""]),
        "client_assertion_type": st.sampled_from(["urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "x"]),
        "session_token": st.sampled_from(["$session", "x"]) | text,
        "redirect_uri": st.sampled_from(["https://[::1/cb", "https://app.example/cb#x", "javascript:alert(1)"]),
    }
    return st.one_of(specific.get(name, text), text, st.just(""), huge)


def form_pairs(names: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Parameters, repeated or unknown ones included."""
    name = st.sampled_from(names) | text
    return st.lists(name.flatmap(lambda n: st.tuples(st.just(n), values_for(n))), max_size=8)


def authorizations() -> st.SearchStrategy[list[str]]:
    """None, one or two ``Authorization`` headers, of every malformed kind."""
    def basic(raw: bytes) -> str:
        return "Basic " + base64.b64encode(raw).decode()

    header = st.one_of(
        st.tuples(client_ids, secrets).map(lambda p: ("basic", *p)),
        st.sampled_from(["Basic", "Basic ", "Basic !!!not-base64", "Basic " + "QQ" * 3, basic(b"no-colon"),
                         basic(b"\xff\xfe:secret"), basic(b":secret"), basic(b"svc:%zz"), basic(b"svc%00:x"),
                         basic(b"svc:" + b"x" * 10_000), basic("sv\u00e7:s".encode("utf-16")), "Bearer $token",
                         "Bearer", "Bearer $initial", "Digest x", "basic " + "c3ZjOng="]),
        latin1)
    return st.lists(header, max_size=2)


@st.composite
def mutated(draw, pairs: list[tuple[str, object]], names: list[str], values) -> list[tuple[str, object]]:
    """A valid request's parameters after up to three edits: a value replaced, a parameter
    added (known or not), dropped or repeated."""
    pairs = list(pairs)
    for _ in range(draw(st.integers(0, 3))):
        edit = draw(st.sampled_from(["replace", "add", "drop", "repeat"]))
        if edit == "add" or not pairs:
            name = draw(st.sampled_from(names) | text)
            pairs.append((name, draw(values(name))))
        elif edit == "replace":
            i = draw(st.integers(0, len(pairs) - 1))
            pairs[i] = (pairs[i][0], draw(values(pairs[i][0])))
        elif edit == "drop":
            pairs.pop(draw(st.integers(0, len(pairs) - 1)))
        else:
            pairs.append(pairs[draw(st.integers(0, len(pairs) - 1))])
    return pairs


def form_requests(bases, names: list[str]):
    """(body, authorization headers): mostly a valid request of ``bases`` (each a pair of
    headers and parameters) edited a little, sometimes random parameters or raw bytes."""
    edited = st.sampled_from(bases).flatmap(lambda base: st.tuples(
        mutated(base[1], names, values_for).map(lambda p: ("form", p)),
        st.one_of(st.just(list(base[0])), st.just(list(base[0])), authorizations(),
                  authorizations().map(lambda extra: [*base[0], *extra]))))
    return st.one_of(edited, edited, edited, st.tuples(form_bodies(names), authorizations()))


def form_bodies(names: list[str]) -> st.SearchStrategy[tuple[str, bytes | str]]:
    """("form", pairs) to encode once the secrets are known, or raw bytes as they are."""
    raw = st.one_of(
        st.binary(max_size=120),
        st.sampled_from([b"%ff%fe=1", b"grant_type=%ED%A0%80", b"a=%", b"=&&=", b"client_id=svc&\x00=1",
                         "grant_type=client_credentials".encode("utf-16"), b'{"grant_type": "client_credentials"}',
                         DEEP_JSON.encode(), b"x" * 70_000]),
        st.lists(st.tuples(st.binary(max_size=12), st.binary(max_size=12)), max_size=4).map(
            lambda pairs: "&".join(f"{quote_from_bytes(k)}={quote_from_bytes(v)}" for k, v in pairs).encode()))
    return st.one_of(form_pairs(names).map(lambda p: ("form", p)), raw.map(lambda b: ("raw", b)))


content_types = st.sampled_from([*[FORM] * 8, f"{FORM}; charset=utf-8", f"{FORM}; charset=utf-16",
                                 "application/json", "text/plain", "multipart/form-data; boundary=x", None,
                                 "application/x-www-form-urlencoded;;", "*/*"])


def json_values(keys: list[str], leaves: st.SearchStrategy) -> st.SearchStrategy:
    """Objects over ``keys`` (and others), nested, with lone surrogates among the strings."""
    strings = st.one_of(text, st.sampled_from(["\ud800", "x\udfff", "\ud83d"]), huge)
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), strings, leaves)
    nested = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.sampled_from(keys) | text, inner, max_size=3), max_leaves=8)
    return st.dictionaries(st.sampled_from(keys) | strings, nested, max_size=6)


def json_bodies(keys: list[str], leaves: st.SearchStrategy) -> st.SearchStrategy[tuple[str, bytes | str]]:
    """("json", object) to encode (surrogates kept as escapes), or raw bytes."""
    raw = st.one_of(
        st.sampled_from([DEEP_JSON.encode(), b'{"a": ' + DEEP_JSON.encode() + b"}", b"[]", b'"x"', b"null",
                         b'{"client_name": "a", "client_name": "b"}', b'{"x": NaN}', b'{"x": 1e999}',
                         b"\xef\xbb\xbf{}", '{"client_name": "x"}'.encode("utf-16"), b'{"a": "\xff"}', b"{",
                         b"", b"x" * 70_000]),
        st.binary(max_size=80))
    return st.one_of(json_values(keys, leaves).map(lambda o: ("json", o)), raw.map(lambda b: ("raw", b)))


json_content_types = st.sampled_from(["application/json", "application/json", "application/json",
                                      "application/json; charset=utf-16", FORM, "text/plain", None,
                                      "application/jwt", "application/merge-patch+json"])


# --- the property -------------------------------------------------------------------------


def send(realm: Realm, path: str, body: tuple[str, object], authorization: list, content_type: str | None):
    kind, payload = body
    if kind == "form":
        data = urlencode([(k, realm.real(v)) for k, v in payload], quote_via=quote).encode()
    elif kind == "json":
        data = json.dumps(_real_json(realm, payload)).encode()  # ensure_ascii: lone surrogates as escapes
    else:
        data = payload
    headers = [("Authorization", _header(realm, h)) for h in authorization]
    response = realm.client.post(path, data=data, headers=headers, content_type=content_type)
    assert_well_formed(response)
    return response


def _real_json(realm: Realm, value):
    if isinstance(value, str):
        return realm.real(value)
    if isinstance(value, list):
        return [_real_json(realm, v) for v in value]
    if isinstance(value, dict):
        return {k: _real_json(realm, v) for k, v in value.items()}
    return value


def _header(realm: Realm, header) -> str:
    if isinstance(header, tuple):
        _, client_id, secret = header
        return basic_auth(client_id, realm.real(secret))["Authorization"]
    return " ".join(realm.real(part) for part in header.split(" "))


def assert_well_formed(response) -> None:
    """Never a 5xx; a 4xx is JSON ``{"error": str, "error_description"?: str}``, without a
    Python repr of a list in the description."""
    status, raw = response.status_code, response.get_data(as_text=True)
    assert status < 500, f"{status}: {raw[:300]}"
    if status >= 400:
        assert response.mimetype == "application/json", f"{status} {response.mimetype}: {raw[:200]}"
        body = json.loads(raw)
        assert isinstance(body, dict) and isinstance(body.get("error"), str), raw[:300]
        description = body.get("error_description")
        assert description is None or isinstance(description, str), raw[:300]
        assert not PYTHON_REPR.search(description or "") and "Traceback" not in raw, raw[:300]


def json_requests(bases, keys: list[str], leaves: st.SearchStrategy):
    """(body, authorization headers) for a JSON endpoint: mostly a valid object edited a little."""
    def values(_name: str):
        return st.one_of(leaves, json_values(keys, leaves), text, st.sampled_from(["\ud800", "x\udfff"]), huge)

    edited = st.sampled_from(bases).flatmap(lambda base: st.tuples(
        mutated(list(base[1].items()), keys, values).map(lambda pairs: ("json", dict(pairs))),
        st.one_of(st.just(list(base[0])), st.just(list(base[0])), authorizations())))
    return st.one_of(edited, edited, edited, st.tuples(json_bodies(keys, leaves), authorizations()))


BASIC_SVC = (("basic", "svc", "$svc"),)
TOKEN_PARAMETERS = ["grant_type", "client_id", "client_secret", "scope", "audience", "resource", "subject_token",
                    "subject_token_type", "actor_token", "actor_token_type", "requested_token_type",
                    "client_assertion", "client_assertion_type", "session_token", "refresh_token", "code",
                    "redirect_uri"]
TOKEN_REQUESTS = [
    (BASIC_SVC, [("grant_type", "client_credentials"), ("audience", "chat-api"), ("scope", "chat:read")]),
    ((), [("grant_type", "client_credentials"), ("client_id", "poster"), ("client_secret", "$poster"),
          ("resource", "chat-api")]),
    ((), [("grant_type", TOKEN_EXCHANGE), ("client_id", "app-backend"), ("client_secret", "$backend"),
          ("subject_token", "$assertion"), ("subject_token_type", TOKEN_TYPE_JWT), ("audience", "chat-api")]),
    ((), [("grant_type", TOKEN_EXCHANGE), ("client_id", "spa"), ("subject_token", "$session"),
          ("subject_token_type", SESSION_TOKEN_TYPE), ("audience", "chat-api"), ("scope", "chat:read")]),
    ((), [("grant_type", TOKEN_EXCHANGE), ("client_id", "app-backend"), ("client_secret", "$backend"),
          ("subject_token", "$token"), ("subject_token_type", ACCESS_TOKEN_TYPE), ("actor_token", "$token"),
          ("actor_token_type", ACCESS_TOKEN_TYPE), ("requested_token_type", TOKEN_TYPE_JWT)]),
]
TOKEN_QUERY_PARAMETERS = ["token", "token_type_hint", "client_id", "client_secret", "client_assertion",
                          "client_assertion_type"]
INTROSPECTION_REQUESTS = [
    ((("basic", "chat-rs", "$rs"),), [("token", "$token")]),
    ((), [("token", "$token"), ("token_type_hint", "access_token"), ("client_id", "chat-rs"),
          ("client_secret", "$rs")]),
    (BASIC_SVC, [("token", "$session")]),
]
REVOCATION_REQUESTS = [
    (BASIC_SVC, [("token", "$token"), ("token_type_hint", "access_token")]),
    ((), [("token", "$token"), ("client_id", "spa")]),
    ((), [("token", "$assertion"), ("client_id", "poster"), ("client_secret", "$poster")]),
]
METADATA = ["client_name", "token_endpoint_auth_method", "grant_types", "scope", "redirect_uris", "jwks",
            "jwks_uri", "audiences", "allow_delegation", "response_types", "software_statement"]
METADATA_LEAVES = st.sampled_from([
    "https://[::1/cb", "https://app.example/cb", "http://localhost:8080/cb", "https://app.example/cb#x",
    "javascript:alert(1)", "chat:read\tchat:write", "none", "client_secret_basic", "private_key_jwt",
    "client_credentials", TOKEN_EXCHANGE, "chat-api", ["https://[::1/cb"], ["https://app.example/cb", 7],
    [TOKEN_EXCHANGE, "implicit"], {"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]},
    {"keys": [{"kty": "oct", "k": "AA"}]}, {"keys": "x"}, "https://jwks.example/keys"])
BEARER_INITIAL = ("Bearer $initial",)
REGISTRATIONS = [
    (BEARER_INITIAL, {"client_name": "web", "token_endpoint_auth_method": "none", "grant_types": [TOKEN_EXCHANGE],
                      "redirect_uris": ["https://app.example/cb"], "audiences": ["chat-api"], "scope": "chat:read"}),
    (BEARER_INITIAL, {"client_name": "svc", "grant_types": ["client_credentials"], "audiences": ["chat-api"],
                      "scope": "chat:read chat:write", "allow_delegation": True}),
    (BEARER_INITIAL, {"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://jwks.example/keys"}),
]
SESSION_FIELDS = ["client_id", "audience", "scope", "name", "email", "custom", "workspace"]
SESSION_LEAVES = st.sampled_from(["spa", "svc", "chat-api", "chat:read", "chat:read\tchat:write", "a@b.example",
                                  {"plan": "pro"}, {"deep": [[[[{}]]]]}, "$session", "w1"])
SESSIONS = [
    ((), {"client_id": "spa", "audience": "chat-api"}),
    ((), {"client_id": "spa", "audience": "chat-api", "scope": "chat:read", "name": "Ann", "email": "a@b.example",
          "custom": {"plan": "pro"}, "workspace": "w1"}),
]


def _form_sessions():
    """The same fields as a form (``custom`` as JSON text)."""
    return form_requests([(auth, [(k, json.dumps(v) if isinstance(v, dict) else v) for k, v in body.items()])
                          for auth, body in SESSIONS], SESSION_FIELDS)


@FUZZ
@given(request=form_requests(TOKEN_REQUESTS, TOKEN_PARAMETERS), content_type=content_types)
def test_token_endpoint_answers_malformed_requests_with_json_4xx(realm, request, content_type):
    send(realm, f"{REALM}/token", *request, content_type)


@FUZZ
@given(request=form_requests(INTROSPECTION_REQUESTS, TOKEN_QUERY_PARAMETERS), content_type=content_types)
def test_introspection_answers_malformed_requests_with_json_4xx(realm, request, content_type):
    send(realm, f"{REALM}/introspect", *request, content_type)


@FUZZ
@given(request=form_requests(REVOCATION_REQUESTS, TOKEN_QUERY_PARAMETERS), content_type=content_types)
def test_revocation_answers_malformed_requests_with_json_4xx(realm, request, content_type):
    send(realm, f"{REALM}/revoke", *request, content_type)


@FUZZ
@given(request=json_requests(REGISTRATIONS, METADATA, METADATA_LEAVES), content_type=json_content_types)
def test_registration_answers_malformed_metadata_with_json_4xx(realm, request, content_type):
    send(realm, f"{REALM}/register", *request, content_type)


@FUZZ
@given(request=st.one_of(st.tuples(json_requests(SESSIONS, SESSION_FIELDS, SESSION_LEAVES), json_content_types),
                         st.tuples(_form_sessions(), content_types)))
def test_sessions_answers_malformed_requests_with_json_4xx(realm, request):
    (body, authorization), content_type = request
    send(realm, f"{REALM}/sessions", body, authorization, content_type)
