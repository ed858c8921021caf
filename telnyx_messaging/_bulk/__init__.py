"""Bulk fan-out: ``client.messages.send_many`` and what paces and records it.

``_run`` drives a run, ``_pacing`` holds the rate buckets and the shared 429 pause,
``_journal`` the crash-safe SQLite record behind ``journal=``.
"""

from __future__ import annotations

from ._run import BulkSend, BulkStats, SendResult, Via

__all__ = ["BulkSend", "BulkStats", "SendResult", "Via"]
