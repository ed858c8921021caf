"""The API's objects as frozen, slotted attrs classes.

Every field is optional: the spec marks almost none required and Telnyx omits what does not
apply. Enum-like fields (``status``, ``type``, ``direction``...) are plain ``str`` on purpose:
Telnyx adds values all the time, and a new value must never break parsing. Each object keeps
the JSON it came from in ``raw`` (not part of equality or repr), so fields this SDK does not
know yet stay reachable: ``message.raw["some_new_field"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from attrs import field, frozen

__all__ = [
    "Address",
    "BulkUpdate",
    "CostBreakdown",
    "ErrorDetail",
    "FeatureSet",
    "Media",
    "Message",
    "MessagingFeatures",
    "MobilePhoneNumberMessagingSettings",
    "Money",
    "NumberHealth",
    "OptOut",
    "PaginationMeta",
    "PhoneNumberMessagingSettings",
    "WhatsAppMessage",
]

#: Shared empty ``raw`` for objects built by hand rather than parsed from JSON.
EMPTY_RAW: Mapping[str, Any] = MappingProxyType({})


def raw_field() -> Any:
    """The ``raw`` field every model has: the JSON it came from, outside equality and repr."""
    return field(default=EMPTY_RAW, eq=False, repr=False, kw_only=True)


@frozen(kw_only=True)
class Address:
    """One end of a message: the sender (``from_``) or a recipient (``to``, ``cc``).

    ``status`` is the delivery status for recipients: ``queued``, ``sending``, ``sent``,
    ``delivered``, ``sending_failed``, ``delivery_failed``, ``delivery_unconfirmed``,
    ``expired``, ``cancelled``, ``webhook_delivered``... (new values may appear).
    """

    phone_number: str | None = None
    status: str | None = None
    carrier: str | None = None
    line_type: str | None = None
    raw: Mapping[str, Any] = raw_field()


@frozen(kw_only=True)
class Money:
    """An amount of money; ``amount`` is exact (``Decimal``), never a float."""

    amount: Decimal | None = None
    currency: str | None = None
    raw: Mapping[str, Any] = raw_field()


@frozen(kw_only=True)
class CostBreakdown:
    """What a message cost, split into the carrier's fee and Telnyx's rate."""

    carrier_fee: Money | None = None
    rate: Money | None = None
    raw: Mapping[str, Any] = raw_field()


@frozen(kw_only=True)
class Media:
    """A media file attached to an MMS.

    Outbound messages report ``sha256``; inbound ones ``hash_sha256``.
    """

    url: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    hash_sha256: str | None = None
    raw: Mapping[str, Any] = raw_field()


@frozen(kw_only=True)
class ErrorDetail:
    """One entry of Telnyx's ``errors`` list, in an error answer or on a failed message."""

    code: str | None = None
    title: str | None = None
    detail: str | None = None
    # JSON objects are dicts, which cannot be hashed; equality still compares them.
    source: Mapping[str, Any] | None = field(default=None, hash=False)
    meta: Mapping[str, Any] | None = field(default=None, hash=False)
    raw: Mapping[str, Any] = raw_field()

    def __str__(self) -> str:
        where = ""
        if self.source:
            place = self.source.get("pointer") or self.source.get("parameter")
            where = f" at {place}" if place else ""
        text = " - ".join(p for p in (self.title, self.detail) if p)
        return f"[{self.code}] {text}{where}" if self.code else f"{text}{where}"


