"""zonecase, the roof: the command line and the wiring that builds everything from settings."""

from application import __version__

__all__ = ["__version__"]
