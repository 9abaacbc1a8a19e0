"""The conformance suite every connector passes, first-party or not (needs pytest).

Subclass :class:`ConnectorConformance` in a test module, name your harness, and pytest runs
every test below against it::

    class TestMyConnector(ConnectorConformance):
        harness_class = MyHarness

The suite checks what the core relies on and cannot check itself: bad signatures, expiry
with the *configured* clock skew, audience, single use reported (not enforced), unknown
token types, the *configured* size limit, strict parsing, refused configurations, and that
the declared capabilities match what the connector does. It does not check what the core
checks on every identity (the subject's syntax, the replay cache, which IdPs a client may use).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, ClassVar

import pytest

from authserver.plugin_api import (
    CONNECTOR_GROUP,
    TOKEN_TYPE_SESSION,
    Connector,
    Identity,
    InvalidSubjectToken,
    PluginConfigError,
)

from .fakes import b64, oversized
from .harness import ConnectorHarness, jws_parts

GARBAGE = ["", "garbage", "a.b.c", "...", "eyJ.eyJ.", "x" * 40 + ".", "é\x00\n", "Bearer a b",
           "eyJhbGciOiJub25lIn0.e30.", "e30.e30.e30"]
UNKNOWN_TOKEN_TYPES = ["urn:example:unknown", TOKEN_TYPE_SESSION]
#: Deeper than any recursive JSON parser survives (Python's stops near 1,000).
DEPTH = 10_000
#: ``user_id`` template fields, as the core reads ``default_user_id_rule``.
TEMPLATE_FIELD = re.compile(r"\{([A-Za-z0-9_.:-]+)\}")


def _nested(obj: Mapping[str, Any]) -> bytes:
    return (json.dumps(dict(obj))[:-1] + ', "nested": ' + "[" * DEPTH + "]" * DEPTH + "}").encode()


def _duplicate_name(obj: Mapping[str, Any]) -> bytes:
    name = next(iter(obj))  # the same member twice, even with the same value (RFC 8725 §3.7)
    return (json.dumps(dict(obj))[:-1] + f", {json.dumps(name)}: {json.dumps(obj[name])}" + "}").encode()


#: Segments a strict parser refuses (UTF-8 JSON objects only, bounded depth, unique names).
MALFORMED_SEGMENTS: dict[str, Callable[[Mapping[str, Any]], bytes]] = {
    "utf-16": lambda obj: json.dumps(dict(obj)).encode("utf-16"),
    "utf-16-le": lambda obj: json.dumps(dict(obj)).encode("utf-16-le"),
    "utf-32": lambda obj: json.dumps(dict(obj)).encode("utf-32"),
    "nested": _nested,
    "duplicate-name": _duplicate_name,
}


def refused(harness: ConnectorHarness, token: str, **options: Any) -> InvalidSubjectToken:
    """Verify ``token`` (options as :meth:`ConnectorHarness.verify`) and return the refusal,
    checking it is safe to show the client."""
    with pytest.raises(InvalidSubjectToken) as caught:
        harness.verify(token, **options)
    error = caught.value
    assert error.description and len(error.description) < 100, "a short description for the client"
    assert error.detail and error.detail not in error.description, "the detail goes to the log only"
    assert not token or token not in error.description, "the token is never echoed"
    return error


class ConnectorConformance:
    """The suite; a subclass named ``Test…`` sets :attr:`harness_class`."""

    harness_class: ClassVar[type[ConnectorHarness]]

    @pytest.fixture
    def harness(self) -> ConnectorHarness:
        return self.harness_class()

    # --- declarations ------------------------------------------------------------------

    def test_declares_its_type_and_capabilities(self, harness: ConnectorHarness) -> None:
        cls = harness.connector_class
        assert issubclass(cls, Connector)
        assert isinstance(cls.type_name, str) and cls.type_name
        assert isinstance(cls.subject_token_types, frozenset)
        assert all(isinstance(kind, str) for kind in cls.subject_token_types)
        assert harness.token_type in cls.subject_token_types
        assert isinstance(cls.signed_by_client, bool) and isinstance(cls.accepts_shared_secret, bool)
        assert cls.signed_by_client or not cls.accepts_shared_secret, \
            "the core hands a shared secret only with the signing client's keys (signed_by_client)"
        assert isinstance(cls.default_user_id_rule, str) and cls.default_user_id_rule.strip()

    def test_entry_point_loads_this_class(self, harness: ConnectorHarness) -> None:
        cls = harness.connector_class
        installed = {ep.name: ep for ep in entry_points(group=CONNECTOR_GROUP)}
        if cls.type_name not in installed:
            pytest.skip(f"no {CONNECTOR_GROUP!r} entry point named {cls.type_name!r} installed")
        assert installed[cls.type_name].load() is cls

    # --- verification ------------------------------------------------------------------

    def test_valid_token_yields_identity(self, harness: ConnectorHarness) -> None:
        token, subject = harness.valid()
        identity = harness.verify(token)
        assert isinstance(identity, Identity)
        assert identity.subject == subject
        assert isinstance(identity.claims, Mapping)
        json.dumps(dict(identity.claims))  # plain JSON: the core stores and signs what it keeps
        assert identity.custom is None or isinstance(identity.custom, Mapping)
        assert identity.workspace is None or isinstance(identity.workspace, str)
        assert identity.expires_at is None or type(identity.expires_at) is int

    def test_bad_signature_is_refused(self, harness: ConnectorHarness) -> None:
        refused(harness, harness.bad_signature())

    def test_expired_is_refused(self, harness: ConnectorHarness) -> None:
        refused(harness, harness.expired())

    def test_configured_clock_skew_is_honoured(self, harness: ConnectorHarness) -> None:
        token = harness.expired_since(30)
        if token is None:
            pytest.skip("the upstream, not the connector, decides when an opaque token expires")
        assert isinstance(harness.verify(token, connector=harness.connector(clock_skew=60)), Identity)
        refused(harness, token, connector=harness.connector(clock_skew=0))

    def test_wrong_audience_is_refused(self, harness: ConnectorHarness) -> None:
        token = harness.wrong_audience()
        if token is None:
            pytest.skip("the upstream, not the connector, decides the audience of opaque tokens")
        refused(harness, token)

    def test_single_use_token_returns_its_jti(self, harness: ConnectorHarness) -> None:
        """A single-use token type reports its ``jti`` as ``Identity.single_use_id`` and does
        not spend it (the core does, after every other check); other types report None."""
        connector = harness.connector()
        token, _ = harness.valid()
        first = harness.verify(token, connector=connector)
        if not harness.single_use:
            assert first.single_use_id is None, "a reusable token type reports no single_use_id"
            return
        parts = jws_parts(token)
        jti = parts[1].get("jti") if parts else None
        assert isinstance(first.single_use_id, str) and first.single_use_id
        assert jti is None or first.single_use_id == jti
        again = harness.verify(token, connector=connector)  # the connector keeps no replay state
        assert again.single_use_id == first.single_use_id
        other, _ = harness.valid()
        assert harness.verify(other, connector=connector).single_use_id != first.single_use_id

    @pytest.mark.parametrize("token_type", UNKNOWN_TOKEN_TYPES)
    def test_unknown_token_type_is_refused(self, harness: ConnectorHarness, token_type: str) -> None:
        if token_type in harness.connector_class.subject_token_types:
            pytest.skip(f"{token_type} is one of this connector's types")
        token, _ = harness.valid()
        refused(harness, token, token_type=token_type)
        assert harness.http.calls == []

    # --- input bounds and parsing ------------------------------------------------------

    def test_oversized_is_refused_before_any_upstream_call(self, harness: ConnectorHarness) -> None:
        token, _ = harness.valid()
        refused(harness, oversized(token, harness.context.max_token_bytes))
        assert harness.http.calls == []

    def test_configured_size_limit_is_honoured(self, harness: ConnectorHarness) -> None:
        token, subject = harness.valid()
        size = len(token.encode())
        refused(harness, token, connector=harness.connector(max_token_bytes=size - 1))
        assert harness.http.calls == []
        assert harness.verify(token, connector=harness.connector(max_token_bytes=size)).subject == subject

    @pytest.mark.parametrize("garbage", GARBAGE, ids=range(len(GARBAGE)))
    def test_garbage_is_refused(self, harness: ConnectorHarness, garbage: str) -> None:
        refused(harness, garbage)

    @pytest.mark.parametrize("form", MALFORMED_SEGMENTS)
    @pytest.mark.parametrize("segment", ["header", "payload"])
    def test_segments_are_parsed_strictly(self, harness: ConnectorHarness, segment: str, form: str) -> None:
        """A header or payload in UTF-16/32, nested 10,000 deep or with a repeated member is
        refused as an invalid token, never with a RecursionError, even when correctly signed
        and within the size limit."""
        token, _ = harness.valid()
        header, payload = jws_parts(token) or ({"alg": "ES256", "typ": "JWT"}, {"sub": "someone"})
        encode = MALFORMED_SEGMENTS[form]
        raw_header = encode(header) if segment == "header" else json.dumps(header).encode()
        raw_payload = encode(payload) if segment == "payload" else json.dumps(payload).encode()
        bad = harness.sign_segments(raw_header, raw_payload) \
            or f"{b64(raw_header)}.{b64(raw_payload)}.{b64(b'not a signature')}"
        limit = max(harness.context.max_token_bytes, len(bad) + 1)
        refused(harness, bad, connector=harness.connector(max_token_bytes=limit))

    # --- capabilities ------------------------------------------------------------------

    def test_signed_by_client_verifies_with_the_clients_keys(self, harness: ConnectorHarness) -> None:
        if not harness.connector_class.signed_by_client:
            pytest.skip("not signed_by_client: the core hands this connector no client keys")
        request = harness.request()
        assert request.client_keys is not None, "the harness returns the signing client's keys"
        token, _ = harness.valid()
        refused(harness, token, request=dataclasses.replace(request, client_keys=None, shared_secret=None))
        refused(harness, token, request=dataclasses.replace(request, client_id="another-client"))

    def test_shared_secret_comes_from_the_request(self, harness: ConnectorHarness) -> None:
        if not harness.connector_class.accepts_shared_secret:
            pytest.skip("does not accept shared secrets: the core hands this connector none")
        token, request = harness.signed_with_shared_secret(), harness.request()
        assert token and request.shared_secret, "the harness signs a token with its shared secret"
        assert isinstance(harness.verify(token), Identity)
        refused(harness, token, request=dataclasses.replace(request, shared_secret=None))

    def test_issuer_routes_its_own_tokens(self, harness: ConnectorHarness) -> None:
        """The core routes a JWT to the connection whose issuer is its ``iss``: the signing
        client's id for a ``signed_by_client`` connection, else :meth:`Connector.issuer`."""
        connector = harness.connector()
        issuer = connector.issuer()
        assert issuer is None or isinstance(issuer, str)
        token, _ = harness.valid()
        parts = jws_parts(token)
        if parts is None or not isinstance(parts[1].get("iss"), str):
            pytest.skip("not a JWT with an iss: the core does not route it by issuer")
        expected = harness.request().client_id if harness.connector_class.signed_by_client else issuer
        assert expected in (None, parts[1]["iss"])

    def test_default_user_id_rule_names_what_identities_carry(self, harness: ConnectorHarness) -> None:
        rule = harness.connector_class.default_user_id_rule
        identity = harness.verify(harness.valid()[0])
        values = {**identity.claims, "sub": identity.subject, "idp": "an-idp"}
        fields = TEMPLATE_FIELD.findall(rule) if "{" in rule else [rule]
        missing = [name for name in fields if not isinstance(values.get(name), (str, int))
                   or isinstance(values.get(name), bool) or str(values[name]) == ""]
        assert fields and not missing, f"{rule!r} names {missing} that a valid identity lacks"

    # --- configuration -----------------------------------------------------------------

    def test_bad_config_names_the_key(self, harness: ConnectorHarness) -> None:
        assert harness.bad_configs, "a harness lists the configurations its connector refuses"
        for config, key in harness.bad_configs:
            with pytest.raises(PluginConfigError) as caught:
                harness.connector_class.validate_config(config)
            assert caught.value.key == key, config

    def test_config_is_normalized_idempotently(self, harness: ConnectorHarness) -> None:
        normalized = harness.connector_class.validate_config(harness.config())
        assert harness.connector_class.validate_config(normalized) == normalized
