"""`type` and `encoding` are checked before sending, not by a 422 round trip (issue 23)."""

from __future__ import annotations

from typing import Any

import pytest

from telnyx_messaging import AsyncClient, InvalidArgumentError
from telnyx_messaging.testing import FakeTelnyx

SMS: dict[str, Any] = {"to": "+13125550002", "from_": "+18445550001", "text": "Hi"}


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"type": "sms"}, r"type must be one of 'SMS', 'MMS'; got 'sms'"),
        ({"type": "RCS"}, r"type must be one of 'SMS', 'MMS'; got 'RCS'"),
        ({"encoding": "utf8"}, r"encoding must be one of 'auto', 'gsm7', 'ucs2'; got 'utf8'"),
        ({"encoding": 7}, r"encoding must be a string, got int: 7"),
    ],
)
async def test_a_type_or_encoding_telnyx_would_refuse_is_refused_here(
    client: AsyncClient, fake: FakeTelnyx, option: dict[str, Any], message: str
) -> None:
    """The error says which values fit, and nothing reaches the API."""
    with pytest.raises(InvalidArgumentError, match=message):
        await client.messages.send(**SMS, **option)
    assert fake.requests == []


async def test_the_values_telnyx_takes_are_sent(client: AsyncClient, fake: FakeTelnyx) -> None:
    """SMS/MMS and auto/gsm7/ucs2 go out as given."""
    await client.messages.send(**SMS, type="SMS", encoding="ucs2")
    await client.messages.send_long_code(**SMS, type="MMS", encoding="gsm7")
    sent = [request.json for request in fake.requests]
    assert [(body["type"], body["encoding"]) for body in sent] == [("SMS", "ucs2"), ("MMS", "gsm7")]
