"""Paged admin lists: ``limit`` and ``cursor`` query parameters in (:mod:`authserver.registry.paging`),
a JSON array out, and while more pages follow an RFC 8288 ``Link: <…>; rel="next"`` header
naming the next page (the request's own query with the next cursor), as GitHub's and Ory
Hydra's APIs answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Response, jsonify, request

from authserver.admin import query_int, query_str
from authserver.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

PAGE_QUERY = ("limit", "cursor")


def page_args(default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> dict[str, Any]:
    return {"limit": query_int("limit", default, 1, maximum), "cursor": query_str("cursor")}


def filters(*names: str) -> dict[str, str | None]:
    """The filter query parameters given (each at most once), by name."""
    return {name: query_str(name) for name in names}


def listed(page: Page, view: Callable[[Any], Any] = lambda row: row.to_dict()) -> Response:
    response = jsonify([view(row) for row in page])
    if page.next_cursor is not None:
        query = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
        target = f"{request.script_root}{request.path}?{urlencode([*query, ('cursor', page.next_cursor)])}"
        response.headers["Link"] = f'<{target}>; rel="next"'
    return response
