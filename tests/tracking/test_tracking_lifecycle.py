"""``DeliveryTracker`` driven by FakeTelnyx's own lifecycle: signed webhooks, retries, polls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from telnyx_messaging import AsyncClient, webhooks
from telnyx_messaging.testing import FakeTelnyx

TO = "+13125550002"
FROM = "+18445550001"


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition``, tick by tick, with a generous bound."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


class Receiver:
    """An aiohttp app on loopback whose ``aiohttp_handler`` feeds a tracker, maybe failing first."""

    def __init__(self, tracker: webhooks.DeliveryTracker) -> None:
        self.tracker = tracker
        self.fed: list[str | None] = []
        self.fail_first_attempt = False
        self._failed: set[str | None] = set()

    def feed(self, event: webhooks.WebhookEvent) -> None:
        self.tracker.feed(event)
        self.fed.append(event.event_type)
        if self.fail_first_attempt and event.id not in self._failed:
            # Processed, then the answer is lost: Telnyx delivers it again.
            self._failed.add(event.id)
            raise RuntimeError("answer lost")


@pytest.fixture
async def fake(request: pytest.FixtureRequest) -> AsyncIterator[FakeTelnyx]:
    """FakeTelnyx delivering at once, or ``request.param`` seconds of its clock after sending."""
    async with FakeTelnyx(delivery_seconds=getattr(request, "param", 0.0)) as server:
        yield server


AN_HOUR_TO_DELIVER = pytest.mark.parametrize("fake", [3600.0], indirect=True)


@pytest.fixture
async def served(fake: FakeTelnyx) -> AsyncIterator[Callable[[webhooks.DeliveryTracker], Any]]:
    """Serve a Receiver for a tracker and make it the fake's default webhook URL."""
    runners: list[web.AppRunner] = []

    async def serve(tracker: webhooks.DeliveryTracker) -> Receiver:
        receiver = Receiver(tracker)
        app = web.Application()
        handler = webhooks.aiohttp_handler(receiver.feed, public_key=fake.public_key)
        app.router.add_post("/telnyx", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/telnyx"
        fake.messaging_profiles[fake.default_profile_id].webhook_url = url
        return receiver

    yield serve
    for runner in runners:
        await runner.cleanup()


@AN_HOUR_TO_DELIVER
async def test_delivered_through_the_fakes_webhooks(
    client: AsyncClient, fake: FakeTelnyx, served: Any
) -> None:
    """message.sent, then message.finalized an hour later on the fake's clock, ends the wait."""
    async with webhooks.DeliveryTracker(client, quiet_period=3600) as tracker:
        receiver = await served(tracker)
        msg = await client.messages.send(to=TO, from_=FROM, text="Hi")
        waiting = asyncio.create_task(tracker.wait(msg, timeout=60))
        await until(lambda: receiver.fed == ["message.sent"], "message.sent")
        assert not waiting.done()
        # The fake starts its hour on the clock only once its message.sent POST is answered:
        # advancing before then would leave the hour ahead of it.
        await fake.deliveries_settled(timeout=30)
        fake.advance(3600)
        outcome = await waiting
    assert outcome.source == "webhook"
    assert outcome.statuses == {TO: "delivered"}
    assert outcome.event is not None
    assert outcome.event.event_type == "message.finalized"


@pytest.mark.parametrize(
    ("status", "code"), [("delivery_failed", "40008"), ("sending_failed", "40001")]
)
async def test_failures_through_the_fakes_webhooks(
    client: AsyncClient, fake: FakeTelnyx, served: Any, status: str, code: str
) -> None:
    """A number the fake fails ends the wait with that status and Telnyx's error code."""
    fake.fail_delivery(TO, status=status)
    async with webhooks.DeliveryTracker(client, quiet_period=3600) as tracker:
        await served(tracker)
        msg = await client.messages.send(to=TO, from_=FROM, text="Hi")
        outcome = await tracker.wait(msg, timeout=60)
    assert outcome.statuses == {TO: status}
    assert not outcome.delivered
    assert [e.code for e in outcome.message.errors] == [code]


async def test_webhooks_that_beat_the_wait_answer_it(
    client: AsyncClient, fake: FakeTelnyx, served: Any
) -> None:
    """Webhooks delivered before anyone waits are kept: the wait returns at once."""
    async with webhooks.DeliveryTracker(client, quiet_period=3600) as tracker:
        await served(tracker)
        msg = await client.messages.send(to=TO, from_=FROM, text="Hi")
        await fake.deliveries_settled()
        assert (known := tracker.outcome(msg)) is not None
        assert known.final
        outcome = await tracker.wait(msg, timeout=0.001)
    assert outcome.source == "webhook"


async def test_retried_and_replayed_deliveries_change_nothing(
    client: AsyncClient, fake: FakeTelnyx, served: Any
) -> None:
    """Telnyx's retries after a lost answer, and a late message.sent replayed, move nothing."""
    async with webhooks.DeliveryTracker(client, quiet_period=3600) as tracker:
        receiver = await served(tracker)
        receiver.fail_first_attempt = True
        msg = await client.messages.send(to=TO, from_=FROM, text="Hi")
        await fake.deliveries_settled()
        assert receiver.fed == ["message.sent"] * 2 + ["message.finalized"] * 2
        final = tracker.outcome(msg)
        assert final is not None
        # The recorded message.sent, fed again after finalized (as from a bus).
        sent = next(d for d in fake.deliveries if d.event_type == "message.sent")
        tracker.feed(sent.body)
        assert tracker.outcome(msg) is final
        assert (await tracker.wait(msg, timeout=0.001)) is final
    assert final.statuses == {TO: "delivered"}


@AN_HOUR_TO_DELIVER
async def test_polling_answers_when_the_webhooks_go_elsewhere(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """With no webhook reaching this process, polls of GET /messages/{id} give the outcome."""
    fake.messaging_profiles[fake.default_profile_id].webhook_url = "https://example.com/hooks"
    async with webhooks.DeliveryTracker(client, quiet_period=0.01, poll_interval=0.01) as tracker:
        msg = await client.messages.send(to=TO, from_=FROM, text="Hi")
        waiting = asyncio.create_task(tracker.wait(msg, timeout=60))

        def polls() -> int:
            return sum(r.method == "GET" for r in fake.requests)

        await until(lambda: polls() >= 2, "two polls")
        await until(lambda: fake.messages[msg.id]["to"][0]["status"] == "sent", "sent")
        assert not waiting.done()
        # The fake starts its hour on the clock only once its message.sent POST is answered:
        # advancing before then would leave the hour ahead of it.
        await fake.deliveries_settled(timeout=30)
        fake.advance(3600)
        outcome = await waiting
    assert outcome.source == "poll"
    assert outcome.statuses == {TO: "delivered"}
    assert fake.deliveries
    assert not any(d.ok for d in fake.deliveries)


async def test_many_messages_and_waiters_through_the_fake(
    client: AsyncClient, fake: FakeTelnyx, served: Any
) -> None:
    """Five waits on each of twenty messages (one a group MMS) all get their outcome."""
    fake.fail_delivery("+13125550013")
    async with webhooks.DeliveryTracker(client, quiet_period=3600) as tracker:
        await served(tracker)
        messages = [
            await client.messages.send(to=f"+131255500{n:02d}", from_=FROM, text="Hi")
            for n in range(19)
        ]
        group = ["+13125550013", "+13125550020", "+13125550021"]
        messages.append(await client.messages.send_group_mms(from_=FROM, to=group, text="All"))
        waits = [asyncio.create_task(tracker.wait(m, timeout=60)) for m in messages * 5]
        outcomes = await asyncio.gather(*waits)
    assert [o.id for o in outcomes] == [m.id for m in messages * 5]
    assert sum(o.delivered for o in outcomes[:20]) == 18
    assert outcomes[19].statuses == {
        "+13125550013": "delivery_failed",
        "+13125550020": "delivered",
        "+13125550021": "delivered",
    }
    assert repr(tracker) == "<DeliveryTracker closed waiting=0 kept=0>"
