"""The application layer: the zone service (commands in, events saved), the store, settings and clock."""

__version__ = "0.1.0"
