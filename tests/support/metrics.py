"""Scraping an app's metrics as the management bind serves them (no public /metrics route)."""

from __future__ import annotations

from werkzeug.test import Client

from authserver.observability.management import management_wsgi


def scrape(app, **headers) -> str:
    response = Client(management_wsgi(app)).get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)
