"""Standard Webhooks signatures, checked against the ``standardwebhooks`` library."""

from __future__ import annotations

from datetime import UTC, datetime

from standardwebhooks import Webhook

from authserver.events import signing


def test_signatures_match_the_reference_library():
    secret = signing.new_secret()
    assert secret.startswith("whsec_") and len(signing.secret_key(secret)) == 32
    body = '{"id":"evt_1","data":{"name":"Zoë"}}'.encode()
    reference = Webhook(secret).sign("evt_1", datetime.fromtimestamp(1_800_000_000, UTC), body.decode())
    assert signing.signature(secret, "evt_1", 1_800_000_000, body) == reference


def test_every_secret_signs_during_a_rotation():
    old, new = signing.new_secret(), signing.new_secret()
    headers = signing.headers([new, old], "evt_1", 1_800_000_000, b"{}")
    assert headers["webhook-id"] == "evt_1" and headers["webhook-timestamp"] == "1800000000"
    assert headers["webhook-signature"].split(" ") == [signing.signature(s, "evt_1", 1_800_000_000, b"{}")
                                                        for s in (new, old)]
