"""The installed version, from package metadata (one source of truth: pyproject.toml)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("telnyx-messaging")
    """The installed version of telnyx-messaging, e.g. ``"0.2.0"``."""
except PackageNotFoundError:  # pragma: no cover - running from a checkout that is not installed
    __version__ = "0.0.0+unknown"
