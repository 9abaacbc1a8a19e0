"""authserver: an OAuth 2.0 / OIDC authorization server for chat products."""

from __future__ import annotations

__version__ = "0.1.0"

from authserver.app import create_app  # noqa: E402

__all__ = ["__version__", "create_app"]
