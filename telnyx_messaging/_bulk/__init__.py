"""Bulk fan-out: ``client.messages.send_many`` and what paces and records it.

``_run`` drives a run, ``_results`` holds what it hands back, ``_pacing`` the rate buckets
and the shared 429 pause, ``_journal`` the crash-safe SQLite record behind ``journal=``.
"""

from __future__ import annotations

from telnyx_messaging._bulk._results import BulkStats, SendResult
from telnyx_messaging._bulk._run import BulkSend, Via

__all__ = ["BulkSend", "BulkStats", "SendResult", "Via"]
