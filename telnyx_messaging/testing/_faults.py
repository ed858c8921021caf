"""Faults: what the network and Telnyx can do to a client, scripted per request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from telnyx_messaging.testing._wire import JSON as _JSON
from telnyx_messaging.testing._wire import RecordedRequest

__all__ = ["Disconnect", "Fault", "Hang", "Respond", "Truncate"]


@attrs.frozen
class Respond:
    """Fault: answer this instead of handling the request (nothing is stored).

    ``body`` wins over ``json``; with neither the answer has an empty body.
    ``content_type`` may carry parameters (``"text/html; charset=utf-8"``).
    """

    status: int
    json: Any = None
    body: bytes | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    content_type: str = _JSON


@attrs.frozen
class Disconnect:
    """Fault: read the whole request, then close the connection without answering.

    With ``after_processing=True`` the request is handled first (a message IS
    created and its answer is kept for idempotent replay): the answer was lost on
    the way back.  The aiohttp client sees `aiohttp.ServerDisconnectedError`.
    """

    after_processing: bool = False


@attrs.frozen
class Hang:
    """Fault: wait ``seconds`` before handling the request normally (client timeouts).

    Closing the fake cuts a pending wait short and drops the connection.
    """

    seconds: float


@attrs.frozen
class Truncate:
    """Fault: handle the request, then send only half of the answer's body and close.

    The Content-Length still promises the whole body, so the aiohttp client
    raises `aiohttp.ClientPayloadError` when it reads the body.
    """


Fault = Respond | Disconnect | Hang | Truncate
"""What :meth:`FakeTelnyx.fail_next` queues and :attr:`FakeTelnyx.fault_hook` returns."""


@attrs.frozen
class QueuedFault:
    fault: Fault
    method: str | None
    path: str | None

    def matches(self, request: RecordedRequest) -> bool:
        return (self.method is None or self.method == request.method) and (
            self.path is None or self.path == request.path
        )
