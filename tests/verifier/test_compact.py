"""The JOSE header and the claims are I-JSON objects (RFC 7515 section 5.2, RFC 8725 section 3.7,
RFC 7493): UTF-8 only, no duplicate member names, no lone surrogates, finite numbers, bounded
nesting. Every token here is signed, so a refusal is the parser's and not the signature's."""

from __future__ import annotations

import json

import pytest

from .conftest import refused, sign_bytes

MAX_DEPTH = 32


def header_text(issuer) -> str:
    return json.dumps({"typ": "at+jwt", "alg": "ES256", "kid": issuer.key.kid})


def payload_text(issuer, **claims) -> str:
    return json.dumps(issuer.claims(**claims))


def with_member(text: str, member: str) -> str:
    """``text`` (a JSON object) with ``member`` (raw JSON ``"name": value``) appended."""
    return f"{text[:-1]}, {member}}}"


def signed(issuer, header: str | bytes | None = None, payload: str | bytes | None = None) -> str:
    header = header_text(issuer) if header is None else header
    payload = payload_text(issuer) if payload is None else payload
    as_bytes = [part.encode() if isinstance(part, str) else part for part in (header, payload)]
    return sign_bytes(*as_bytes, issuer.key)


def nested(depth: int) -> str:
    """A JSON value of ``depth`` nested containers, arrays and objects in turn."""
    text = "1"
    for level in range(depth):
        text = f'{{"a": {text}}}' if level % 2 else f"[{text}]"
    return text


def test_utf8_json_accepted(issuer, verifier):
    payload = payload_text(issuer, name="Zoë 👋")[:-1] + ', "given_name": "\\ud83d\\udc4b"}'
    claims = verifier.verify(signed(issuer, payload=json.loads(json.dumps(payload)).encode()))
    assert claims["name"] == "Zoë 👋" and claims["given_name"] == "👋"


ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "utf-8-sig"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_header_not_utf8_refused(issuer, verifier, encoding):
    assert refused(verifier, signed(issuer, header=header_text(issuer).encode(encoding))) == "malformed"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_payload_not_utf8_refused(issuer, verifier, encoding):
    assert refused(verifier, signed(issuer, payload=payload_text(issuer).encode(encoding))) == "malformed"


@pytest.mark.parametrize("raw", [b'"\xed\xa0\x80"', b'"\xff"', b'"\xc3"', b'"\xc0\xaf"'])
def test_invalid_utf8_bytes_refused(issuer, verifier, raw):
    payload = with_member(payload_text(issuer), '"name": ').encode()[:-1] + raw + b"}"
    assert refused(verifier, signed(issuer, payload=payload)) == "malformed"


@pytest.mark.parametrize("member", ['"typ": "at+jwt"', '"kid": "other"', '"alg": "ES256"'])
def test_duplicate_header_member_refused(issuer, verifier, member):
    assert refused(verifier, signed(issuer, header=with_member(header_text(issuer), member))) == "malformed"


@pytest.mark.parametrize("member", ['"sub": "mallory"', '"aud": "chat-api"', '"exp": 1'])
def test_duplicate_claim_refused(issuer, verifier, member):
    assert refused(verifier, signed(issuer, payload=with_member(payload_text(issuer), member))) == "malformed"


def test_duplicate_member_in_a_nested_object_refused(issuer, verifier):
    acl = '"acl": [{"path": "/v1/me", "path": "/v1/**"}]'
    assert refused(verifier, signed(issuer, payload=with_member(payload_text(issuer), acl))) == "malformed"


@pytest.mark.parametrize("escaped", ["\\ud800", "\\uDBFF", "\\udc00", "x\\udc00\\ud800", "\\ud83dx"])
def test_lone_surrogate_refused(issuer, verifier, escaped):
    for name in ('"name"', f'"{escaped}"'):
        member = f'{name}: "{escaped}"' if name == '"name"' else f"{name}: 1"
        assert refused(verifier, signed(issuer, payload=with_member(payload_text(issuer), member))) == "malformed"
    header = with_member(header_text(issuer), f'"x-note": ["{escaped}"]')
    assert refused(verifier, signed(issuer, header=header)) == "malformed"


def test_escaped_backslash_before_u_is_not_a_surrogate(issuer, verifier):
    payload = with_member(payload_text(issuer), '"name": "\\\\ud800"')
    assert verifier.verify(signed(issuer, payload=payload))["name"] == "\\ud800"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_non_finite_numbers_refused(issuer, verifier, number):
    claims = {k: v for k, v in issuer.claims().items() if k != "exp"}
    payload = with_member(json.dumps(claims), f'"exp": {number}')
    assert refused(verifier, signed(issuer, payload=payload)) == "malformed"
    header = with_member(header_text(issuer), f'"x-n": {number}')
    assert refused(verifier, signed(issuer, header=header)) == "malformed"


def test_huge_integer_exp_is_compared_not_crashed(issuer, verifier):
    claims = {k: v for k, v in issuer.claims().items() if k != "exp"}
    payload = with_member(json.dumps(claims), '"exp": 1' + "0" * 400)
    assert verifier.verify(signed(issuer, payload=payload))["sub"] == "alice"
    payload = with_member(json.dumps(claims), '"exp": -1' + "0" * 400)
    assert refused(verifier, signed(issuer, payload=payload)) == "expired"


@pytest.mark.parametrize("depth", [2_000, 20_000])
def test_deep_nesting_in_payload_refused(issuer, verifier, depth):
    payload = with_member(payload_text(issuer), '"custom": ' + "[" * depth + "]" * depth)
    assert refused(verifier, signed(issuer, payload=payload)) in ("malformed", "too_large")


@pytest.mark.parametrize("depth", [300, 3_000])
def test_deep_nesting_in_header_refused(issuer, verifier, depth):
    header = with_member(header_text(issuer), '"x-deep": ' + "[" * depth + "]" * depth)
    assert refused(verifier, signed(issuer, header=header)) == "malformed"


def test_header_segment_is_bounded(issuer, verifier):
    fits = with_member(header_text(issuer), '"x-pad": "' + "x" * 600 + '"')
    assert verifier.verify(signed(issuer, header=fits))["sub"] == "alice"
    too_big = with_member(header_text(issuer), '"x-pad": "' + "x" * 700 + '"')
    assert refused(verifier, signed(issuer, header=too_big)) == "malformed"


def test_unclosed_deep_nesting_refused(issuer, verifier):
    payload = with_member(payload_text(issuer), '"x-deep": ' + '{"a": [' * 1_500)
    assert refused(verifier, signed(issuer, payload=payload)) == "malformed"


def test_nesting_up_to_the_limit_accepted(issuer, verifier):
    payload = with_member(payload_text(issuer), f'"custom": {nested(MAX_DEPTH - 1)}')
    assert verifier.verify(signed(issuer, payload=payload))["sub"] == "alice"
    payload = with_member(payload_text(issuer), f'"custom": {nested(MAX_DEPTH)}')
    assert refused(verifier, signed(issuer, payload=payload)) == "malformed"


def test_brackets_inside_strings_do_not_count(issuer, verifier):
    text = '[{"\\"' * 40
    claims = verifier.verify(signed(issuer, payload=payload_text(issuer, name=text, custom={"k": ["}]" * 40]})))
    assert claims["name"] == text


def test_unterminated_strings_refused(issuer, verifier):
    payload = with_member(payload_text(issuer), '"x": "' + '\\"[' * 3_000)
    assert refused(verifier, signed(issuer, payload=payload)) == "malformed"
