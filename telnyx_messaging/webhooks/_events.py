"""The webhook events and :func:`parse`, which reads a body into one of them.

Re-exported by ``webhooks``, which adds signature verification and the aiohttp handler. No
I/O and no keys here: a body in, an event (or ``WebhookParseError``) out.

Which class a body becomes: ``data.event_type`` names the known message events; a link click
is known by ``record_type: "link_clicked"`` (it has no ``event_type``), whether its fields sit
in ``data`` itself (as the spec has it) or in ``data.payload`` (as the other events carry
theirs). Anything else, or a link click without a ``url``, is an :class:`UnknownEvent` with
its JSON untouched, never a known class with empty fields. A known message event whose
``payload`` is not a message (no ``id``, ``from`` or ``to``) is the one verified body that
raises ``WebhookParseError``; an odd value anywhere else only empties its own field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal, TypeAlias

from attrs import frozen

from telnyx_messaging._convert import UnusableAnswerError, converter
from telnyx_messaging._errors import WebhookParseError
from telnyx_messaging._models import Message, Model

__all__ = [
    "Body",
    "DeliveryUpdate",
    "EventMeta",
    "InboundMessage",
    "ReplacedLinkClick",
    "UnknownEvent",
    "WebhookEvent",
    "parse",
]

Body: TypeAlias = bytes | bytearray | memoryview | str


@frozen(kw_only=True)
class EventMeta(Model):
    """How Telnyx delivered a webhook: ``attempt`` 1 is the first try, and the URL it hit."""

    attempt: int | None = None
    delivered_to: str | None = None


@frozen(kw_only=True)
class _MessageEvent(Model):
    payload: Message
    id: str | None = None
    occurred_at: datetime | None = None
    record_type: str | None = None
    meta: EventMeta | None = None


@frozen(kw_only=True)
class DeliveryUpdate(_MessageEvent):
    """An outbound message moved on: ``message.sent``, then ``message.finalized``.

    ``payload`` is the same :class:`~telnyx_messaging.Message` the send call returned, as it
    is now: ``payload.to[i].status`` is ``delivered``, ``delivery_failed``... and ``cost`` is
    set once Telnyx knows it. ``raw`` is the whole body as parsed JSON.
    """

    # A Literal, not str | None: parse() builds this class only for these two types.
    event_type: Literal["message.sent", "message.finalized"]


@frozen(kw_only=True)
class InboundMessage(_MessageEvent):
    """Someone sent a message to one of your numbers (``message.received``).

    ``payload.from_.phone_number`` is the sender, ``payload.text`` and ``payload.media``
    what they sent. ``raw`` is the whole body as parsed JSON.
    """

    event_type: Literal["message.received"]


@frozen(kw_only=True)
class ReplacedLinkClick(Model):
    """A recipient clicked a link Telnyx shortened in message ``message_id``.

    Telnyx sends these with ``record_type`` ``"link_clicked"`` and no ``event_type``, so the
    envelope fields (``id``, ``event_type``, ``occurred_at``) are usually ``None``. ``url`` is
    the original link, ``to`` the number that clicked. The click's fields are read from
    ``data`` or, when Telnyx wraps them as it wraps other events, from ``data.payload``.
    ``raw`` is the whole body as parsed JSON.
    """

    url: str
    record_type: str
    message_id: str | None = None
    to: str | None = None
    time_clicked: datetime | None = None
    id: str | None = None
    event_type: str | None = None
    occurred_at: datetime | None = None
    meta: EventMeta | None = None


@frozen(kw_only=True)
class UnknownEvent(Model):
    """A verified webhook of a type this SDK does not know yet; nothing is lost.

    Telnyx adds event types over time, and a new one must not make your endpoint fail:
    ``event_type`` says what it is, ``payload`` is its JSON untouched, ``raw`` the whole body.
    """

    id: str | None = None
    event_type: str | None = None
    occurred_at: datetime | None = None
    record_type: str | None = None
    payload: Any = None
    meta: EventMeta | None = None


#: Every event :func:`parse` and :func:`unwrap` return; match on the class.
WebhookEvent: TypeAlias = DeliveryUpdate | InboundMessage | ReplacedLinkClick | UnknownEvent
"""What :func:`parse` and :func:`unwrap` return: one of the event classes."""

# Event types are strings, not an enum, so a new one from Telnyx becomes an UnknownEvent.
_BY_EVENT_TYPE: dict[str, type[DeliveryUpdate | InboundMessage]] = {
    "message.sent": DeliveryUpdate,
    "message.finalized": DeliveryUpdate,
    "message.received": InboundMessage,
}
_LINK_CLICKED = "link_clicked"
_DATA: tuple[str, ...] = ("data",)
_META: tuple[str, ...] = ("meta",)
# Looked up once per class, not per webhook: the converter's dispatch is the slow part.
_hooks: dict[type[Any], Callable[..., Any]] = {}
_set = object.__setattr__


def _structure(data: Any, cls: type[Any], document: Any, path: tuple[str, ...]) -> Any:
    hook = _hooks.get(cls)
    if hook is None:
        hook = _hooks[cls] = converter.get_structure_hook(cls)
    return hook(data, cls, document, path)  # type: ignore[call-arg]


_JSON_KINDS: dict[type[Any], str] = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."


def _decode(body: Body | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        return body
    if isinstance(body, memoryview):
        body = body.tobytes()
    if not isinstance(body, (bytes, bytearray, str)):
        raise WebhookParseError(
            f"webhook body is a {type(body).__name__}: pass the raw body (bytes or str)"
        )
    if not body:
        raise WebhookParseError("webhook body is empty")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise WebhookParseError(f"webhook body is not JSON: {_short(exc)}") from None
    if not isinstance(document, dict):
        kind = _JSON_KINDS.get(type(document), "value")
        raise WebhookParseError(f"webhook body is a JSON {kind}, not an object")
    return document


def _link_click(data: Mapping[str, Any], document: Mapping[str, Any]) -> WebhookEvent | None:
    payload = data.get("payload")
    wrapped = isinstance(payload, Mapping) and payload.get("record_type") == _LINK_CLICKED
    if not wrapped and data.get("record_type") != _LINK_CLICKED:
        return None
    # Wrapped: the envelope (id, event_type, occurred_at) in data, the click in data.payload.
    fields = {**data, **payload} if wrapped else data  # type: ignore[dict-item]
    try:
        click: ReplacedLinkClick = _structure(fields, ReplacedLinkClick, document, _DATA)
    except UnusableAnswerError:
        return None  # no url: not a click this SDK can type, so an UnknownEvent
    return click


def parse(body: Body | Mapping[str, Any]) -> WebhookEvent:
    """Read a webhook body into its event class, WITHOUT checking its signature.

    For tests, and for replaying webhooks you stored after verifying them; anything that
    arrives over the network goes through :func:`unwrap`. ``body`` is the raw body or the
    JSON object already decoded. Raises :class:`WebhookParseError` for a body that is not a
    JSON object with a ``data`` object, or a message event whose ``payload`` is not a
    message. Unknown event types never fail, and an odd value only empties its own field.
    """
    document = _decode(body)
    data = document.get("data")
    if not isinstance(data, Mapping):
        raise WebhookParseError('webhook body has no "data" object')
    event_type = data.get("event_type")
    cls = _BY_EVENT_TYPE.get(event_type) if type(event_type) is str else None
    event: WebhookEvent
    if cls is not None:
        try:
            event = _structure(data, cls, document, _DATA)
        except UnusableAnswerError as exc:
            raise WebhookParseError(
                f"webhook body does not fit {cls.__name__}: {_short(exc)}"
            ) from exc
    else:
        event = _link_click(data, document) or _structure(data, UnknownEvent, document, _DATA)
    meta = document.get("meta")
    if meta is not None:
        try:
            meta = _structure(meta, EventMeta, document, _META)
        except UnusableAnswerError:
            meta = None  # odd delivery details are no reason to lose the event
    _set(event, "meta", meta)
    _set(event, "_raw_path", ())  # an event's raw is the whole body
    return event
