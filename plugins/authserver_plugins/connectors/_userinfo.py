"""OpenID Connect Core 1.0 §5.3 UserInfo request with an RFC 6750 §2.1 Bearer token.

Also serves plain OAuth 2.0 profile endpoints (GitHub's ``/user``): an opaque access token
is checked by asking the upstream whose it is. 401/403 mean the token is bad; any other
failure is the upstream's, and upstream detail goes to the log only.
"""

from __future__ import annotations

import re
from typing import Any

from authserver.plugin_api import HttpClient, UpstreamUnavailable

from ._jwt import refuse

#: RFC 6750 §2.1 ``b64token``: anything else could smuggle bytes into the header.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def fetch_userinfo(http: HttpClient, url: str, token: str) -> dict[str, Any]:
    """The JSON object the endpoint answers for ``token``."""
    if not _B64TOKEN.fullmatch(token):
        raise refuse("access token is not an RFC 6750 b64token")
    response = http.get(url, headers={"Authorization": f"Bearer {token}",
                                      "Accept": "application/json"})
    if response.status in (401, 403):
        raise refuse(f"userinfo endpoint refused the access token with HTTP {response.status}")
    if response.status != 200:
        raise UpstreamUnavailable(f"userinfo endpoint answered HTTP {response.status}")
    try:
        body = response.json()
    except ValueError as error:
        raise UpstreamUnavailable("userinfo endpoint answered something other than JSON") from error
    if not isinstance(body, dict):
        raise UpstreamUnavailable("userinfo endpoint answered JSON that is not an object")
    return body
