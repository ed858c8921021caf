"""RedisDeliveryRelay: a wait on one replica resolves from a webhook another replica received."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio
from redis_fixtures import (
    EXAMPLES,
    SIGNER,
    delivery_webhook,
    start_replica,
    stop_replicas,
)
from redis_server import RedisServer

from telnyx_messaging import ConfigurationError, InvalidArgumentError, webhooks
from telnyx_messaging.redis import RedisDeliveryRelay


@pytest.fixture
async def relay(redis_server: RedisServer) -> AsyncIterator[RedisDeliveryRelay]:
    """This process's relay (replica A), started, over a tracker that never polls."""
    async with await RedisDeliveryRelay.connect(webhooks.DeliveryTracker(), redis_server.url) as r:
        yield r


async def post(session: aiohttp.ClientSession, url: str, body: bytes) -> int:
    async with session.post(url, data=body, headers=SIGNER.headers(body)) as response:
        return response.status


async def test_a_wait_here_resolves_from_a_webhook_another_process_received(
    redis_server: RedisServer, relay: RedisDeliveryRelay
) -> None:
    """Replica B (another process) verifies and publishes; waits on A, begun before or after
    the webhook came, resolve from it, as does a relay on A started only afterwards."""
    replicas = [start_replica(redis_server.url, "relay")]
    url = f"http://127.0.0.1:{replicas[0][1]}/webhooks"
    try:
        async with aiohttp.ClientSession() as session:
            before = asyncio.ensure_future(relay.wait("msg-before", timeout=30))
            await asyncio.sleep(0.1)  # the wait is registered
            assert await post(session, url, delivery_webhook("msg-before")) == 200
            outcome = await before
            assert (outcome.id, outcome.final, outcome.source) == ("msg-before", True, "webhook")
            assert outcome.statuses == {"+13125000000": "delivered"}

            assert await post(session, url, delivery_webhook("msg-after", "delivery_failed")) == 200
            await asyncio.sleep(0.2)
            late = await relay.wait("msg-after", timeout=30)
            assert late.statuses == {"+13125000000": "delivery_failed"}

        # A replica that starts after the webhook: only the record in Redis can tell it.
        async with await RedisDeliveryRelay.connect(
            webhooks.DeliveryTracker(), redis_server.url
        ) as newcomer:
            outcome = await newcomer.wait("msg-before", timeout=30)
            assert outcome.delivered
    finally:
        stop_replicas(replicas)


async def test_the_record_expires_after_keep_for(redis_server: RedisServer) -> None:
    """Each message's kept webhooks live ``keep_for`` seconds, one hash field per event."""
    client = redis.asyncio.Redis.from_url(redis_server.url)
    relay = RedisDeliveryRelay(client, webhooks.DeliveryTracker(), keep_for=30, prefix="d:")
    await relay.publish(webhooks.parse(delivery_webhook("msg-1", "sent", "e1")))
    await relay.publish(webhooks.parse(delivery_webhook("msg-1", "delivered", "e2")))
    assert sorted(await client.hkeys("d:msg-1")) == [b"e1", b"e2"]
    assert 29_000 < await client.pttl("d:msg-1") <= 30_000
    await client.aclose()


async def test_only_delivery_updates_are_published(
    redis_server: RedisServer, relay: RedisDeliveryRelay
) -> None:
    """An inbound message or a link click is not a delivery: nothing is kept or sent."""
    client = redis.asyncio.Redis.from_url(redis_server.url)
    async with client.pubsub() as pubsub:
        await pubsub.subscribe("telnyx:deliveries")
        inbound = (EXAMPLES / "message.received.json").read_bytes()
        await relay.publish(webhooks.parse(inbound))
        await relay.publish(webhooks.parse(delivery_webhook("msg-2")))
        notes = []
        for _ in range(20):  # a None is the subscription's confirmation, or a quiet second
            note = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if note is not None:
                notes.append(note)
                break
        assert webhooks.parse(notes[0]["data"]).payload.id == "msg-2"  # type: ignore[union-attr]
    assert await client.keys("telnyx:delivery:*") == [b"telnyx:delivery:msg-2"]
    await client.aclose()


