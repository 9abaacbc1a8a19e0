"""Signing keys (RFC 7517 JWKS, RFC 7638 ``kid``): their life cycle and the JOSE primitives."""
