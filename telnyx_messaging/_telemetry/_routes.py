"""Which SDK call a request is, and its low-cardinality path template: pure, no I/O.

Span names and ``url.template`` must not carry ids (OpenTelemetry's semantic conventions ask
for low cardinality), and the request loop only sees a method and a path. This table maps one
to the other; ``tests/telemetry`` checks that every resource method lands on its own row.
"""

from __future__ import annotations

from attrs import frozen

__all__ = ["Route", "is_static", "route"]


@frozen
class Route:
    """``operation`` names the SDK call (``messages.send``); ``template`` its path."""

    operation: str
    template: str
    #: What sends from this route when the body does not say (``None``: read the body).
    sender_type: str | None = None
    #: Whether the call creates a message (counted in ``telnyx.messages.sent``/``failed``).
    creates_message: bool = False


def _send(operation: str, template: str, sender_type: str | None = None) -> Route:
    return Route(f"messages.{operation}", template, sender_type, creates_message=True)


_STATIC: dict[tuple[str, str], Route] = {
    ("POST", "/messages"): _send("send", "/messages"),
    ("POST", "/messages/schedule"): _send("schedule", "/messages/schedule"),
    ("POST", "/messages/long_code"): _send("send_long_code", "/messages/long_code"),
    ("POST", "/messages/short_code"): _send(
        "send_short_code", "/messages/short_code", "short_code"
    ),
    ("POST", "/messages/number_pool"): _send(
        "send_number_pool", "/messages/number_pool", "number_pool"
    ),
    ("POST", "/messages/group_mms"): _send("send_group_mms", "/messages/group_mms"),
    ("POST", "/messages/whatsapp"): _send("send_whatsapp", "/messages/whatsapp", "whatsapp"),
    ("GET", "/phone_numbers/messaging"): Route(
        "phone_numbers.messaging.list", "/phone_numbers/messaging"
    ),
    ("GET", "/mobile_phone_numbers/messaging"): Route(
        "mobile_phone_numbers.messaging.list", "/mobile_phone_numbers/messaging"
    ),
    ("POST", "/messaging_numbers_bulk_updates"): Route(
        "messaging_numbers_bulk_updates.create", "/messaging_numbers_bulk_updates"
    ),
    ("GET", "/messaging_optouts"): Route("messaging_optouts.list", "/messaging_optouts"),
}

# Paths with an id: (method, first segment, segment count, last segment or None) -> route.
_WITH_ID: dict[tuple[str, str, int, str | None], Route] = {
    ("GET", "messages", 2, None): Route("messages.retrieve", "/messages/{id}"),
    ("DELETE", "messages", 2, None): Route("messages.cancel_scheduled", "/messages/{id}"),
    ("GET", "phone_numbers", 3, "messaging"): Route(
        "phone_numbers.messaging.retrieve", "/phone_numbers/{id}/messaging"
    ),
    ("PATCH", "phone_numbers", 3, "messaging"): Route(
        "phone_numbers.messaging.update", "/phone_numbers/{id}/messaging"
    ),
    ("GET", "mobile_phone_numbers", 3, "messaging"): Route(
        "mobile_phone_numbers.messaging.retrieve", "/mobile_phone_numbers/{id}/messaging"
    ),
    ("GET", "messaging_numbers_bulk_updates", 2, None): Route(
        "messaging_numbers_bulk_updates.retrieve", "/messaging_numbers_bulk_updates/{order_id}"
    ),
}


def is_static(method: str, path: str) -> bool:
    """Whether ``method path`` is a fixed path of the table (no id in it): one a caller may
    remember by the path itself without keeping a row per id."""
    return (method, path) in _STATIC


def route(method: str, path: str) -> Route:
    """The route of ``method path`` (a path below the base URL, without the query)."""
    found = _STATIC.get((method, path))
    if found is not None:
        return found
    parts = path.strip("/").split("/")
    last = parts[-1] if len(parts) > 2 else None
    found = _WITH_ID.get((method, parts[0], len(parts), last))
    if found is not None:
        return found
    # A path this table does not know (a newer SDK call, a hand-made request): name it by its
    # first segment only, never by a segment that could be an id or a phone number.
    template = "/" + parts[0] + ("/{id}" * (len(parts) - 1))
    return Route(f"{method} {template}", template)
