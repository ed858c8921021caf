"""DeliveryOutcome.source names the report it came from, also when no webhook or poll came."""

from __future__ import annotations

import pytest

from telnyx_messaging import AsyncClient, DeliveryTimeoutError, DeliveryTracker
from telnyx_messaging.testing import FakeTelnyx


async def test_without_polling_the_send_s_answer_is_the_source(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """No polls, no webhooks: the outcome came from the Message passed to wait (issue 23)."""
    msg = await client.messages.send(to="+13125550002", from_="+18445550001", text="Hi")
    async with DeliveryTracker() as tracker:  # polling off: webhooks alone would answer
        with pytest.raises(DeliveryTimeoutError) as timed_out:
            await tracker.wait(msg, timeout=0.05)
        last = timed_out.value.last
        assert last is not None
        assert last.statuses == {"+13125550002": "queued"}
        assert last.source == "message"
        assert tracker.outcome(msg) == last
    assert not any(r.method == "GET" for r in fake.requests)  # nothing was polled
