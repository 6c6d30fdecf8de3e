"""zonecase: wiring, the application service, settings and the command line."""

__version__ = "0.1.0"
