"""The ``telnyx_messaging`` logger and the ``TELNYX_LOG`` switch.

Libraries should not configure logging, so by default nothing is added: records go wherever
the application sends them. ``TELNYX_LOG=debug`` (or ``info``) is a convenience for a quick
look from the shell: it attaches one stderr handler to our logger, once. Nothing logged ever
holds the API key; message text is logged at no level.
"""

from __future__ import annotations

import logging
import os

__all__ = ["configure_from_env"]

logger = logging.getLogger("telnyx_messaging")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_configured: list[logging.Handler] = []


def configure_from_env() -> None:
    """Honour ``TELNYX_LOG`` (``debug`` or ``info``); other values and repeat calls do nothing."""
    level = _LEVELS.get(os.environ.get("TELNYX_LOG", "").strip().lower())
    if level is None or _configured:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    _configured.append(handler)
