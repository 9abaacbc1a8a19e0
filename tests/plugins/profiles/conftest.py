from __future__ import annotations

import pytest

from .helpers import Case, cases


@pytest.fixture(scope="session")
def profile_cases() -> dict[str, Case]:
    return cases()
