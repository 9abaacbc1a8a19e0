"""Receiver safety: http(s) only, private addresses refused at subscription and at delivery
time (the connection goes to the checked address), no redirects, capped bodies, deadlines;
over HTTPS the receiver's certificate and name are verified (the name, not the pinned address)."""

from __future__ import annotations

import pytest

from authserver.errors import InvalidInput
from authserver.events import subscriptions
from authserver.events.delivery import DELIVERED, FAILED, REFUSED, TIMEOUT, Sender, forbidden_reason, parse_target
from authserver.events.runtime import webhook_runtime
from authserver.events.worker import Worker
from authserver.registry.realms import create_realm, get_realm
from tests.events.conftest import WEBHOOK_CONFIG, subscribe
from tests.events.receiver import Receiver, TestCertificates
from tests.factories import make_client

PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture
def strict_app(make_app):
    """The production default: private, loopback and link-local receivers refused."""
    app = make_app(**{**WEBHOOK_CONFIG, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False})
    with app.app_context():
        create_realm("default")
    return app


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hooks", "http://localhost/hooks", "http://10.1.2.3/", "http://[::1]/",
    "http://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
    "http://100.64.0.1/"])
def test_a_private_receiver_is_refused_without_sending_anything(strict_app, receiver, url):
    with strict_app.app_context(), pytest.raises(InvalidInput, match="address"):
        subscriptions.create_subscription(get_realm("default"), {"url": url}, "test")
    with strict_app.app_context(), pytest.raises(InvalidInput, match="address"):
        subscriptions.create_subscription(get_realm("default"), {"url": receiver.url}, "test")
    assert not receiver.arrived.is_set()


@pytest.mark.parametrize("url", ["ftp://example.com/", "https://user:pw@example.com/", "example.com/hook",
                                 "http://example.com/#frag", "https://example.com:99999/", "http:///x"])
def test_only_plain_http_and_https_urls(app, url):
    with app.app_context(), pytest.raises(InvalidInput, match="url"):
        subscriptions.create_subscription(get_realm("default"), {"url": url}, "test")


def test_a_name_that_resolves_to_loopback_at_delivery_time_is_refused(strict_app, receiver):
    sender = webhook_runtime(strict_app).sender
    answers = {"hooks.example.test": [PUBLIC_ADDRESS]}
    sender.resolve = lambda host, port: answers[host]
    receiver.url = f"http://hooks.example.test:{receiver.port}/hooks"
    sub = subscribe(strict_app, receiver)
    answers["hooks.example.test"] = ["127.0.0.1"]  # the DNS answer changes after the check
    make_client(strict_app, client_id="web")
    Worker(strict_app).drain()
    assert not receiver.arrived.is_set()
    with strict_app.app_context():
        [delivery] = subscriptions.list_deliveries(None, sub["id"])
        assert delivery.state == "pending" and delivery.attempts == 1
        assert delivery.attempt_rows[0].result == REFUSED
        assert "127.0.0.1, a loopback address" in delivery.last_error


def test_the_connection_goes_to_the_checked_address(receiver):
    """The receiver's name is never resolved again by the HTTP stack: we connect to the
    address we checked and name the host in the Host header."""
    receiver.secrets.append("whsec_" + "A" * 43 + "=")
    sender = Sender(1.0, 3.0, 100, allow_private=True, resolve=lambda host, port: ["127.0.0.1"])
    outcome = sender.send(f"http://no-such-host.invalid:{receiver.port}/hooks", b"{}", {})
    assert outcome.status == 400  # unsigned: our receiver refuses it, but it was reached
    assert receiver.unverified[0]["headers"]["Host"] == f"no-such-host.invalid:{receiver.port}"


