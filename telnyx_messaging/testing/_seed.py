"""The deterministic data a new fake serves: phone numbers, mobile numbers and opt-outs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from telnyx_messaging.testing._wire import iso as _iso

# Identifiers the fake hands out.  Fixed so that answers are reproducible.
ORGANIZATION_ID = "b448f9cc-a842-4784-98e9-03c1a5872950"
PROFILE_IDS = ("4000eba1-a0c0-4563-9925-b25e842a7cb6", "3fa85f64-5717-4562-b3fc-2c963f66afa6")
# The number a messaging profile sends from when the caller names only the profile
# (Telnyx picks one of the profile's numbers; the fake always has this one).
PROFILE_NUMBER = "+18445550001"
# Seeded data is dated back from this instant, not from "now": a listing is then
# the same in every run, so tests can filter on created_at with literal dates.
_SEED_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _feature_set(*, international: bool) -> dict[str, bool]:
    return {
        "domestic_two_way": True,
        "international_inbound": international,
        "international_outbound": international,
    }


def seed_phone_numbers(count: int) -> list[dict[str, Any]]:
    """PhoneNumberWithMessagingSettings: every 4th number toll-free, every 3rd unassigned."""
    numbers = []
    for index in range(count):
        tollfree = index % 4 == 3
        product = "A2P" if tollfree else "P2P"
        stamp = _iso(_SEED_EPOCH - timedelta(days=count - index))
        numbers.append(
            {
                "id": str(1293384261075731000 + index),
                "record_type": "messaging_settings",
                "phone_number": f"+1{'888' if tollfree else '312'}555{1000 + index:04d}",
                "country_code": "US",
                "type": "tollfree" if tollfree else "longcode",
                "messaging_product": product,
                "traffic_type": product,
                "eligible_messaging_products": ["A2P"] if tollfree else ["P2P", "A2P"],
                "messaging_profile_id": None if index % 3 == 2 else PROFILE_IDS[index % 3],
                "organization_id": ORGANIZATION_ID,
                "features": {
                    "sms": _feature_set(international=not tollfree),
                    "mms": _feature_set(international=False),
                },
                "health": {
                    "message_count": 100 + 7 * index,
                    "inbound_outbound_ratio": round(0.3 + (index % 5) / 10, 2),
                    "success_ratio": round(0.9 + (index % 10) / 100, 2),
                    "spam_ratio": round((index % 4) / 100, 2),
                },
                "tags": [],
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    return numbers


def seed_mobile_phone_numbers(count: int) -> list[dict[str, Any]]:
    """MobilePhoneNumberWithMessagingSettings, all P2P long codes."""
    numbers = []
    for index in range(count):
        stamp = _iso(_SEED_EPOCH - timedelta(days=count - index))
        numbers.append(
            {
                "id": str(2126210528794641000 + index),
                "record_type": "messaging_settings",
                "phone_number": f"+1773555{2000 + index:04d}",
                "country_code": "US",
                "type": "longcode",
                "messaging_product": "P2P",
                "traffic_type": "P2P",
                "messaging_profile_id": PROFILE_IDS[index % 2],
                "organization_id": ORGANIZATION_ID,
                "features": {"sms": _feature_set(international=False)},
                "tags": [],
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    return numbers


def seed_optouts(count: int) -> list[dict[str, Any]]:
    """OptOutItem, newest first, one every 7 hours back from the seed epoch."""
    return [
        {
            "messaging_profile_id": PROFILE_IDS[index % 2],
            "from": f"+1312555{1000 + index % 3:04d}",
            "to": f"+1773555{3000 + index:04d}",
            "keyword": "STOP",
            "created_at": _iso(_SEED_EPOCH - timedelta(hours=7 * index)),
        }
        for index in range(count)
    ]
