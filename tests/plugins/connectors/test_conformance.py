"""The conformance suite every connector passes (STYLE §8), one harness per connector type.

Add a connector: add a harness in ``harnesses.py``; these tests then run against it.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from authserver.plugin_api import (
    CONNECTOR_GROUP,
    MAX_SUBJECT_TOKEN_BYTES,
    TOKEN_TYPE_SESSION,
    Connector,
    Identity,
    InvalidSubjectToken,
    PluginConfigError,
)

from .fakes import oversized
from .harnesses import HARNESSES, ConnectorHarness

GARBAGE = ["", "garbage", "a.b.c", "...", "eyJ.eyJ.", "x" * 40 + ".", "é\x00\n", "Bearer a b",
           "eyJhbGciOiJub25lIn0.e30.", "e30.e30.e30"]


def refused(harness: ConnectorHarness, token: str, token_type: str | None = None) -> InvalidSubjectToken:
    """Verify ``token`` and return the refusal, checking it is safe to show the client."""
    with pytest.raises(InvalidSubjectToken) as caught:
        harness.connector().verify(token, token_type or harness.token_type, harness.request())
    error = caught.value
    assert error.description and len(error.description) < 100
    assert error.detail and error.detail not in error.description
    assert not token or token not in error.description
    return error


def test_every_installed_connector_has_a_harness() -> None:
    installed = {ep.name: ep for ep in entry_points(group=CONNECTOR_GROUP)}
    if not installed:
        pytest.skip("no connector entry points installed yet (package not installed)")
    assert set(installed) <= set(HARNESSES), "each connector needs a conformance harness"
    for name, ep in installed.items():
        assert ep.load() is HARNESSES[name].connector_class


def test_declares_its_type(harness: ConnectorHarness) -> None:
    cls = harness.connector_class
    assert issubclass(cls, Connector)
    assert cls.type_name in HARNESSES
    assert harness.token_type in cls.subject_token_types


def test_valid_token_yields_identity(harness: ConnectorHarness) -> None:
    token, subject = harness.valid()
    identity = harness.connector().verify(token, harness.token_type, harness.request())
    assert isinstance(identity, Identity)
    assert identity.subject == subject
    assert isinstance(identity.claims, dict)


def test_bad_signature_is_refused(harness: ConnectorHarness) -> None:
    refused(harness, harness.bad_signature())


def test_expired_is_refused(harness: ConnectorHarness) -> None:
    refused(harness, harness.expired())


def test_wrong_audience_is_refused(harness: ConnectorHarness) -> None:
    token = harness.wrong_audience()
    if token is None:
        pytest.skip("the upstream, not the connector, decides the audience of opaque tokens")
    refused(harness, token)


def test_replayed_token_is_refused(harness: ConnectorHarness) -> None:
    if not harness.single_use:
        pytest.skip("this token type is not single-use")
    connector = harness.connector()
    token, _ = harness.valid()
    connector.verify(token, harness.token_type, harness.request())
    with pytest.raises(InvalidSubjectToken):
        connector.verify(token, harness.token_type, harness.request())


@pytest.mark.parametrize("token_type", ["urn:example:unknown", TOKEN_TYPE_SESSION])
def test_unknown_token_type_is_refused(harness: ConnectorHarness, token_type: str) -> None:
    token, _ = harness.valid()
    refused(harness, token, token_type)
    assert harness.http.calls == []


def test_oversized_is_refused_before_any_upstream_call(harness: ConnectorHarness) -> None:
    token, _ = harness.valid()
    refused(harness, oversized(token, MAX_SUBJECT_TOKEN_BYTES))
    assert harness.http.calls == []


@pytest.mark.parametrize("garbage", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_is_refused(harness: ConnectorHarness, garbage: str) -> None:
    refused(harness, garbage)


def test_bad_config_names_the_key(harness: ConnectorHarness) -> None:
    assert harness.bad_configs, "a harness lists the configurations its connector refuses"
    for config, key in harness.bad_configs:
        with pytest.raises(PluginConfigError) as caught:
            harness.connector_class.validate_config(config)
        assert caught.value.key == key, config


def test_config_is_normalized_idempotently(harness: ConnectorHarness) -> None:
    normalized = harness.connector_class.validate_config(harness.config())
    assert harness.connector_class.validate_config(normalized) == normalized
