"""The connector conformance suite (STYLE §8) run against each first-party connector, the way a
third party runs it against its own, plus the check that every installed first-party
connector has a harness."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from authserver.plugin_api import CONNECTOR_GROUP
from authserver.plugin_testing.connectors import ConnectorConformance

from .harnesses import HARNESSES, BackendAssertionHarness, OIDCHarness, UserinfoHarness


class TestOIDC(ConnectorConformance):
    harness_class = OIDCHarness


class TestUserinfo(ConnectorConformance):
    harness_class = UserinfoHarness


class TestBackendAssertion(ConnectorConformance):
    harness_class = BackendAssertionHarness


def test_every_installed_first_party_connector_has_a_harness() -> None:
    installed = {ep.name: ep for ep in entry_points(group=CONNECTOR_GROUP)
                 if ep.value.startswith("authserver_plugins.")}
    if not installed:
        pytest.skip("no connector entry points installed (package not installed)")
    assert set(installed) <= set(HARNESSES), "each connector needs a conformance harness"
    for name, ep in installed.items():
        assert ep.load() is HARNESSES[name].connector_class
