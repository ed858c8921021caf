"""Everything the fake knows, as plain data: messages, numbers, profiles, stored answers."""

from __future__ import annotations

from typing import Any

import attrs

from telnyx_messaging.testing._seed import (
    PROFILE_IDS,
    seed_mobile_phone_numbers,
    seed_optouts,
    seed_phone_numbers,
)
from telnyx_messaging.testing._wire import FakeAnswer

__all__ = ["FakeState", "MessagingProfile"]

# Telnyx's default opt-out handling: a message that is only one of these words (any case and
# spacing) blocks, or unblocks, its sender on the messaging profile of the number it went to.
# https://developers.telnyx.com/docs/messaging/messages/advanced-opt-in-out
OPT_OUT_KEYWORDS = frozenset(
    {"stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit"}
)
OPT_IN_KEYWORDS = frozenset({"start", "unstop"})


@attrs.define
class MessagingProfile:
    """Where a messaging profile's webhooks go, as set in the Mission Control Portal.

    Messages sent through the profile (and messages received on its numbers) are delivered
    to ``webhook_url``, then ``webhook_failover_url``; with neither, no webhook is sent.

    .. versionadded:: 0.2.0
    """

    webhook_url: str | None = None
    webhook_failover_url: str | None = None


@attrs.define
class FakeState:
    """The data behind the fake's answers; the server exposes its parts as attributes."""

    phone_number_settings: list[dict[str, Any]]
    mobile_phone_number_settings: list[dict[str, Any]]
    optout_items: list[dict[str, Any]]
    messages: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    bulk_updates: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    profiles: dict[str, MessagingProfile] = attrs.field(
        factory=lambda: {profile: MessagingProfile() for profile in PROFILE_IDS}
    )
    failing_numbers: dict[str, str] = attrs.field(factory=dict)
    replies: dict[str, FakeAnswer] = attrs.field(factory=dict)
    #: The body each replayed key was first sent with: another body under it gets 422.
    reply_bodies: dict[str, bytes] = attrs.field(factory=dict)

    @classmethod
    def seeded(cls, *, phone_numbers: int, mobile_phone_numbers: int, optouts: int) -> FakeState:
        return cls(
            phone_number_settings=seed_phone_numbers(phone_numbers),
            mobile_phone_number_settings=seed_mobile_phone_numbers(mobile_phone_numbers),
            optout_items=seed_optouts(optouts),
        )

    def profile_of_number(self, phone_number: str) -> str:
        """The profile a number belongs to; the default profile for numbers it does not know."""
        for number in [*self.phone_number_settings, *self.mobile_phone_number_settings]:
            if number["phone_number"] == phone_number and number["messaging_profile_id"]:
                return str(number["messaging_profile_id"])
        return PROFILE_IDS[0]

    def is_blocked(self, profile_id: str, recipient: str) -> bool:
        """Whether ``recipient`` opted out of the profile (an item of the opt-out list)."""
        return any(
            item["messaging_profile_id"] == profile_id and item["to"] == recipient
            for item in self.optout_items
        )

    def apply_keyword(
        self, text: str, *, profile_id: str, number: str, sender: str, now: str
    ) -> None:
        """An inbound ``text`` from ``sender`` to ``number``: opt them out or back in."""
        word = " ".join(text.split()).lower()
        if word in OPT_OUT_KEYWORDS and not self.is_blocked(profile_id, sender):
            item = {
                "messaging_profile_id": profile_id,
                "from": number,
                "to": sender,
                "keyword": word.upper(),
                "created_at": now,
            }
            self.optout_items.insert(0, item)  # newest first, as the list is served
        elif word in OPT_IN_KEYWORDS:
            self.optout_items[:] = [
                item
                for item in self.optout_items
                if not (item["messaging_profile_id"] == profile_id and item["to"] == sender)
            ]

    def profile(self, profile_id: str) -> MessagingProfile:
        """The profile's settings (an unknown id has no webhooks)."""
        return self.profiles.get(profile_id) or MessagingProfile()
