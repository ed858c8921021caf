"""send_many(..., await_delivery=tracker): results that carry the final delivery outcome.

Against FakeTelnyx's signed lifecycle webhooks over real HTTP: the fake posts ``message.sent``
and ``message.finalized`` to a receiver built with ``webhooks.aiohttp_handler``, which feeds a
``DeliveryTracker`` (or holds the events back until a test releases them).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from telnyx_messaging import (
    AsyncClient,
    ConfigurationError,
    InvalidArgumentError,
    SendResult,
    webhooks,
)
from telnyx_messaging._bulk import _intake
from telnyx_messaging.testing import FakeTelnyx, Hang

SENDER = "+18445550001"


class Receiver:
    """A loopback webhook endpoint that verifies with the fake's key and feeds ``tracker``.

    With ``holding`` set, verified delivery events are kept back until :meth:`release`.
    """

    def __init__(self, fake: FakeTelnyx, tracker: webhooks.DeliveryTracker) -> None:
        self.fake = fake
        self.tracker = tracker
        self.holding = False
        self.held: list[webhooks.WebhookEvent] = []
        self.events: collections.Counter[str] = collections.Counter()

    def on_event(self, event: webhooks.WebhookEvent) -> None:
        self.events[event.event_type or "?"] += 1
        if self.holding:
            self.held.append(event)
        else:
            self.tracker.feed(event)

    def release(self) -> None:
        self.holding = False
        held, self.held = self.held, []
        for event in held:
            self.tracker.feed(event)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        handler = webhooks.aiohttp_handler(self.on_event, public_key=self.fake.public_key)
        app.router.add_post("/telnyx", handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/telnyx"
        self.fake.messaging_profiles[self.fake.default_profile_id].webhook_url = url
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._runner.cleanup()


@pytest.fixture
async def live_fake() -> AsyncIterator[FakeTelnyx]:
    """A fake whose messages go through their whole lifecycle at once."""
    async with FakeTelnyx() as server:
        yield server


@pytest.fixture
async def live_client(live_fake: FakeTelnyx) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(api_key=live_fake.api_key, base_url=live_fake.base_url) as c:
        yield c


@pytest.fixture
async def tracker() -> AsyncIterator[webhooks.DeliveryTracker]:
    """A tracker that only webhooks answer (no polling), so each test decides what comes."""
    async with webhooks.DeliveryTracker(quiet_period=None) as t:
        yield t


@pytest.fixture
async def receiver(
    live_fake: FakeTelnyx, tracker: webhooks.DeliveryTracker
) -> AsyncIterator[Receiver]:
    async with Receiver(live_fake, tracker) as r:
        yield r


def rows(count: int) -> list[dict[str, Any]]:
    return [{"to": f"+1312555{n:04d}", "from_": SENDER, "text": f"Hi {n}"} for n in range(count)]


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition``, a tick at a time, with a generous bound."""
    for _ in range(4000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


def delivery_waits() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "send_many delivery wait"]


async def test_results_say_delivered_or_failed_per_recipient(
    live_fake: FakeTelnyx,
    live_client: AsyncClient,
    tracker: webhooks.DeliveryTracker,
    receiver: Receiver,
) -> None:
    """Each sent row's result carries its final status from the signed webhooks, one per row."""
    live_fake.fail_delivery("+13125550003")
    live_fake.fail_delivery("+13125550005", status="sending_failed")
    bad = {"to": "not a number", "from_": SENDER, "text": "Hi"}
    async with live_client.messages.send_many(
        [*rows(12), bad], concurrency=4, await_delivery=tracker, delivery_timeout=60
    ) as run:
        results = [result async for result in run]

    assert sorted(r.index for r in results) == list(range(13))
    by_to = {r.params["to"]: r for r in results}
    refused = by_to.pop("not a number")
    assert not refused.ok
    assert refused.delivery is None
    assert refused.delivered is None
    for to, result in by_to.items():
        assert result.ok
        assert result.delivery is not None
        assert result.delivery.final
        assert result.delivery.source == "webhook"
        assert result.delivery.id == result.message_id
        assert result.delivery_error is None
        expected = {
            "+13125550003": "delivery_failed",
            "+13125550005": "sending_failed",
        }.get(to, "delivered")
        assert result.delivery.statuses == {to: expected}
        assert result.delivered is (expected == "delivered")
    assert run.stats.sent == 12
    assert run.stats.delivered == 10
    assert run.stats.awaiting_delivery == 0
    assert run.stats.done == 13
    assert receiver.events["message.finalized"] == 12


