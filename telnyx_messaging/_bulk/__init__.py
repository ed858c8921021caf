"""Bulk fan-out: ``client.messages.send_many`` and what paces and records it.

``_run`` drives a run (workers, results), fed by ``_intake`` (input, window, journal) and
described by ``_options``; ``_counters`` tallies it, ``_results`` holds what it hands back,
``_pacing`` the pace of each budget and how Telnyx's answers slow it (``_profiles`` Telnyx's
published limits, ``_budget`` the seam a shared budget plugs into), ``_journal`` the campaign
record behind ``journal=`` (the :class:`CampaignJournal` interface, the SQLite
:class:`Journal`, and the derived keys). The package never imports the client or its
resources: it is given a one-attempt send function and a :class:`BulkOptions`, whose
``journal`` may be a path or any ``CampaignJournal``.
"""

from __future__ import annotations

from telnyx_messaging._bulk._budget import MemoryBudget, PacingBudget
from telnyx_messaging._bulk._journal import CampaignJournal, Entry, Journal, derive_key, row_hash
from telnyx_messaging._bulk._options import BulkOptions, SenderTypes, Via
from telnyx_messaging._bulk._pacing import PaceChange, PacingSnapshot
from telnyx_messaging._bulk._profiles import PROFILES, PacingProfile
from telnyx_messaging._bulk._results import BulkStats, SendResult
from telnyx_messaging._bulk._run import BulkSend, SendOne

__all__ = [
    "PROFILES",
    "BulkOptions",
    "BulkSend",
    "BulkStats",
    "CampaignJournal",
    "Entry",
    "Journal",
    "MemoryBudget",
    "PaceChange",
    "PacingBudget",
    "PacingProfile",
    "PacingSnapshot",
    "SendOne",
    "SendResult",
    "SenderTypes",
    "Via",
    "derive_key",
    "row_hash",
]