def test_answers_redirects_caps_and_deadlines(receiver):
    sender = Sender(1.0, 1.0, 2, allow_private=True)
    receiver.secrets.append("whsec_" + "A" * 43 + "=")
    assert sender.send(receiver.url, b"{}", {}).excerpt == "no"
    assert Sender(1.0, 1.0, 1, allow_private=True).send(receiver.url, b"{}", {}).excerpt == "n"
    receiver.hold = True
    held = sender.send(receiver.url, b"{}", {})
    assert held.result == TIMEOUT
    receiver.release()
    closed = Sender(1.0, 1.0, 10, allow_private=True).send("http://127.0.0.1:9/", b"{}", {})
    assert closed.result in (FAILED, TIMEOUT) and closed.error


def test_redirects_are_not_followed(app, receiver):
    sub = subscribe(app, receiver)
    receiver.status, receiver.response_headers = 307, {"Location": "/elsewhere"}
    make_client(app, client_id="web")
    Worker(app).drain()
    assert receiver.paths == ["/hooks"]
    with app.app_context():
        [delivery] = subscriptions.list_deliveries(None, sub["id"])
        assert delivery.last_status == 307 and "redirects are not followed" in delivery.last_error


def test_address_rules():
    assert forbidden_reason("8.8.8.8") is None
    assert forbidden_reason("2606:4700:4700::1111") is None
    assert forbidden_reason("127.0.0.1") == "loopback"
    assert forbidden_reason("fe80::1%eth0") == "link-local"
    assert forbidden_reason("192.168.1.1") == "private"
    assert forbidden_reason("::ffff:10.0.0.1") == "private"
    assert parse_target("https://example.com/a?b=1").path == "/a?b=1"
    assert parse_target("http://[2001:db8::1]:8080/").host_header == "[2001:db8::1]:8080"
    assert DELIVERED == "delivered"


@pytest.fixture
def certificates(tmp_path):
    return TestCertificates(str(tmp_path), names=("localhost",))


@pytest.fixture
def tls_receiver(certificates):
    server = Receiver(tls=certificates.server_context(), host="localhost").start()
    yield server
    server.stop()


def _deliver_one(app, receiver):
    """A subscription to ``receiver``, one event (a client created), one worker pass."""
    sub = subscribe(app, receiver, events="client.created")
    make_client(app, client_id="web")
    Worker(app).drain()
    with app.app_context():
        [delivery] = subscriptions.list_deliveries(None, sub["id"])
        return delivery


def test_https_delivery_to_a_receiver_whose_certificate_the_server_trusts(app, tls_receiver, certificates,
                                                                          monkeypatch):
    """A private CA is trusted as OpenSSL's ``SSL_CERT_FILE`` says (README: Events and webhooks);
    the delivery arrives over TLS and ``standardwebhooks`` verifies it."""
    monkeypatch.setenv("SSL_CERT_FILE", certificates.ca_file)
    delivery = _deliver_one(app, tls_receiver)
    assert delivery.state == "delivered" and delivery.last_status == 200
    [received] = tls_receiver.received
    assert received.type == "client.created" and received.headers["Host"] == f"localhost:{tls_receiver.port}"


def test_https_delivery_refuses_a_certificate_nobody_vouches_for(app, tls_receiver):
    """Without the test CA among the trusted ones, the TLS handshake fails: nothing is
    sent, the attempt is recorded as failed and retried later."""
    delivery = _deliver_one(app, tls_receiver)
    assert delivery.state == "pending" and delivery.attempts == 1
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
    assert tls_receiver.received == [] and tls_receiver.unverified == []


def test_https_verifies_the_receivers_name_not_the_address_it_connects_to(tls_receiver, certificates):
    """The connection goes to the address that was checked, and TLS still checks the name of
    the URL: a certificate for another name is refused, although the address is the same."""
    sender = Sender(1.0, 3.0, 100, allow_private=True, resolve=lambda host, port: ["127.0.0.1"])
    sender.tls_context.load_verify_locations(certificates.ca_file)
    assert sender.send(f"https://localhost:{tls_receiver.port}/hooks", b"{}", {}).status == 400  # reached
    other = sender.send(f"https://hooks.example.test:{tls_receiver.port}/hooks", b"{}", {})
    assert other.result == FAILED and "hostname mismatch" in other.error.lower()
    assert len(tls_receiver.unverified) == 1  # only the first request arrived
