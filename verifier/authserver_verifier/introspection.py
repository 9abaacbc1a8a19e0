"""RFC 7662 token introspection, the online check that also sees revocation.

The chat backend authenticates as a confidential client with ``client_secret_basic``
(RFC 6749 section 2.3.1: id and secret form-urlencoded, then HTTP Basic). Nothing is cached:
every call asks the issuer, so a revoked token or a disabled user is seen at once.
Redirects are not followed, so the credentials go to the advertised endpoint only.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import requests

from .discovery import Timeout, json_object
from .errors import UpstreamError

__all__ = ["basic_authorization", "introspect"]


def basic_authorization(client_id: str, client_secret: str) -> str:
    """The ``Authorization`` header value for ``client_secret_basic``."""
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def introspect(
    session: Any, url: str, token: str, client_id: str, client_secret: str, timeout: Timeout
) -> dict[str, Any]:
    """POST the token to ``url``; the response object, with ``active`` forced to a bool."""
    try:
        response = session.post(
            url,
            data={"token": token, "token_type_hint": "access_token"},
            headers={"Authorization": basic_authorization(client_id, client_secret), "Accept": "application/json"},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise UpstreamError("introspection_failed", type(error).__name__) from None
    result = json_object(response, "introspection_failed")
    result["active"] = result.get("active") is True
    return result
