"""Identity: who a token request is about — federation with upstream IdPs (RFC 8693 subject
tokens), the one identity decision (trust, linking, provisioning, upgrade, merge), users and
anonymous device sessions."""
