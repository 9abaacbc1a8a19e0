"""The server's request object carries every attribute Authlib's own constructor sets, and the
transport check it makes once per scheme and host refuses what Authlib refuses."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import OAuth2Request
from werkzeug.datastructures import ImmutableMultiDict

from authserver.server import StrictOAuth2Request


def test_the_strict_request_has_authlibs_attributes(app):
    with app.test_request_context("/realms/default/token", method="POST"):
        authlib = OAuth2Request("POST", "https://auth.test/realms/default/token", headers={})
        ours = StrictOAuth2Request(ImmutableMultiDict([("grant_type", "client_credentials")]), None)
        missing = set(vars(authlib)) - set(vars(ours)) - {"uri"}
        assert not missing
        assert ours.uri == "http://localhost/realms/default/token"
        assert ours.payload.grant_type == "client_credentials"


def test_plain_http_is_refused_off_loopback(app):
    response = app.test_client().post("/realms/default/token", base_url="http://auth.example",
                                      data={"grant_type": "client_credentials"})
    assert response.status_code == 400 and response.get_json()["error"] == "insecure_transport"
    over_tls = app.test_client().post("/realms/default/token", base_url="https://auth.example",
                                      data={"grant_type": "client_credentials"})
    assert over_tls.get_json()["error"] != "insecure_transport"
