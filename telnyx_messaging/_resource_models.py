"""The models only resources other than messages return: opt-outs, number settings, bulk
updates, pages, and the WhatsApp message.

Apart from ``_models.py`` so that a webhook receiver, which reads messages only, does not
build them on import (``benchmarks/README.md``: about 5 ms of a ~30 ms import). ``_models``
still offers every name, so imports and pickles that name ``telnyx_messaging._models`` work.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from telnyx_messaging._models import Address, Model, Recipient

__all__ = [
    "BulkUpdate",
    "FeatureSet",
    "MessagingFeatures",
    "MobilePhoneNumberMessagingSettings",
    "NumberHealth",
    "OptOut",
    "PaginationMeta",
    "PhoneNumberMessagingSettings",
    "WhatsAppMessage",
]


@frozen(kw_only=True)
class WhatsAppMessage(Model):
    """A WhatsApp message as Telnyx accepted it; ``body`` echoes the content sent.

    As for :class:`Message`, ``id``, ``from_`` and ``to`` are always there.
    """

    id: str
    from_: Address
    to: tuple[Recipient, ...]
    record_type: str | None = None
    direction: str | None = None
    type: str | None = None
    body: Mapping[str, Any] | None = field(default=None, hash=False)
    encoding: str | None = None
    messaging_profile_id: str | None = None
    organization_id: str | None = None
    received_at: datetime | None = None
    wait_seconds: float | None = None


@frozen(kw_only=True)
class OptOut(Model):
    """A recipient who opted out (sent STOP) of messages from ``from_``."""

    from_: str | None = None
    to: str | None = None
    keyword: str | None = None
    messaging_profile_id: str | None = None
    created_at: datetime | None = None


@frozen(kw_only=True)
class MessagingFeatures(Model):
    """Which directions a number can message in, for SMS or MMS."""

    domestic_two_way: bool
    international_inbound: bool
    international_outbound: bool


@frozen(kw_only=True)
class FeatureSet(Model):
    """SMS and MMS capabilities of a number; either may be absent."""

    sms: MessagingFeatures | None = None
    mms: MessagingFeatures | None = None


@frozen(kw_only=True)
class NumberHealth(Model):
    """Sending health of a number, as Telnyx scores it."""

    message_count: int
    inbound_outbound_ratio: float
    success_ratio: float
    spam_ratio: float


@frozen(kw_only=True)
class _NumberMessagingSettings(Model):
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


@frozen(kw_only=True)
class PhoneNumberMessagingSettings(_NumberMessagingSettings):
    """A phone number's messaging settings: its profile, product, features and health."""

    eligible_messaging_products: tuple[str, ...] = ()
    health: NumberHealth | None = None


@frozen(kw_only=True)
class MobilePhoneNumberMessagingSettings(_NumberMessagingSettings):
    """A mobile phone number's messaging settings."""


@frozen(kw_only=True)
class BulkUpdate(Model):
    """A bulk messaging-settings update order and how far it got, number by number."""

    order_id: str | None = None
    record_type: str | None = None
    success: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()


@frozen(kw_only=True)
class PaginationMeta(Model):
    """Where a page sits in a list: page number and size, total pages and results."""

    # Optional although the spec requires all four: the pager reads a missing count as "last
    # page", which ends a list safely, where failing would lose the page's items.

    page_number: int | None = None
    page_size: int | None = None
    total_pages: int | None = None
    total_results: int | None = None
