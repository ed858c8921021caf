"""Pure builders for the JSON Telnyx sends: message payloads, webhook events, link clicks.

Shapes follow the spec's schemas (``OutboundMessagePayload``, ``InboundMessagePayload``,
``WhatsappResponse``, ``OutboundMessageEvent``...) and the examples in
``tests/spec/webhook-examples/``; ``tests/fake/test_fake_spec.py`` holds every one to the spec.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from telnyx_messaging.testing._seed import ORGANIZATION_ID, PROFILE_IDS, PROFILE_NUMBER
from telnyx_messaging.testing._sms import sms_encoding
from telnyx_messaging.testing._wire import iso

_COST = {"amount": "0.0040", "currency": "USD"}
_COST_BREAKDOWN = {
    "carrier_fee": {"amount": "0.0015", "currency": "USD"},
    "rate": {"amount": "0.0025", "currency": "USD"},
}
# What a failed delivery reports in `errors` (Telnyx's messaging error codes:
# https://developers.telnyx.com/docs/messaging/messages/error-codes).
FAILURES = {
    "delivery_failed": {
        "code": "40008",
        "title": "Undeliverable",
        "detail": "The destination carrier did not accept the message.",
    },
    "sending_failed": {
        "code": "40001",
        "title": "Not routable",
        "detail": "The destination is a landline or a non-routable number.",
    },
}


def outbound_message(
    body: Mapping[str, Any],
    to: Sequence[str],
    *,
    message_type: str | None,
    profile_id: str,
    now: datetime,
) -> dict[str, Any]:
    """An OutboundMessagePayload with every property of the schema, as Telnyx answers a send."""
    text = body.get("text")
    media_urls = body.get("media_urls") or []
    send_at = body.get("send_at")
    message: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "record_type": "message",
        "direction": "outbound",
        "type": message_type or body.get("type") or ("MMS" if media_urls else "SMS"),
        "from": {
            "phone_number": body.get("from") or PROFILE_NUMBER,
            "carrier": "Telnyx",
            "line_type": "VoIP",
        },
        "to": [
            {
                "phone_number": number,
                "status": "scheduled" if send_at else "queued",
                "carrier": "T-MOBILE USA, INC.",
                "line_type": "Wireless",
            }
            for number in to
        ],
        "cc": [],
        "text": text or "",  # the schema has no null text (an MMS without one)
        "subject": body.get("subject"),
        "media": [
            {"url": url, "content_type": None, "sha256": None, "size": None} for url in media_urls
        ],
        "webhook_url": body.get("webhook_url"),
        "webhook_failover_url": body.get("webhook_failover_url"),
        **_accounting(text, now, requested_encoding=body.get("encoding") or "auto"),
        "valid_until": iso(now + timedelta(hours=1)),
        "errors": [],
        "messaging_profile_id": profile_id,
        "organization_id": ORGANIZATION_ID,
        "tcr_campaign_id": None,
        "tcr_campaign_billable": False,
        "tcr_campaign_registered": None,
        "smart_encoding_applied": False,
        "wait_seconds": 0.0,
    }
    if send_at:
        message["send_at"] = send_at
    return message


def _accounting(
    text: str | None, now: datetime, *, requested_encoding: str = "auto"
) -> dict[str, Any]:
    """What an SMS/MMS payload says about its size, price and times, before it is sent."""
    encoding, parts = sms_encoding(text or "", requested_encoding)
    return {
        "encoding": encoding,
        "parts": parts,
        "num_chars": len(text or ""),
        "tags": [],
        "cost": dict(_COST),
        "cost_breakdown": dict(_COST_BREAKDOWN),
        "received_at": iso(now),
        "sent_at": None,
        "completed_at": None,
    }


def whatsapp_message(body: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """The ``data`` of a WhatsappResponse for a WhatsappMessage request."""
    return {
        "id": str(uuid.uuid4()),
        "record_type": "message",
        "direction": "outbound",
        "type": "WHATSAPP",
        "from": {"phone_number": body["from"], "carrier": "Telnyx", "line_type": "VoIP"},
        "to": [
            {
                "phone_number": body["to"],
                "status": "queued",
                "carrier": "T-MOBILE USA, INC.",
                "line_type": "Wireless",
            }
        ],
        "body": body["whatsapp_message"],
        "encoding": "utf-8",
        "messaging_profile_id": body.get("messaging_profile_id") or PROFILE_IDS[0],
        "organization_id": ORGANIZATION_ID,
        "received_at": iso(now),
        "wait_seconds": 0.0,
    }


def inbound_message(
    *,
    from_: str,
    to: str,
    text: str | None,
    media_urls: Sequence[str],
    subject: str | None,
    profile_id: str,
    webhook_url: str | None,
    webhook_failover_url: str | None,
    now: datetime,
) -> dict[str, Any]:
    """An InboundMessagePayload: ``from_`` texted ``to``, one of the account's numbers."""
    return {
        "id": str(uuid.uuid4()),
        "record_type": "message",
        "direction": "inbound",
        "type": "MMS" if media_urls else "SMS",
        "from": {"phone_number": from_, "carrier": "T-MOBILE USA, INC.", "line_type": "Wireless"},
        # Real inbound deliveries say webhook_delivered here (webhook-examples/SOURCES.md).
        "to": [
            {
                "phone_number": to,
                "status": "webhook_delivered",
                "carrier": "Telnyx",
                "line_type": "VoIP",
            }
        ],
        "cc": [],
        "text": text or "",
        "subject": subject,
        "media": [
            {
                "url": url,
                "content_type": mimetypes.guess_type(url)[0] or "application/octet-stream",
            }
            for url in media_urls
        ],
        "webhook_url": webhook_url,
        "webhook_failover_url": webhook_failover_url,
        **_accounting(text, now),
        "valid_until": None,
        "errors": [],
        "messaging_profile_id": profile_id,
        "organization_id": ORGANIZATION_ID,
        "tcr_campaign_id": None,
        "tcr_campaign_billable": False,
        "tcr_campaign_registered": None,
    }


def with_status(
    message: Mapping[str, Any], statuses: Mapping[str, str], **changes: Any
) -> dict[str, Any]:
    """A copy of ``message`` with each recipient's status from ``statuses`` (by number)."""
    recipients = [
        {**to, "status": statuses.get(to["phone_number"], to["status"])} for to in message["to"]
    ]
    return {**message, "to": recipients, **changes}


def event(event_type: str, payload: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """The ``data`` of a message event (OutboundMessage / InboundMessage); ``meta`` is added
    per delivery attempt."""
    return {
        "event_type": event_type,
        "id": str(uuid.uuid4()),
        "occurred_at": iso(now),
        "payload": dict(payload),
        "record_type": "event",
    }


def link_click(message: Mapping[str, Any], url: str, *, now: datetime) -> dict[str, Any]:
    """A ReplacedLinkClick: no event envelope, ``record_type`` ``link_clicked``."""
    return {
        "message_id": message["id"],
        "record_type": "link_clicked",
        "time_clicked": iso(now),
        "to": message["to"][0]["phone_number"],
        "url": url,
    }
