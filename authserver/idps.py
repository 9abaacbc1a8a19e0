"""Identity provider connections of a realm (placeholder until the IdP model lands)."""

from __future__ import annotations

from authserver.models import Realm


def known_idp_names(realm: Realm) -> set[str]:
    return set()
