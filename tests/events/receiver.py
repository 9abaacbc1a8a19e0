"""A webhook receiver on loopback that verifies every delivery with ``standardwebhooks``,
the Standard Webhooks project's own library, and records what it got."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field

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

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
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
        self._server = make_server("127.0.0.1", self.port, self, threaded=True)
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
