"""HTTP endpoints, one per file; they are mounted in :mod:`authserver.server`."""
