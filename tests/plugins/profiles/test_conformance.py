"""The token profile conformance suite (STYLE §8) run against each first-party profile, the way
a third party runs it against its own, plus the first-party checks: the entry points
pyproject.toml declares, and a harness for every installed first-party profile."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

from authserver.plugin_api import PROFILE_GROUP
from authserver.plugin_testing.profiles import ProfileConformance

from .helpers import STATIC_PROFILES, cases

HARNESSES = cases()
REPO = Path(__file__).resolve().parents[3]


class TestNative(ProfileConformance):
    harness = HARNESSES["native"]


class TestTwilio(ProfileConformance):
    harness = HARNESSES["twilio"]


class TestVonage(ProfileConformance):
    harness = HARNESSES["vonage"]


class TestSunshine(ProfileConformance):
    harness = HARNESSES["sunshine"]


class TestStream(ProfileConformance):
    harness = HARNESSES["stream"]


class TestMatrix(ProfileConformance):
    harness = HARNESSES["matrix"]


def test_static_list_matches_pyproject_entry_points():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert declared["project"]["entry-points"][PROFILE_GROUP] == STATIC_PROFILES


def test_every_first_party_profile_has_a_harness():
    assert set(HARNESSES) == set(STATIC_PROFILES)
    for name, harness in HARNESSES.items():
        module, _, attr = STATIC_PROFILES[name].partition(":")
        assert (harness.profile_class.__module__, harness.profile_class.__name__) == (module, attr)
    installed = {ep.name for ep in entry_points(group=PROFILE_GROUP) if ep.value.startswith("authserver_plugins.")}
    assert installed <= set(HARNESSES)
