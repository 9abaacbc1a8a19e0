"""Outbound HTTP: upstream IdPs and clients' ``jwks_uri``, with timeouts, deadlines and size caps."""
