"""``/admin/openapi.json`` describes every admin route (OpenAPI 3.1)."""

from __future__ import annotations

import re


def test_every_admin_route_is_described(app, client):
    document = client.get("/admin/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in document["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], f"{method} {path}"


def test_every_described_operation_exists_and_refs_resolve(app, client):
    document = client.get("/admin/openapi.json").get_json()
    rules = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule), m.lower())
             for r in app.url_map.iter_rules() for m in r.methods}
    text = str(document)
    for path, operations in document["paths"].items():
        for method in operations:
            assert (path, method) in rules, f"{method} {path}"
    for ref in re.findall(r"#/components/(\w+)/(\w+)", text):
        assert ref[1] in document["components"][ref[0]], ref
