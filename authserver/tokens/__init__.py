"""Tokens: the steps of the token path after the subject is known — scopes (RFC 6749 §3.3),
audience (RFC 8693 / RFC 8707), ACLs, issuance and signing (RFC 9068), our own access tokens
(validation, RFC 7009 revocation), single-use values and usage counting."""