async def test_a_row_waiting_for_its_delivery_holds_no_worker(
    live_fake: FakeTelnyx,
    live_client: AsyncClient,
    tracker: webhooks.DeliveryTracker,
    receiver: Receiver,
) -> None:
    """With one worker and no webhook let through, every row is still sent; results follow."""
    receiver.holding = True
    async with live_client.messages.send_many(
        rows(6), concurrency=1, await_delivery=tracker, delivery_timeout=60
    ) as run:
        await until(lambda: run.stats.awaiting_delivery == 6, "all six sent and waiting")
        assert len(live_fake.messages) == 6
        assert run.stats.sent == 6
        assert run.stats.done == 0
        assert run.stats.pending == 6
        assert len(delivery_waits()) == 6
        await until(lambda: receiver.events["message.finalized"] == 6, "six finalized")
        receiver.release()
        results = [result async for result in run]
    assert sorted(r.index for r in results) == list(range(6))
    assert all(r.delivered for r in results)


async def test_a_delivery_that_never_comes_ends_in_a_timeout(
    live_client: AsyncClient, tracker: webhooks.DeliveryTracker, receiver: Receiver
) -> None:
    """No final webhook within delivery_timeout: the row is sent, its delivery unknown, why said."""
    receiver.holding = True  # never released
    async with live_client.messages.send_many(
        rows(3), await_delivery=tracker, delivery_timeout=0.2
    ) as run:
        results = [result async for result in run]
    assert len(results) == 3
    for result in results:
        assert result.ok
        assert result.delivered is None
        assert isinstance(result.delivery_error, webhooks.DeliveryTimeoutError)
        assert result.delivery is result.delivery_error.last
        # Nothing was fed: what is known is what the send answered.
        assert result.delivery is not None
        assert not result.delivery.final
        assert result.delivery.statuses == {result.params["to"]: "queued"}
    assert run.stats.delivered == 0


async def test_polling_answers_when_no_webhook_is_configured(
    live_fake: FakeTelnyx, live_client: AsyncClient
) -> None:
    """A tracker that may poll gives the outcome from messages.retrieve when no webhook comes."""
    live_fake.fail_delivery("+13125550001")
    async with (
        webhooks.DeliveryTracker(live_client, quiet_period=0.05, poll_interval=0.05) as tracker,
        live_client.messages.send_many(rows(3), await_delivery=tracker, delivery_timeout=30) as run,
    ):
        results = {r.index: r async for r in run}
    assert {i: r.delivered for i, r in results.items()} == {0: True, 1: False, 2: True}
    assert all(r.delivery is not None and r.delivery.source == "poll" for r in results.values())


async def test_leaving_early_ends_every_delivery_wait(
    live_fake: FakeTelnyx,
    live_client: AsyncClient,
    tracker: webhooks.DeliveryTracker,
    receiver: Receiver,
) -> None:
    """A break while rows await delivery: no wait left running, the rest are leftover results."""
    receiver.holding = True
    async with live_client.messages.send_many(
        rows(5), concurrency=5, await_delivery=tracker, delivery_timeout=600
    ) as run:
        await until(lambda: receiver.events["message.finalized"] == 5, "five finalized")
        first = next(e for e in receiver.held if e.event_type == "message.finalized")
        tracker.feed(first)  # one outcome; the other four stay unknown
        async for result in run:
            taken = result
            break
    assert delivery_waits() == []
    assert taken.delivered is not None
    leftover = run.leftover_results
    assert sorted(r.index for r in [taken, *leftover]) == list(range(5))
    for result in leftover:
        assert result.ok
        assert result.delivered is None
        assert result.delivery is None or not result.delivery.final
    assert run.not_started == []
    assert run.unfinished == []


