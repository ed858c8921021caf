"""Test helpers for code that uses telnyx-messaging (like ``stamina.set_testing``, taken further).

- :class:`FakeTelnyx`: an in-memory Telnyx Messaging API on loopback. Point an
  ``AsyncClient`` at ``fake.base_url`` and test sends, lists and error handling with no
  account and no network; script failures with :meth:`FakeTelnyx.fail_next`.
- Faults to script: :class:`Respond`, :class:`Disconnect`, :class:`Hang`, :class:`Truncate`.
"""

from __future__ import annotations

from ._fake import Disconnect, FakeTelnyx, Hang, RecordedRequest, Respond, Truncate

__all__ = [
    "Disconnect",
    "FakeTelnyx",
    "Hang",
    "RecordedRequest",
    "Respond",
    "Truncate",
]
