"""Events and webhooks: a transactional outbox of what happens to users, sessions, tokens
and admin objects, delivered to per-realm subscriptions as Standard Webhooks 1.0.

- :mod:`~authserver.events.outbox` — :func:`publish`, called by the service functions in the
  transaction of their change (the caller commits).
- :mod:`~authserver.events.payloads` — the ``data`` of the user and session events.
- :mod:`~authserver.events.subscriptions` — the subscription admin shared by the CLI and the API.
- :mod:`~authserver.events.signing` — ``whsec_`` secrets and ``webhook-signature``.
- :mod:`~authserver.events.delivery` — one HTTP attempt, with the receiver safety rules.
- :mod:`~authserver.events.queue` — claiming, recording, backoff and dead letters in the database.
- :mod:`~authserver.events.worker` — ``authserver worker``: the delivery loop and its signals.
- :mod:`~authserver.events.runtime` — the webhook settings and HTTP sender of one app.
"""
