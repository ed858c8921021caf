"""Test helpers for code that uses telnyx-messaging (like ``stamina.set_testing``, taken further).

- :class:`FakeTelnyx`: an in-memory Telnyx Messaging API on loopback. Point an
  ``AsyncClient`` at ``fake.base_url`` and test sends, lists and error handling with no
  account and no network; script failures with :meth:`FakeTelnyx.fail_next`.
- Faults to script: :class:`Respond`, :class:`Disconnect`, :class:`Hang`, :class:`Truncate`.
- :class:`WebhookSigner`: a key pair that signs bodies into the exact headers Telnyx sends, so
  you can test your webhook receiver end to end.
"""

from __future__ import annotations

from ._fake import Disconnect, FakeTelnyx, Fault, Hang, RecordedRequest, Respond, Truncate
from ._signer import WebhookSigner

__all__ = [
    "Disconnect",
    "FakeTelnyx",
    "Fault",
    "Hang",
    "RecordedRequest",
    "Respond",
    "Truncate",
    "WebhookSigner",
]
