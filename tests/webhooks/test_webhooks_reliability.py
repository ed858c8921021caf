"""What is acknowledged is handled: closing, duplicates in progress, cancelled handlers.

Each test is one way an event could be acknowledged and then lost, or handled twice, run
against a real loopback aiohttp server (or the ASGI and WSGI apps themselves).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from telnyx_messaging import webhooks
from telnyx_messaging.testing._signer import WebhookSigner

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
SIGNER = WebhookSigner(seed=b"\x19" * 32)
TEMPLATE = (EXAMPLES / "message.received.json").read_bytes()
TEMPLATE_ID = b"bf6307bd-884d-4c1f-b6ea-c62b8c495d3c"


def webhook_body(event_id: str | None = None) -> tuple[str, bytes]:
    """A message.received body with its own event id."""
    event_id = event_id or str(uuid.uuid4())
    return event_id, TEMPLATE.replace(TEMPLATE_ID, event_id.encode())


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition``, tick by tick, with a generous bound for a loaded machine."""
    for _ in range(4000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Serve a receiver at /telnyx on loopback (a plain AppRunner, or aiohttp's TestServer)."""
    runners: list[web.AppRunner] = []
    servers: list[TestServer] = []

    async def start(receiver: webhooks.WebhookReceiver, *, test_server: bool = False) -> str:
        app = web.Application()
        receiver.add_aiohttp_route(app, "/telnyx")
        if test_server:
            server = TestServer(app)  # handler_cancellation=True, as docs/testing.md uses
            await server.start_server()
            servers.append(server)
            return str(server.make_url("/telnyx"))
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}/telnyx"

    yield start
    for server in servers:
        await server.close()
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def post(
    session: aiohttp.ClientSession, url: str, body: bytes, **kwargs: Any
) -> tuple[int, str]:
    async with session.post(url, data=body, headers=SIGNER.headers(body), **kwargs) as answer:
        return answer.status, await answer.text()


class SlowGuard:
    """The Redis recipe's shape: an async guard with a network round trip on each call."""

    def __init__(self, round_trip: float) -> None:
        self.inner = webhooks.MemoryDuplicateGuard()
        self.round_trip = round_trip
        self.claims_started = 0

    async def claim(self, key: str) -> webhooks.Claim:
        self.claims_started += 1
        await asyncio.sleep(self.round_trip)
        return self.inner.claim(key)

    async def complete(self, key: str) -> None:
        await asyncio.sleep(self.round_trip)
        self.inner.complete(key)

    async def release(self, key: str) -> None:
        await asyncio.sleep(self.round_trip)
        self.inner.release(key)


# -- closing -------------------------------------------------------------------------------


async def test_closing_while_claims_are_in_flight_loses_nothing(
    serve: Callable[..., Awaitable[str]],
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Requests waiting on the guard when close() runs get 503 and their claim released."""
    handled: list[str] = []
    guard = SlowGuard(round_trip=0.2)
    metrics: list[webhooks.WebhookMetric] = []
    rx = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key,
        on_event=lambda event: handled.append(event.id),
        acknowledge="on_receipt",
        duplicates=guard,
        metrics=metrics.append,
    )
    url = await serve(rx)
    events = [webhook_body() for _ in range(20)]
    posts = [asyncio.create_task(post(session, url, body)) for _, body in events]
    await until(lambda: guard.claims_started == 20, "20 requests waiting on the guard")
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        await rx.close()
    answers = await asyncio.gather(*posts)
    statuses = {key: status for (key, _), (status, _) in zip(events, answers, strict=True)}
    acknowledged = [key for key, status in statuses.items() if status == 200]
    refused = [key for key, status in statuses.items() if status != 200]
    assert sorted(handled) == sorted(acknowledged)
    assert {status for status, _ in answers} <= {200, 503}
    assert rx.pending == 0
    for key in refused:
        assert guard.inner.claim(key) == "new"  # released: Telnyx's retry will be handled
    closed = [m for m in metrics if m.name == "refused" and m.reason == "closed"]
    assert len(closed) == len(refused)


async def test_close_waits_for_callbacks_already_running(
    serve: Callable[..., Awaitable[str]], session: aiohttp.ClientSession
) -> None:
    """After close() returns, every acknowledged event has finished its callback."""
    finished: list[str] = []
    started = asyncio.Event()

    async def slow(event: webhooks.WebhookEvent) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(str(event.id))

    rx = webhooks.WebhookReceiver(public_key=SIGNER.public_key, on_event=slow)
    url = await serve(rx)
    key, body = webhook_body()
    answer = asyncio.create_task(post(session, url, body))
    await started.wait()
    await rx.close()
    assert finished == [key]
    assert (await answer)[0] == 200


async def test_events_left_after_the_close_timeout_are_logged_by_id(
    serve: Callable[..., Awaitable[str]],
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An acknowledged event that cannot be handled is logged at ERROR with its id."""
    release = asyncio.Event()

    async def stuck(event: webhooks.WebhookEvent) -> None:
        await release.wait()

    rx = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key, on_event=stuck, acknowledge="on_receipt", workers=1
    )
    url = await serve(rx)
    events = [webhook_body() for _ in range(3)]
    for _, body in events:
        assert (await post(session, url, body))[0] == 200
    assert rx.pending == 3
    with caplog.at_level(logging.ERROR, logger="telnyx_messaging"):
        await rx.close(timeout=0.1)
    assert rx.pending == 0
    lost = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    for key, _ in events:
        assert key in lost


# -- a disconnect never cancels the callback ----------------------------------------------


@pytest.mark.parametrize("test_server", [True, False], ids=["TestServer", "AppRunner"])
async def test_a_disconnect_does_not_cancel_the_callback(
    serve: Callable[..., Awaitable[str]], session: aiohttp.ClientSession, test_server: bool
) -> None:
    """Telnyx gives up after its window; the callback still runs to its end, and the retry
    finds the event done instead of running it again."""
    runs: list[str] = []
    finished: list[str] = []

    async def slow(event: webhooks.WebhookEvent) -> None:
        runs.append(str(event.id))
        await asyncio.sleep(0.5)
        finished.append(str(event.id))

    rx = webhooks.WebhookReceiver(public_key=SIGNER.public_key, on_event=slow)
    url = await serve(rx, test_server=test_server)
    key, body = webhook_body()
    with pytest.raises(asyncio.TimeoutError):
        await post(session, url, body, timeout=aiohttp.ClientTimeout(total=0.1))
    await until(lambda: finished == [key], "the callback to finish")
    assert await post(session, url, body) == (200, "duplicate: already handled")
    assert runs == [key]


# -- the guard never forgets what it must remember -----------------------------------------


async def test_a_replay_inside_the_tolerance_runs_nothing_twice(
    serve: Callable[..., Awaitable[str]], session: aiohttp.ClientSession
) -> None:
    """A signed request replayed after many other events is still refused as a duplicate;
    events the guard has no room for get 503 (guard_full) rather than a forgotten key."""
    runs: list[str] = []
    metrics: list[webhooks.WebhookMetric] = []
    rx = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key,
        on_event=lambda event: runs.append(str(event.id)),
        duplicates=webhooks.MemoryDuplicateGuard(max_events=10),
        metrics=metrics.append,
    )
    url = await serve(rx)
    key, body = webhook_body()
    signed = SIGNER.headers(body)  # captured once, replayed as is
    async with session.post(url, data=body, headers=signed) as answer:
        assert answer.status == 200
    others = [await post(session, url, webhook_body()[1]) for _ in range(20)]
    async with session.post(url, data=body, headers=signed) as answer:
        assert (answer.status, await answer.text()) == (200, "duplicate: already handled")
    assert runs.count(key) == 1
    refused = [status for status, _ in others if status != 200]
    assert refused == [503] * 11
    full = [m for m in metrics if m.name == "refused" and m.reason == "guard_full"]
    assert len(full) == 11
