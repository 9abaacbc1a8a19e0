"""The answer of an explained RFC 8693 token exchange (:mod:`authserver.grants.explain`): the
request it reads, the steps it reports and their vocabulary, shared by the admin API's schema,
the CLI and the console.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from authserver.errors import InvalidInput

#: The request: the token endpoint's parameters (RFC 8693 §2.1 and our extensions), by name.
REQUIRED = ("client_id", "subject_token", "subject_token_type")
OPTIONAL = ("audience", "resource", "scope", "requested_token_type", "idp", "workspace",
            "actor_token", "actor_token_type", "session_token")
NO_CONTROL = re.compile(r"[^\x00-\x1f\x7f]*\Z")

OUTCOMES = {"existing": "existing user", "created": "would create", "linked": "would link",
            "assigned": "would assign", "merged": "would merge"}
NEW_USER = "(new)"  # the _id of a user the exchange would create is drawn then, not now
#: Why a connection did or did not take the subject token.
CONNECTION_RESULTS = ("matched", "accepts", "named", "not requested", "not allowed", "disabled", "missing",
                      "wrong token type", "iss mismatch", "misconfigured")

#: The connector checks explain names, in the order a JWT is verified, and the words of a
#: refusal that name each one; a refusal none of them names is the step ``verify`` itself.
CHECKS = (
    ("token_type", ("token type",)),
    ("size", ("exceeds", "larger than", "empty or not a string")),
    ("header", ("malformed", "not ascii", "jws header", "unencoded payload", "compact jws", "segment")),
    ("alg", ("algorithm",)),
    ("typ", ("presented as an id token",)),
    ("key", ("key with kid", "no registered keys", "shared secret")),
    ("signature", ("signature",)),
    ("iss", ("'iss'",)),
    ("aud", ("'aud'", "aud holds", "azp", "several audiences")),
    ("exp", ("expired", "'exp'")),
    ("nbf", ("not yet valid", "'nbf'")),
    ("iat", ("issued in the future", "'iat'")),
    ("sub", ("'sub'", "sub is")),
    ("jti", ("'jti'", "jti is")),
    ("lifetime", ("lifetime",)),
)
SIGNATURE = [name for name, _ in CHECKS].index("signature")


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str


class Stop(Exception):
    """A step failed: the exchange would stop here."""


@dataclass
class Explanation:
    """The answer, filled in as the steps run."""

    client_id: str
    steps: list[Step] = field(default_factory=list)
    error: str | None = None
    error_description: str | None = None
    connection: str | None = None
    connections: list[dict[str, str]] = field(default_factory=list)
    audience: dict[str, Any] | None = None
    profile: dict[str, str] | None = None
    scopes: dict[str, Any] | None = None
    identity: dict[str, Any] | None = None
    token: dict[str, Any] | None = None

    def passed(self, name: str, detail: str) -> None:
        self.steps.append(Step(name, True, detail))

    def failed(self, name: str, error: str, description: str, detail: str | None = None) -> Stop:
        """Step ``name`` failed: the exchange answers ``error`` and ``description``; ``detail``
        (the description if None) says more, as the connector's own words do."""
        self.steps.append(Step(name, False, detail or description))
        self.error, self.error_description = error, description
        return Stop(name)

    def to_dict(self) -> dict[str, Any]:
        failed = next((step.name for step in self.steps if not step.ok), None)
        return {"verdict": "refuse" if failed else "issue", "failed_step": failed, "error": self.error,
                "error_description": self.error_description, "client_id": self.client_id,
                "steps": [dataclasses.asdict(step) for step in self.steps], "connection": self.connection,
                "connections": self.connections, "audience": self.audience, "profile": self.profile,
                "scopes": self.scopes, "identity": self.identity, "token": self.token}



def exchange_form(body: dict[str, Any]) -> tuple[str, MultiDict]:
    """``client_id`` and the token endpoint's form, from a JSON object of strings; raises
    :class:`InvalidInput` (never repeating a value: one of them is a token)."""
    if set(body) - {*REQUIRED, *OPTIONAL}:
        raise InvalidInput(f"the body may hold only: {', '.join((*REQUIRED, *OPTIONAL))}")
    for name in REQUIRED:
        if not isinstance(body.get(name), str) or not body[name]:
            raise InvalidInput(f"{name}: required, a non-empty string")
    for name, value in body.items():
        if value is not None and (not isinstance(value, str) or not NO_CONTROL.match(value)):
            raise InvalidInput(f"{name}: must be a string without control characters (or null)")
    form = MultiDict([(name, body[name]) for name in (*REQUIRED[1:], *OPTIONAL) if body.get(name)])
    return body["client_id"], form
