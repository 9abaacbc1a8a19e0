"""Browser login (OIDC Core, RFC 6749 section 4.1, RFC 9126): authserver as an OpenID Provider that
brokers to the realm's upstream IdPs."""
