"""OAuth 2.0 grants, one class per file, registered in :mod:`authserver.server`."""
