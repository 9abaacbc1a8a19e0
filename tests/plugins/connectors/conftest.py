"""Fixtures for connector tests: the conformance kit's in-process fakes."""

from __future__ import annotations

import pytest

from authserver.plugin_api import ConnectorContext
from authserver.plugin_testing.connectors import FakeClock, FakeHttp, FakeProvider, make_context


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
