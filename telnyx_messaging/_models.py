"""The API's objects as frozen, slotted attrs classes.

A field is required (never ``None``) when the spec requires it or when it is what makes the
object what it is: a message's ``id``, ``from_`` and ``to``, each recipient's
``phone_number`` and ``status``. Every other field is optional: Telnyx omits what does not
apply, and an odd value in it becomes ``None`` rather than failing the whole answer
(``_convert.py`` draws the line). Enum-like fields (``status``, ``type``, ``direction``...)
are plain ``str`` on purpose: Telnyx adds values all the time, and a new value must never
break parsing.

Each object reaches the JSON it came from through ``raw`` (not part of equality or repr), so
fields this SDK does not know yet stay reachable: ``message.raw["some_new_field"]``. The JSON
is not kept at every level: an object holds the source of the whole answer once (the answer's
bytes, or the decoded object it was given) and the path to itself inside it, and ``raw``
looks itself up on demand. A kept ``Message`` then costs less than the dict of its answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

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
    "Recipient",
    "WhatsAppMessage",
]

#: Shared empty ``raw`` for objects built by hand rather than parsed from JSON.
EMPTY_RAW: Mapping[str, Any] = MappingProxyType({})

#: A path inside the answer: object keys and array indexes, from the top.
RawPath = tuple[str | int, ...]


def lookup_raw(source: Any, path: RawPath) -> Any:
    """The JSON at ``path`` in ``source``, decoding ``source`` first when it is bytes or text."""
    document = source if isinstance(source, Mapping) else json.loads(source)
    for step in path:
        document = document[step]
    return document


@frozen(kw_only=True)
class Model:
    """What every model has: ``raw``, the JSON it came from, looked up in its answer on demand.

    Two private slots hold where to look; they are left out of ``==``, ``hash`` and ``repr``.
    """

    # Where the answer came from (its bytes or text, or the decoded JSON object itself), and
    # where this object sits in it.
    _raw_source: Any = field(default=EMPTY_RAW, eq=False, repr=False, alias="_raw_source")
    _raw_path: RawPath = field(default=(), eq=False, repr=False, alias="_raw_path")

    @property
    def raw(self) -> Mapping[str, Any]:
        """The JSON object this was read from, unknown fields included.

        Rebuilt from the answer on each access when the object came from an HTTP answer
        (decoding it again): keep the result in a variable if you read it often.
        """
        return lookup_raw(self._raw_source, self._raw_path)  # type: ignore[no-any-return]


@frozen(kw_only=True)
class Address(Model):
    """The sender of a message (``from_``), or a copied recipient (``cc``).

    ``phone_number`` is a +E.164 number, a short code or an alphanumeric sender ID.
    ``status`` is set when Telnyx reports one (inbound senders: ``webhook_delivered``...).
    """

    phone_number: str
    status: str | None = None
    carrier: str | None = None
    line_type: str | None = None


@frozen(kw_only=True)
class Recipient(Model):
    """One recipient of a message (``to``) and how delivery to it is going.

    ``status`` is ``queued``, ``sending``, ``sent``, ``delivered``, ``sending_failed``,
    ``delivery_failed``, ``delivery_unconfirmed``, ``expired``, ``cancelled``,
    ``webhook_delivered``... (new values may appear, so it is a plain ``str``).

    .. versionadded:: 0.2.0
    """

    phone_number: str
    status: str
    carrier: str | None = None
    line_type: str | None = None


@frozen(kw_only=True)
class Money(Model):
    """An amount of money; ``amount`` is exact (``Decimal``), never a float."""

    amount: Decimal | None = None
    currency: str | None = None


@frozen(kw_only=True)
class CostBreakdown(Model):
    """What a message cost, split into the carrier's fee and Telnyx's rate."""

    carrier_fee: Money | None = None
    rate: Money | None = None


@frozen(kw_only=True)
class Media(Model):
    """A media file attached to an MMS.

    Outbound messages report ``sha256``; inbound ones ``hash_sha256``.
    """

    url: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    hash_sha256: str | None = None


@frozen(kw_only=True)
class ErrorDetail(Model):
    """One entry of Telnyx's ``errors`` list, in an error answer or on a failed message."""

    # Optional although the spec requires code and title: error answers also come from
    # gateways and proxies, and what an entry does say must not be lost for what it lacks.
    code: str | None = None
    title: str | None = None
    detail: str | None = None
    # JSON objects are dicts, which cannot be hashed; equality still compares them.
    source: Mapping[str, Any] | None = field(default=None, hash=False)
    meta: Mapping[str, Any] | None = field(default=None, hash=False)

    def __str__(self) -> str:
        where = ""
        if self.source:
            place = self.source.get("pointer") or self.source.get("parameter")
            where = f" at {place}" if place else ""
        text = " - ".join(p for p in (self.title, self.detail) if p)
        return f"[{self.code}] {text}{where}" if self.code else f"{text}{where}"


@frozen(kw_only=True)
class Message(Model):
    """An SMS or MMS, outbound or inbound, as Telnyx reports it.

    Returned by every send call and by ``messages.retrieve``; also the payload of the
    delivery-update and inbound-message webhooks. ``direction`` is ``"outbound"`` or
    ``"inbound"``; ``to[i].status`` tracks delivery to each recipient. ``id``, ``from_``
    and ``to`` are always there: an answer without them raises
    ``APIResponseValidationError``.
    """

    id: str
    from_: Address
    to: tuple[Recipient, ...]
    record_type: str | None = None
    direction: str | None = None
    type: str | None = None
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


# Built on first use (see _resource_models.py): a webhook receiver never needs them.
_ELSEWHERE = frozenset(
    {
        "BulkUpdate",
        "FeatureSet",
        "MessagingFeatures",
        "MobilePhoneNumberMessagingSettings",
        "NumberHealth",
        "OptOut",
        "PaginationMeta",
        "PhoneNumberMessagingSettings",
        "WhatsAppMessage",
    }
)


def __getattr__(name: str) -> Any:
    if name not in _ELSEWHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from telnyx_messaging import _resource_models

    value = getattr(_resource_models, name)
    globals()[name] = value  # later look-ups skip this function
    return value


if TYPE_CHECKING:
    from telnyx_messaging._resource_models import (
        BulkUpdate as BulkUpdate,
    )
    from telnyx_messaging._resource_models import (
        FeatureSet as FeatureSet,
    )
    from telnyx_messaging._resource_models import (
        MessagingFeatures as MessagingFeatures,
    )
    from telnyx_messaging._resource_models import (
        MobilePhoneNumberMessagingSettings as MobilePhoneNumberMessagingSettings,
    )
    from telnyx_messaging._resource_models import (
        NumberHealth as NumberHealth,
    )
    from telnyx_messaging._resource_models import (
        OptOut as OptOut,
    )
    from telnyx_messaging._resource_models import (
        PaginationMeta as PaginationMeta,
    )
    from telnyx_messaging._resource_models import (
        PhoneNumberMessagingSettings as PhoneNumberMessagingSettings,
    )
    from telnyx_messaging._resource_models import (
        WhatsAppMessage as WhatsAppMessage,
    )