@frozen(kw_only=True)
class Message:
    """An SMS or MMS, outbound or inbound, as Telnyx reports it.

    Returned by every send call and by ``messages.retrieve``; also the payload of the
    delivery-update and inbound-message webhooks. ``direction`` is ``"outbound"`` or
    ``"inbound"``; ``to[i].status`` tracks delivery to each recipient.
    """

    id: str | None = None
    record_type: str | None = None
    direction: str | None = None
    type: str | None = None
    from_: Address | None = None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    text: str | None = None
    subject: str | None = None
    media: tuple[Media, ...] = ()
    messaging_profile_id: str | None = None
    organization_id: str | None = None
    encoding: str | None = None
    parts: int | None = None
    num_chars: int | None = None
    tags: tuple[str, ...] = ()
    cost: Money | None = None
    cost_breakdown: CostBreakdown | None = None
    received_at: datetime | None = None
    sent_at: datetime | None = None
    completed_at: datetime | None = None
    valid_until: datetime | None = None
    send_at: datetime | None = None
    webhook_url: str | None = None
    webhook_failover_url: str | None = None
    errors: tuple[ErrorDetail, ...] = ()
    tcr_campaign_id: str | None = None
    tcr_campaign_billable: bool | None = None
    tcr_campaign_registered: str | None = None
    smart_encoding_applied: bool | None = None
    wait_seconds: float | None = None
    raw: Mapping[str, Any] = raw_field()


@frozen(kw_only=True)
class WhatsAppMessage:
    """A WhatsApp message as Telnyx accepted it; ``body`` echoes the content sent."""

    id: str | None = None
    record_type: str | None = None
    direction: str | None = None
    type: str | None = None
    from_: Address | None = None
    to: tuple[Address, ...] = ()
    body: Mapping[str, Any] | None = field(default=None, hash=False)
    encoding: str | None = None
    messaging_profile_id: str | None = None
    organization_id: str | None = None
    received_at: datetime | None = None
    wait_seconds: float | None = None
    raw: Mapping[str, Any] = raw_field()


@frozen(kw_only=True)
class OptOut:
    """A recipient who opted out (sent STOP) of messages from ``from_``."""

    from_: str | None = None
    to: str | None = None
    keyword: str | None = None
    messaging_profile_id: str | None = None
    created_at: datetime | None = None
    raw: Mapping[str, Any] = raw_field()


@frozen(kw_only=True)
class MessagingFeatures:
    """Which directions a number can message in, for SMS or MMS."""

    domestic_two_way: bool | None = None
    international_inbound: bool | None = None
    international_outbound: bool | None = None
    raw: Mapping[str, Any] = raw_field()


@frozen(kw_only=True)
class FeatureSet:
    """SMS and MMS capabilities of a number; either may be absent."""

    sms: MessagingFeatures | None = None
    mms: MessagingFeatures | None = None
    raw: Mapping[str, Any] = raw_field()


@frozen(kw_only=True)
class NumberHealth:
    """Sending health of a number, as Telnyx scores it."""

    message_count: int | None = None
    inbound_outbound_ratio: float | None = None
    success_ratio: float | None = None
    spam_ratio: float | None = None
    raw: Mapping[str, Any] = raw_field()


@frozen(kw_only=True)
class _NumberMessagingSettings:
    id: str | None = None
    record_type: str | None = None
    phone_number: str | None = None
    messaging_profile_id: str | None = None
    messaging_product: str | None = None
    country_code: str | None = None
    type: str | None = None
    traffic_type: str | None = None
    organization_id: str | None = None
    tags: tuple[str, ...] = ()
    features: FeatureSet | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: Mapping[str, Any] = raw_field()


@frozen(kw_only=True)
class PhoneNumberMessagingSettings(_NumberMessagingSettings):
    """A phone number's messaging settings: its profile, product, features and health."""

    eligible_messaging_products: tuple[str, ...] = ()
    health: NumberHealth | None = None


@frozen(kw_only=True)
class MobilePhoneNumberMessagingSettings(_NumberMessagingSettings):
    """A mobile phone number's messaging settings."""


@frozen(kw_only=True)
class BulkUpdate:
    """A bulk messaging-settings update order and how far it got, number by number."""

    order_id: str | None = None
    record_type: str | None = None
    success: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    raw: Mapping[str, Any] = raw_field()


@frozen(kw_only=True)
class PaginationMeta:
    """Where a page sits in a list: page number and size, total pages and results."""

    page_number: int | None = None
    page_size: int | None = None
    total_pages: int | None = None
    total_results: int | None = None
    raw: Mapping[str, Any] = raw_field()
