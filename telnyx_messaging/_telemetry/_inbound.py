"""Telemetry for what comes back: webhooks received, delivery waits and outcomes, send links.

Imported only once telemetry is on (it imports ``opentelemetry``), and never the outbound call
path: the webhook wing reaches it through the seam (``telnyx_messaging._telemetry``).

- :class:`WebhookObserver` stands in for a receiver's ``metrics`` hook. The receiver already
  reports each thing it does as a ``WebhookMetric`` (``verified``, ``refused``, ``duplicate``,
  ``failed``, ``answered``, ``lost``); the observer gathers one request's reports and, when
  it is answered, makes its span (verify, dedupe and callback as events, the outcome as
  attributes) and counts it. Then it calls the user's own hook, if any.
- :func:`traced_wait` gives ``DeliveryTracker.wait`` its span, linked to the send's span.
- :func:`remember_send` keeps the span of each recent send by message id, for that link.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

from telnyx_messaging._telemetry import _instruments as names
from telnyx_messaging._telemetry._instruments import Instruments

__all__ = [
    "WebhookObserver",
    "delivery_final",
    "remember_send",
    "send_link",
    "traced_wait",
]

T = TypeVar("T")

#: How many recent sends keep their span context for a later link (a delivery wait).
SEND_LINKS = 10_000
_sends: OrderedDict[str, SpanContext] = OrderedDict()


def remember_send(message_id: str, context: SpanContext) -> None:
    """Keep the span of the send that created ``message_id`` (the newest ``SEND_LINKS``)."""
    _sends[message_id] = context
    if len(_sends) > SEND_LINKS:
        _sends.popitem(last=False)


def send_link(message_id: str) -> list[Link]:
    """A link to the span of the send that created ``message_id``, when it is remembered."""
    context = _sends.get(message_id)
    return [] if context is None else [Link(context)]


# -- webhooks ----------------------------------------------------------------------------------


class _Request:
    """What one webhook request reported so far."""

    __slots__ = ("answered", "event_type", "events", "key", "outcome", "reason")

    def __init__(self) -> None:
        self.events: list[tuple[str, int, dict[str, Any]]] = []
        self.event_type: str | None = None
        self.key: str | None = None
        self.outcome = "handled"
        self.reason: str | None = None
        self.answered = False


_request: ContextVar[_Request | None] = ContextVar("telnyx_telemetry_webhook", default=None)


class WebhookObserver:
    """A receiver's ``metrics`` hook that also reports to OpenTelemetry."""

    __slots__ = ("_background", "_hook", "_instruments")

    def __init__(
        self, instruments: Instruments, hook: Callable[[Any], object] | None, background: bool
    ) -> None:
        self._instruments = instruments
        self._hook = hook
        #: Whether callbacks run after the answer (on_receipt): then their failures are apart.
        self._background = background

    def __call__(self, metric: Any) -> None:
        try:
            self._observe(metric)
        finally:  # the user's hook runs whatever happened here
            if self._hook is not None:
                self._hook(metric)

    def _observe(self, metric: Any) -> None:
        name: str = metric.name
        request = _request.get()
        if name == "lost" or (name == "failed" and self._background):
            # A queued webhook's callback, after its request was answered (on_receipt).
            self._instruments.webhooks_background.add(
                1, {names.WEBHOOK_OUTCOME: name, names.WEBHOOK_REASON: metric.reason or ""}
            )
            return
        if (
            request is None
            or request.answered
            or (name in ("verified", "refused") and request.outcome == "refused")
            or (name == "verified" and request.event_type is not None)
        ):
            request = _Request()  # the first report of a new request
            _request.set(request)
        now = time.time_ns()
        if name == "answered":
            request.answered = True
            self._answered(request, metric, now)
            return
        attributes: dict[str, Any] = {}
        if metric.reason is not None:
            attributes[names.WEBHOOK_REASON] = metric.reason
        request.events.append((f"telnyx.webhook.{name}", now, attributes))
        if name == "verified":
            request.event_type = metric.event_type
            request.key = metric.key
        elif name in ("refused", "duplicate", "failed"):
            request.outcome = name
            request.reason = metric.reason

    def _answered(self, request: _Request, metric: Any, now: int) -> None:
        status: int = metric.status
        if request.outcome == "handled" and status >= 400:
            request.outcome = "failed"
        counted: dict[str, Any] = {names.WEBHOOK_OUTCOME: request.outcome}
        if request.event_type is not None:
            counted[names.WEBHOOK_EVENT_TYPE] = request.event_type
        if request.reason is not None:
            counted[names.WEBHOOK_REASON] = request.reason
        self._instruments.webhooks_received.add(1, counted)
        started = now - int((metric.seconds or 0.0) * 1e9)
        attributes = dict(counted)
        attributes[names.HTTP_RESPONSE_STATUS_CODE] = status
        if request.key is not None:
            attributes[names.WEBHOOK_ID] = request.key
        span = self._instruments.tracer.start_span(
            "webhooks.receive", kind=SpanKind.SERVER, attributes=attributes, start_time=started
        )
        for event, at, event_attributes in request.events:
            span.add_event(event, event_attributes, timestamp=at)
        if request.outcome in ("refused", "failed"):
            span.set_status(Status(StatusCode.ERROR, request.reason or request.outcome))
        span.end(end_time=now)


# -- delivery ---------------------------------------------------------------------------------


async def traced_wait(
    instruments: Instruments, message_id: str, waiting: Coroutine[Any, Any, T]
) -> T:
    """``DeliveryTracker.wait`` in a span of its own, linked to the span of the send."""
    span = instruments.tracer.start_span(
        "delivery.wait",
        kind=SpanKind.INTERNAL,
        attributes={names.MESSAGE_ID: message_id},
        links=send_link(message_id),
    )
    try:
        with trace.use_span(span, end_on_exit=False):
            outcome: Any = await waiting
    except BaseException as exc:
        span.set_attribute(names.ERROR_TYPE, type(exc).__name__)
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        span.end()
        raise
    span.set_attribute(names.DELIVERY_SOURCE, outcome.source)
    span.set_attribute(names.DELIVERY_STATUS, sorted({r.status for r in outcome.message.to}))
    span.end()
    return outcome  # type: ignore[no-any-return]


def delivery_final(instruments: Instruments, outcome: Any) -> None:
    """Count a message that reached its final status, once per recipient, by status."""
    for recipient in outcome.message.to:
        instruments.deliveries.add(
            1,
            {names.DELIVERY_STATUS: recipient.status, names.DELIVERY_SOURCE: outcome.source},
        )
