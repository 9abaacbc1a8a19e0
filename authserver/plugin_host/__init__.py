"""The plugin host: entry-point discovery, and one long-lived instance per IdP connection
(connectors) and per chat backend (token profiles). The contract is :mod:`authserver.plugin_api`."""
