"""Fixtures for connector tests: in-process fakes, and one conformance harness per connector."""

from __future__ import annotations

import pytest

from authserver.plugin_api import ConnectorContext

from .fakes import FakeClock, FakeHttp, FakeProvider, make_context
from .harnesses import HARNESSES, ConnectorHarness


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def http() -> FakeHttp:
    return FakeHttp()


@pytest.fixture
def context(http: FakeHttp, clock: FakeClock) -> ConnectorContext:
    return make_context(http, clock)


@pytest.fixture
def provider(http: FakeHttp, clock: FakeClock) -> FakeProvider:
    return FakeProvider(http, clock)


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest, http: FakeHttp, clock: FakeClock) -> ConnectorHarness:
    return HARNESSES[request.param](http, clock)
