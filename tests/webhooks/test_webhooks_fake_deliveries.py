"""A WebhookReceiver fed by FakeTelnyx's own signed deliveries, with Telnyx's 2 s and retries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from telnyx_messaging import AsyncClient, webhooks
from telnyx_messaging.testing import FakeTelnyx


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelnyx]:
    async with FakeTelnyx() as server:
        yield server


async def serve(receiver: webhooks.WebhookReceiver) -> tuple[str, web.AppRunner]:
    app = web.Application()
    receiver.add_aiohttp_route(app, "/webhooks/telnyx")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/telnyx", runner


@pytest.mark.parametrize("acknowledge", ["on_receipt", "after_callback"])
async def test_a_3_second_callback_and_the_fakes_retries(
    fake: FakeTelnyx, acknowledge: webhooks.Acknowledge
) -> None:
    """On receipt each event is delivered once; after the callback, retried yet handled once."""
    handled: list[str] = []

    async def slow(event: webhooks.WebhookEvent) -> None:
        await asyncio.sleep(3)  # longer than the fake (and Telnyx) waits for an answer
        handled.append(webhooks.duplicate_key(event))

    receiver = webhooks.WebhookReceiver(
        on_event=slow, public_key=fake.public_key, acknowledge=acknowledge
    )
    url, runner = await serve(receiver)
    try:
        async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            await client.messages.send(
                to="+13125550002", from_="+18445550001", text="hi", webhook_url=url
            )
        await fake.deliveries_settled(timeout=60)
    finally:
        await runner.cleanup()  # drains what was accepted on receipt
    events = {d.event_id for d in fake.deliveries}
    assert len(events) >= 2  # message.sent and message.finalized at least
    assert sorted(handled) == sorted(events)  # every event handled, none twice
    if acknowledge == "on_receipt":
        assert all(d.ok for d in fake.deliveries)
        assert len(fake.deliveries) == len(events)  # no redelivery at all
    else:
        assert len(fake.deliveries) > len(events)  # the fake retried what was slow
