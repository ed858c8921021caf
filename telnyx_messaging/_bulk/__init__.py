"""Bulk fan-out: ``client.messages.send_many`` and what paces and records it.

``_run`` drives a run (workers, results), fed by ``_intake`` (input, window, journal) and
described by ``_options``; ``_counters`` tallies it, ``_results`` holds what it hands back,
``_pacing`` the rate buckets and the shared 429 pause, ``_journal`` the campaign record
behind ``journal=`` (the :class:`CampaignJournal` interface, the SQLite :class:`Journal`, and
the derived keys). The package never imports the client or its resources: it is given a
one-attempt send function and a :class:`BulkOptions`, whose ``journal`` may be a path or any
``CampaignJournal``.
"""

from __future__ import annotations

from telnyx_messaging._bulk._journal import CampaignJournal, Entry, Journal, derive_key, row_hash
from telnyx_messaging._bulk._options import BulkOptions, Via
from telnyx_messaging._bulk._results import BulkStats, SendResult
from telnyx_messaging._bulk._run import BulkSend, SendOne

__all__ = [
    "BulkOptions",
    "BulkSend",
    "BulkStats",
    "CampaignJournal",
    "Entry",
    "Journal",
    "SendOne",
    "SendResult",
    "Via",
    "derive_key",
    "row_hash",
]
