"""Admin API: the audit log of a realm, as ``authserver audit``."""

from __future__ import annotations

from flask import Blueprint

from authserver.admin import admin_required
from authserver.admin.paging import PAGE_QUERY, filters, listed, page_args
from authserver.registry import audit as service
from authserver.registry.realms import get_realm

blueprint = Blueprint("audit", __name__, url_prefix="/realms/<realm>/audit")


FILTERS = ("action", "actor", "target_type", "target_id")


@blueprint.get("")
@admin_required(query=(*PAGE_QUERY, *FILTERS))
def list_events(realm: str):
    return listed(service.list_events(get_realm(realm), **page_args(), **filters(*FILTERS)))