async def test_a_tracker_closed_mid_run_says_so_per_row(
    live_client: AsyncClient, tracker: webhooks.DeliveryTracker, receiver: Receiver
) -> None:
    """Closing the tracker while rows wait ends each wait with the tracker's error, one per row."""
    receiver.holding = True
    async with live_client.messages.send_many(
        rows(3), await_delivery=tracker, delivery_timeout=600
    ) as run:
        await until(lambda: run.stats.awaiting_delivery == 3, "three waiting")
        await tracker.close()
        results = [result async for result in run]
    assert len(results) == 3
    assert all(isinstance(r.delivery_error, ConfigurationError) for r in results)
    assert all(r.ok and r.delivered is None for r in results)


async def test_reading_pauses_while_too_many_rows_await_delivery(
    live_client: AsyncClient,
    tracker: webhooks.DeliveryTracker,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past MAX_AWAITING_DELIVERY waiting rows the run reads no more input until some are final."""
    monkeypatch.setattr(_intake, "MAX_AWAITING_DELIVERY", 2)
    monkeypatch.setattr(_intake, "LOOKAHEAD", 0)
    receiver.holding = True
    read = 0

    def counted() -> Any:
        nonlocal read
        for row in rows(8):
            read += 1
            yield row

    async with live_client.messages.send_many(
        counted(), concurrency=1, await_delivery=tracker, delivery_timeout=600
    ) as run:
        await until(lambda: run.stats.awaiting_delivery >= 2, "two waiting")
        await asyncio.sleep(0.1)  # would the feeder read on? (it must not)
        stalled_at = read
        assert stalled_at < 8
        receiver.release()  # and feed from now on
        results: list[SendResult] = [result async for result in run]
    assert read == 8
    assert sorted(r.index for r in results) == list(range(8))


async def test_await_delivery_takes_an_open_tracker_and_a_positive_timeout(
    live_client: AsyncClient,
) -> None:
    """A wrong tracker, a closed one, or a bad delivery_timeout is refused before any send."""
    with pytest.raises(InvalidArgumentError, match="DeliveryTracker"):
        live_client.messages.send_many(rows(1), await_delivery=object())  # type: ignore[arg-type]
    closed = webhooks.DeliveryTracker()
    await closed.close()
    with pytest.raises(ConfigurationError, match="closed"):
        live_client.messages.send_many(rows(1), await_delivery=closed)
    for bad in (0, -1, True, "60"):
        with pytest.raises(InvalidArgumentError, match="delivery_timeout"):
            live_client.messages.send_many(
                rows(1),
                await_delivery=webhooks.DeliveryTracker(),
                delivery_timeout=bad,  # type: ignore[arg-type]
            )


async def test_a_row_is_journaled_as_sent_before_its_delivery_is_known(
    live_fake: FakeTelnyx,
    live_client: AsyncClient,
    tracker: webhooks.DeliveryTracker,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    """A run left while rows await delivery, resumed on its journal, sends none of them again."""
    journal = tmp_path / "campaign.db"
    receiver.holding = True
    async with live_client.messages.send_many(
        rows(4), journal=journal, await_delivery=tracker, delivery_timeout=600
    ) as run:
        await until(lambda: run.stats.awaiting_delivery == 4, "four waiting")
    assert len(run.leftover_results) == 4
    async with live_client.messages.send_many(
        rows(4), journal=journal, await_delivery=tracker, delivery_timeout=600
    ) as again:
        resumed = [result async for result in again]
    assert len(live_fake.messages) == 4
    assert all(r.resumed and r.ok and r.delivery is None for r in resumed)
    assert sorted(r.message_id for r in resumed) == sorted(live_fake.messages)


async def test_a_send_that_lands_after_the_run_stopped_waits_for_nothing(
    live_fake: FakeTelnyx,
    live_client: AsyncClient,
    tracker: webhooks.DeliveryTracker,
    receiver: Receiver,
) -> None:
    """A send still in flight when the caller left comes back as a leftover, with no wait begun."""
    live_fake.fail_next(Hang(2.0), method="POST")
    async with live_client.messages.send_many(
        rows(3), concurrency=3, await_delivery=tracker, delivery_timeout=600, pacing="unpaced"
    ) as run:
        async for result in run:
            taken = result
            break
    assert delivery_waits() == []
    leftover = run.leftover_results
    assert sorted(r.index for r in [taken, *leftover]) == list(range(3))
    assert taken.delivered is True
    assert any(r.ok and r.delivery is None for r in leftover)  # the one that hung
