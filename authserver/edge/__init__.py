"""The edge: where raw input becomes typed values (one strict parser per input kind), where
a request is bound to its realm, rate-limited, and where every failure becomes an answer."""
