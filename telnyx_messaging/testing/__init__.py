"""Test helpers for code that uses telnyx-messaging (like ``stamina.set_testing``, taken further).

- :class:`FakeTelnyx`: a Telnyx Messaging API on loopback that behaves like Telnyx end to
  end: it answers every endpoint, checks requests against the OpenAPI spec, delivers signed
  delivery webhooks, inbound messages and link clicks, sends scheduled messages on a clock
  tests can :meth:`~FakeTelnyx.advance`, and can rate-limit like Telnyx.
- What it records: :class:`RecordedRequest` per request, :class:`DeliveryAttempt` per webhook.
- Its settings: :class:`RateLimits`, :class:`MessagingProfile`.
- Driving a fake-server in another process: :class:`FakeTelnyxControl` (blocking) and
  :class:`AsyncFakeTelnyxControl`, over the fake's control API.
- Faults to script: :class:`Respond`, :class:`Disconnect`, :class:`Hang`, :class:`Truncate`.
- :class:`WebhookSigner`: a key pair that signs bodies into the exact headers Telnyx sends, so
  you can test your webhook receiver end to end.
"""

from __future__ import annotations

from telnyx_messaging.testing._control_client import AsyncFakeTelnyxControl, FakeTelnyxControl
from telnyx_messaging.testing._delivery import DeliveryAttempt
from telnyx_messaging.testing._faults import Disconnect, Fault, Hang, Respond, Truncate
from telnyx_messaging.testing._ratelimit import RateLimits
from telnyx_messaging.testing._server import FakeTelnyx
from telnyx_messaging.testing._signer import WebhookSigner
from telnyx_messaging.testing._state import MessagingProfile
from telnyx_messaging.testing._wire import RecordedRequest

__all__ = [
    "AsyncFakeTelnyxControl",
    "DeliveryAttempt",
    "Disconnect",
    "FakeTelnyx",
    "FakeTelnyxControl",
    "Fault",
    "Hang",
    "MessagingProfile",
    "RateLimits",
    "RecordedRequest",
    "Respond",
    "Truncate",
    "WebhookSigner",
]
