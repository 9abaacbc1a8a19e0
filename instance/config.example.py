# Example instance configuration. `authserver init` writes instance/config.py with a fresh
# SECRET_KEY; copy settings from here as needed. Every key can also be set from the
# environment with the AUTHSERVER_ prefix, e.g. AUTHSERVER_ISSUER_BASE_URL.

# Encrypts private keys at rest and keys the hashes of client secrets. Never commit it.
SECRET_KEY = "generate-with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"

# Public base URL, as clients see it behind the reverse proxy (no trailing slash).
# ISSUER_BASE_URL = "https://auth.example.com"

# Embedded default: SQLite in this folder. Production: PostgreSQL with psycopg 3.
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://authserver@db.internal/authserver"

# Signing keys.
# DEFAULT_SIGNING_ALG = "ES256"          # ES256, RS256 or EdDSA
# JWKS_MAX_AGE = 300                     # Cache-Control max-age of /jwks
# KEY_PREPUBLICATION_SECONDS = 900       # must exceed JWKS_MAX_AGE
# KEY_ROTATION_INTERVAL = 30 * 86400     # automatic rotation by key age; 0 = off
# MAX_TOKEN_LIFETIME = 3600              # cap on every token; retired keys stay this long
