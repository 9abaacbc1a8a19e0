"""Plugin conformance kit (STYLE §8): the tests every connector and every token profile
passes, importable from any package's test suite, first-party or third-party alike.

Like Dex's ``storage/conformance``, the kit is the suite itself; a plugin supplies a
*harness* saying how to drive it, and a ``Test…`` class that names the harness:

* :mod:`authserver.plugin_testing.connectors`: :class:`ConnectorHarness`,
  ``ConnectorConformance``, and in-process fakes (HTTP, clock, an OpenID Provider, token
  minting and forging);
* :mod:`authserver.plugin_testing.profiles`: :class:`ProfileHarness`, ``ProfileConformance``,
  sample granted tokens, signing as the core does, and an independent JWS verifier.

For example, in a third-party package's ``tests/test_conformance.py``::

    from authserver.plugin_testing.connectors import ConnectorConformance
    from authserver.plugin_testing.profiles import ProfileConformance, ProfileHarness

    from .harnesses import AcmeHarness          # a ConnectorHarness subclass
    from acme_profile import AcmeProfile


    class TestAcmeConnector(ConnectorConformance):
        harness_class = AcmeHarness


    class TestAcmeProfile(ProfileConformance):
        harness = ProfileHarness(AcmeProfile, credential={"secret": "s" * 32},
                                 verify_key=lambda: "s" * 32, algorithm="HS256", secrets=("s" * 32,))

The suites need pytest (>= 8), and only pytest beyond the server's own dependencies; they
load on first use, so harnesses and fakes import without it. The kit uses only
:mod:`authserver.plugin_api` from the server.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def _load_suite(module: str) -> ModuleType:
    """Import a suite module, with pytest's assertion rewriting when pytest is running."""
    import pytest

    pytest.register_assert_rewrite(module)
    return importlib.import_module(module)
