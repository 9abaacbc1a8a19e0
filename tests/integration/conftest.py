"""Integration fixtures: one real OpenID Provider (npm ``oidc-provider``) on loopback per run."""

from __future__ import annotations

from tests.support.upstream_idp import upstream_idp_fixture

upstream_idp = upstream_idp_fixture()
