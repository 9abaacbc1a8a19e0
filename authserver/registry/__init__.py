"""The registry: what an admin configures — realms, clients (RFC 7591/7592), chat backends,
IdP connections — and the audit log and row cache that go with every change."""
