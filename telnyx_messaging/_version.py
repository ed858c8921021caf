"""The version: the one source of truth (pyproject.toml reads it through hatchling).

A constant rather than ``importlib.metadata``: reading package metadata imports about 100
modules (~6 ms) that every client paid for its User-Agent.
"""

__version__ = "0.2.0.dev0"  # 0.2.0 in development: the release its "New in" notes name
"""The version of telnyx-messaging, e.g. ``"0.2.0"``."""
