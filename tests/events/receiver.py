"""A webhook receiver on loopback that verifies every delivery with ``standardwebhooks``,
the Standard Webhooks project's own library, and records what it got; over plain HTTP, or
over HTTPS with a certificate of its own (:class:`TestCertificates`)."""

from __future__ import annotations

import datetime
import json
import os
import socket
import ssl
import threading
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    webhook_id: str
    body: dict
    headers: dict
    verified_by: list[str] = field(default_factory=list)  # the secrets that verify it

    @property
    def type(self) -> str:
        return self.body["type"]


class Receiver:
    """``status`` is the answer; with ``hold`` set, each request waits for ``release()``.
    ``stop()`` takes it off the network (connection refused) until ``start()`` again."""

    def __init__(self, port: int | None = None, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1"):
        self.port = port or free_port()
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}/hooks"
        self.secrets: list[str] = []
        self.received: list[Received] = []
        self.unverified: list[dict] = []
        self.status = 200
        self.response_headers: dict[str, str] = {}
        self.paths: list[str] = []
        self.hold = False
        self.arrived = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    # --- the WSGI app -----------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        headers = dict(request.headers)
        verified_by = [s for s in self.secrets if _verifies(s, body, headers)]
        with self._lock:
            if verified_by:
                self.received.append(Received(headers.get("Webhook-Id"), json.loads(body), headers, verified_by))
            else:
                self.unverified.append({"headers": headers, "body": body})
        self.paths.append(request.path)
        self.arrived.set()
        if self.hold:
            self._released.wait(timeout=30)
        status = self.status if verified_by else 400
        response = Response("ok" if status < 300 else "no", status=status, headers=self.response_headers)
        return response(environ, start_response)

    def release(self) -> None:
        self._released.set()

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> Receiver:
        self._server = make_server("127.0.0.1", self.port, self, threaded=True, ssl_context=self.tls)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    # --- what arrived --------------------------------------------------------------------

    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.received]

    def of_type(self, type_: str) -> list[Received]:
        return [r for r in self.received if r.type == type_]


def _verifies(secret: str, body: bytes, headers: dict) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


class TestCertificates:
    """A certificate authority of the test's own and a server certificate it signs for
    ``names`` (DNS names), written under ``directory``: ``ca_file`` is what a client trusts,
    :meth:`server_context` what the receiver serves."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, directory: str, names: tuple[str, ...] = ("localhost",)):
        ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "authserver test CA")])
        ca = _certificate(ca_name, ca_name, ca_key.public_key(), ca_key, [
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (x509.KeyUsage(False, False, False, False, False, True, True, False, False), True),
            (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)])
        leaf = _certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]), ca_name,
                            key.public_key(), ca_key, [
            (x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False),
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)])
        self.ca_file = os.path.join(directory, "ca.pem")
        self._cert_file = os.path.join(directory, "server.pem")
        self._key_file = os.path.join(directory, "server.key")
        _write(self.ca_file, ca.public_bytes(serialization.Encoding.PEM))
        _write(self._cert_file, leaf.public_bytes(serialization.Encoding.PEM))
        _write(self._key_file, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._cert_file, self._key_file)
        return context


def _certificate(subject: x509.Name, issuer: x509.Name, public_key, signing_key, extensions) -> x509.Certificate:
    """A certificate valid from five minutes ago for a day, with ``(extension, critical)`` pairs."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1)))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
