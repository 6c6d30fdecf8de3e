"""The browser fixture, shared by the board's and the console's browser tests."""

from __future__ import annotations

from .test_board_browser import browser

__all__ = ["browser"]
