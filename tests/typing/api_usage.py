"""Code written the way users write it, type-checked with mypy --strict (nox -s typecheck).

It is never run; it fails the type check if a public signature or return type regresses.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import telnyx_messaging
from telnyx_messaging import (
    APIStatusError,
    AsyncClient,
    Message,
    OptOut,
    Page,
    PhoneNumberMessagingSettings,
    RateLimitError,
    Timeout,
    capture_responses,
)


async def send_and_track(client: AsyncClient) -> tuple[str | None, Decimal | None]:
    msg: Message = await client.messages.send(
        to="+13125550002",
        from_="+18445550001",
        text="Hello",
        send_at=datetime.now(timezone.utc) + timedelta(hours=1),
        idempotency_key="order-42",
    )
    # What makes a message (id, sender, each recipient's number and status) is never Optional.
    status: str = msg.to[0].status
    sender: str = msg.from_.phone_number
    assert sender.startswith("+")
    amount = msg.cost.amount if msg.cost else None
    return status, amount


async def lists(client: AsyncClient) -> list[str]:
    page: Page[OptOut] = await client.messaging_optouts.list(page_size=50)
    numbers = [o.to or "" for o in page.data]
    if page.has_next_page():
        more = await page.next_page()
        numbers += [o.to or "" for o in more.data]
    async for settings in client.phone_numbers.messaging.list(filter_type="longcode"):
        one: PhoneNumberMessagingSettings = settings
        numbers.append(one.phone_number or "")
    return numbers


async def errors(client: AsyncClient) -> float | None:
    quick = client.with_options(timeout=Timeout(total=5, per_attempt=2), max_retries=0)
    try:
        with capture_responses() as seen:
            await quick.messages.retrieve("abc")
        assert seen[-1].status == 200
    except RateLimitError as exc:
        return exc.retry_after
    except APIStatusError as exc:
        return float(exc.status) if exc.codes else None
    return None


# -- the transport seam and lazily resolved names (issue 8) -----------------------------


def mock_client() -> telnyx_messaging.AsyncClient:
    def handler(request: telnyx_messaging.Request) -> telnyx_messaging.Response:
        return request.respond(200, json={"data": {"id": "msg-1"}})

    transport: telnyx_messaging.AsyncTransport = telnyx_messaging.MockTransport(handler)
    return telnyx_messaging.AsyncClient(api_key="KEY", transport=transport)


def webhook_event(body: bytes, headers: dict[str, str]) -> object:
    # The submodule is an attribute of the package, for type checkers as at run time.
    return telnyx_messaging.webhooks.unwrap(body, headers, public_key="KEY")
