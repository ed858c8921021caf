"""Webhook events and delivery tracking as users type them (mypy --strict and basedpyright).

Never run; it fails the type check if the events' types regress (issue 23).
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from telnyx_messaging import DeliveryOutcome, DeliveryTimeoutError, DeliveryTracker, webhooks


def count_known(events: list[webhooks.WebhookEvent]) -> Counter[str]:
    """A count by event type of the events this SDK knows: no None to handle."""
    counts: Counter[str] = Counter()
    for event in events:
        if isinstance(event, (webhooks.DeliveryUpdate, webhooks.InboundMessage)):
            counts[event.event_type] += 1
    return counts


def status_step(update: webhooks.DeliveryUpdate) -> Literal["message.sent", "message.finalized"]:
    return update.event_type


def inbound(message: webhooks.InboundMessage) -> Literal["message.received"]:
    return message.event_type


async def outcome(tracker: DeliveryTracker, message_id: str) -> bool | None:
    try:
        result: DeliveryOutcome = await tracker.wait(message_id, timeout=30)
    except DeliveryTimeoutError:
        return None
    return result.delivered
