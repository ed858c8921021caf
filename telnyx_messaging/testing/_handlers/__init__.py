"""Request handlers, one module per API resource, mirroring the client's ``_resources/``.

Each handler takes the `Context`, the (already authenticated, rate-limited and spec-checked)
request and the decoded path id, and returns a `FakeAnswer` or raises `FakeApiError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from telnyx_messaging.testing._clock import Clock
from telnyx_messaging.testing._lifecycle import Lifecycle
from telnyx_messaging.testing._state import FakeState
from telnyx_messaging.testing._wire import FakeAnswer, RecordedRequest, json_answer

__all__ = ["Context", "Handler", "body_of", "data"]


@attrs.frozen
class Context:
    """What a handler may use: the data, the clock, and the message lifecycle."""

    state: FakeState
    clock: Clock
    lifecycle: Lifecycle


Handler = Callable[[Context, RecordedRequest, str], FakeAnswer]


def data(payload: Any) -> FakeAnswer:
    """A 200 with Telnyx's ``{"data": ...}`` envelope."""
    return json_answer(200, {"data": payload})


def body_of(request: RecordedRequest) -> Mapping[str, Any]:
    """The request's JSON object (the pipeline has checked that it is one)."""
    body: Mapping[str, Any] = request.json
    return body