async def test_a_note_that_is_not_a_webhook_is_logged_and_ignored(
    redis_server: RedisServer, relay: RedisDeliveryRelay, caplog: pytest.LogCaptureFixture
) -> None:
    """Someone else writing to the channel cannot stop the listener."""
    client = redis.asyncio.Redis.from_url(redis_server.url)
    with caplog.at_level(logging.WARNING, "telnyx_messaging"):
        await client.publish("telnyx:deliveries", b"not json")
        await client.publish("telnyx:deliveries", delivery_webhook("msg-3"))
        outcome = await relay.wait("msg-3", timeout=30)
    assert outcome.delivered
    assert "is not a webhook" in caplog.text
    await client.aclose()


async def test_a_relay_hears_what_was_published_while_redis_was_away(
    redis_server: RedisServer, relay: RedisDeliveryRelay, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis restarts mid-wait; the webhook is published before the listener is back: on
    resubscribing it reads the kept record, and the wait resolves."""
    caplog.set_level(logging.WARNING, "telnyx_messaging")
    waiting = asyncio.ensure_future(relay.wait("msg-4", timeout=60))
    await asyncio.sleep(0.1)
    redis_server.stop()
    await asyncio.sleep(0.3)  # the listener notices, and backs off
    redis_server.start()
    other = await RedisDeliveryRelay.connect(webhooks.DeliveryTracker(), redis_server.url)
    await other.publish(webhooks.parse(delivery_webhook("msg-4")))
    outcome = await waiting
    assert outcome.delivered
    assert "delivery relay lost Redis" in caplog.text
    await other.aclose()


async def test_a_wait_while_redis_is_down_still_waits(
    redis_server: RedisServer, relay: RedisDeliveryRelay, caplog: pytest.LogCaptureFixture
) -> None:
    """The record cannot be read: logged, and the wait goes on (the tracker's own paths)."""
    caplog.set_level(logging.WARNING, "telnyx_messaging")
    redis_server.stop()
    with pytest.raises(webhooks.DeliveryTimeoutError):
        await relay.wait("msg-5", timeout=0.3)
    assert "could not read kept delivery webhooks" in caplog.text


async def test_publishing_while_redis_is_down_answers_500(
    redis_server: RedisServer, relay: RedisDeliveryRelay
) -> None:
    """The receiver asks Telnyx to deliver again, rather than acknowledging an unshared event."""
    receiver = webhooks.WebhookReceiver(
        on_event=relay.publish, public_key=SIGNER.public_key, duplicates=None
    )
    from aiohttp import web

    app = web.Application()
    receiver.add_aiohttp_route(app, "/webhooks")
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks"
    try:
        redis_server.stop()
        async with aiohttp.ClientSession() as session:
            assert await post(session, url, delivery_webhook("msg-6")) == 500
    finally:
        await runner.cleanup()


async def test_wait_needs_a_started_relay_and_a_real_id(redis_server: RedisServer) -> None:
    """Misuse says what to do."""
    relay = await RedisDeliveryRelay.connect(webhooks.DeliveryTracker(), redis_server.url)
    assert repr(relay) == "<RedisDeliveryRelay channel='telnyx:deliveries' not started>"
    with pytest.raises(ConfigurationError, match="start the RedisDeliveryRelay first"):
        await relay.wait("msg")
    await relay.start()
    await relay.start()  # idempotent
    assert "listening" in repr(relay)
    with pytest.raises(InvalidArgumentError, match="non-empty string"):
        await relay.wait("  ")
    await relay.aclose()
    await relay.aclose()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tracker": object()}, "tracker must be a webhooks.DeliveryTracker"),
        ({"channel": ""}, "channel must be a non-empty string"),
        ({"prefix": 3}, "prefix must be a non-empty string"),
        ({"keep_for": 0.5}, "keep_for must be seconds >= 1"),
        ({"keep_for": float("inf")}, "keep_for must be seconds >= 1"),
    ],
)
async def test_bad_options_are_refused(
    redis_server: RedisServer, options: dict[str, object], message: str
) -> None:
    """Checked before anything is started; a client connect() made is closed again."""
    arguments: dict[str, object] = {"tracker": webhooks.DeliveryTracker(), **options}
    tracker = arguments.pop("tracker")
    with pytest.raises(InvalidArgumentError, match=message):
        await RedisDeliveryRelay.connect(tracker, redis_server.url, **arguments)  # type: ignore[arg-type]


async def test_unreachable_redis_at_start(redis_server: RedisServer) -> None:
    """A ConfigurationError without the password."""
    redis_server.stop()
    with pytest.raises(ConfigurationError, match="could not reach Redis") as caught:
        await RedisDeliveryRelay.connect(
            webhooks.DeliveryTracker(), redis_server.url.replace("//", "//:pw@")
        )
    assert "pw@" not in str(caught.value)
