"""``WebhookReceiver`` behind a real loopback aiohttp server: acknowledging, duplicates, limits.

Deliveries are posted the way Telnyx posts them: signed per attempt, given about 2 seconds
for an answer, and retried (three tries) when the answer is late or not 2xx.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import re
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from telnyx_messaging import (
    ConfigurationError,
    InvalidArgumentError,
    WebhookConfigurationError,
    WebhookVerificationError,
    webhooks,
)
from telnyx_messaging.testing._signer import WebhookSigner
from telnyx_messaging.webhooks._policy import Answer

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
SIGNER = WebhookSigner(seed=b"\x05" * 32)
BODY = (EXAMPLES / "message.received.json").read_bytes()
EVENT_ID = "bf6307bd-884d-4c1f-b6ea-c62b8c495d3c"
TELNYX_WINDOW = aiohttp.ClientTimeout(total=2.0)

Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def server() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    """Start apps on 127.0.0.1; give their base URL; clean them up (running on_cleanup)."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def serve(server: Callable[[web.Application], Awaitable[str]]) -> Serve:
    """Serve a receiver at /telnyx and give the URL."""

    async def start(receiver: webhooks.WebhookReceiver) -> str:
        app = web.Application()
        receiver.add_aiohttp_route(app, "/telnyx")
        return await server(app) + "/telnyx"

    return start


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> tuple[int, str, Any]:
    sent = SIGNER.headers(body) if headers is None else headers
    async with session.post(url, data=body, headers=sent, **kwargs) as response:
        return response.status, await response.text(), response.headers


async def deliver(session: aiohttp.ClientSession, url: str, body: bytes) -> list[object]:
    """Post as Telnyx does: a fresh signature per attempt, ~2 s to answer, three tries."""
    outcomes: list[object] = []
    for _ in range(3):
        try:
            async with session.post(
                url, data=body, headers=SIGNER.headers(body), timeout=TELNYX_WINDOW
            ) as response:
                outcomes.append(response.status)
                if 200 <= response.status < 300:
                    break
        except asyncio.TimeoutError:
            outcomes.append("timeout")
    return outcomes


def receiver(**kwargs: Any) -> webhooks.WebhookReceiver:
    kwargs.setdefault("public_key", SIGNER.public_key)
    if "handoff" not in kwargs:
        kwargs.setdefault("on_event", lambda event: None)
    return webhooks.WebhookReceiver(**kwargs)


def problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records at ERROR or above, or with a traceback, from any logger."""
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# -- acknowledging after the callback ------------------------------------------------------


async def test_a_redelivered_event_is_handled_once(serve: Serve, session: Any) -> None:
    """The same event delivered twice (freshly signed) runs the callback once; both get 200."""
    seen: list[str | None] = []
    url = await serve(receiver(on_event=lambda e: seen.append(e.id)))
    first = await post(session, url, BODY)
    second = await post(session, url, BODY)
    assert (first[0], second[0]) == (200, 200)
    assert second[1] == "duplicate: already handled"
    assert seen == [EVENT_ID]


async def test_a_failed_callback_does_not_mark_the_event_seen(serve: Serve, session: Any) -> None:
    """A callback that raised answers 500, and Telnyx's retry of that event is processed."""
    calls: list[str | None] = []

    async def flaky(event: webhooks.WebhookEvent) -> None:
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("database down")

    url = await serve(receiver(on_event=flaky))
    assert await deliver(session, url, BODY) == [500, 200]
    assert calls == [EVENT_ID, EVENT_ID]


async def test_a_slow_callback_is_handled_once_despite_retries(
    serve: Serve, session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A callback past the window makes Telnyx retry; retries get 503, not a second run."""
    # The timer fires 2 s after the callback started; a loaded machine may print 2.1s.
    still_running = re.compile(r"is still running after 2\.\ds")
    calls: list[str | None] = []
    release, first_answered = asyncio.Event(), asyncio.Event()

    async def slow(event: webhooks.WebhookEvent) -> None:
        calls.append(event.id)
        await release.wait()  # a database that takes its time: longer than Telnyx waits

    def on_metric(metric: webhooks.WebhookMetric) -> None:
        if metric.name == "answered" and metric.status == 200:
            first_answered.set()

    url = await serve(receiver(on_event=slow, metrics=on_metric))
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        # The first attempt times out; the retries find it still running: "come back later".
        assert await deliver(session, url, BODY) == ["timeout", 503, 503]
        # The warning comes 2 s after the callback started, a hair after Telnyx gave up.
        for _ in range(200):
            if any(still_running.search(r.getMessage()) for r in caplog.records):
                break
            await asyncio.sleep(0.025)
        release.set()
        await first_answered.wait()  # the first delivery finishes, though nobody waits for it
        assert (await post(session, url, BODY))[:2] == (200, "duplicate: already handled")
    assert calls == [EVENT_ID]
    assert any(still_running.search(r.getMessage()) for r in caplog.records)


async def test_a_duplicate_still_running_is_answered_503(serve: Serve, session: Any) -> None:
    """While the first delivery runs, a second gets 503 and Retry-After, not a second run."""
    started, release = asyncio.Event(), asyncio.Event()

    async def waits(event: webhooks.WebhookEvent) -> None:
        started.set()
        await release.wait()

    url = await serve(receiver(on_event=waits))
    first = asyncio.create_task(post(session, url, BODY))
    await started.wait()
    status, text, headers = await post(session, url, BODY)
    release.set()
    assert (await first)[0] == 200
    assert (status, headers["Retry-After"]) == (503, "1")
    assert "still being handled" in text


async def test_plain_function_callbacks_and_no_guard(serve: Serve, session: Any) -> None:
    """With duplicates=None every delivery runs the callback; plain functions are called."""
    seen: list[webhooks.WebhookEvent] = []
    url = await serve(receiver(on_event=seen.append, duplicates=None))
    assert (await post(session, url, BODY))[0] == 200
    assert (await post(session, url, BODY))[0] == 200
    assert len(seen) == 2


async def test_a_shared_async_guard_is_awaited(serve: Serve, session: Any) -> None:
    """A guard with async methods (as a Redis one has) suppresses duplicates across receivers."""

    class AsyncGuard:
        def __init__(self) -> None:
            self.inner = webhooks.MemoryDuplicateGuard()

        async def claim(self, key: str) -> webhooks.Claim:
            return self.inner.claim(key)

        async def complete(self, key: str) -> None:
            self.inner.complete(key)

        async def release(self, key: str) -> None:
            self.inner.release(key)

    guard = AsyncGuard()
    seen: list[str] = []
    replica_a = await serve(receiver(on_event=lambda e: seen.append("a"), duplicates=guard))
    replica_b = await serve(receiver(on_event=lambda e: seen.append("b"), duplicates=guard))
    assert (await post(session, replica_a, BODY))[0] == 200
    assert (await post(session, replica_b, BODY))[0] == 200
    assert seen == ["a"]


# -- acknowledging on receipt --------------------------------------------------------------


async def test_on_receipt_answers_a_slow_callback_within_the_window(
    server: Callable[[web.Application], Awaitable[str]], session: Any
) -> None:
    """A 3-second callback: Telnyx gets 200 at once, never retries, and the event still runs."""
    done: list[str | None] = []

    async def slow(event: webhooks.WebhookEvent) -> None:
        await asyncio.sleep(3)
        done.append(event.id)

    rx = receiver(on_event=slow, acknowledge="on_receipt")
    app = web.Application()
    rx.add_aiohttp_route(app, "/telnyx")
    url = await server(app) + "/telnyx"
    assert await deliver(session, url, BODY) == [200]
    assert rx.pending == 1
    assert done == []
    await rx.drain()
    assert done == [EVENT_ID]
    assert rx.pending == 0
    assert (await post(session, url, BODY))[1] == "duplicate: already handled"


async def test_shutdown_drains_the_queue(session: Any) -> None:
    """Stopping the aiohttp app waits for queued events: none is lost on a clean shutdown."""
    done: list[str | None] = []
    gate = asyncio.Event()

    async def handle(event: webhooks.WebhookEvent) -> None:
        await gate.wait()
        done.append(event.id)

    rx = receiver(on_event=handle, acknowledge="on_receipt", workers=2)
    app = web.Application()
    rx.add_aiohttp_route(app, "/telnyx")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/telnyx"
    bodies = [BODY.replace(EVENT_ID.encode(), f"event-{i}".encode()) for i in range(5)]
    for body in bodies:
        assert (await post(session, url, body))[0] == 200
    assert rx.pending == 5
    asyncio.get_running_loop().call_later(0.2, gate.set)
    await runner.cleanup()  # on_cleanup closes the receiver, which drains the queue
    assert sorted(done) == [f"event-{i}" for i in range(5)]
    assert rx.pending == 0


async def test_a_full_queue_answers_503_and_the_retry_is_accepted(
    serve: Serve, session: Any
) -> None:
    """Backpressure: past queue_size Telnyx gets 503 (our overload), and may retry later."""
    gate, taken = asyncio.Event(), asyncio.Event()
    done: list[str | None] = []

    async def handle(event: webhooks.WebhookEvent) -> None:
        taken.set()
        await gate.wait()
        done.append(event.id)

    rx = receiver(on_event=handle, acknowledge="on_receipt", queue_size=1, workers=1)
    url = await serve(rx)
    first = BODY.replace(EVENT_ID.encode(), b"first")
    second = BODY.replace(EVENT_ID.encode(), b"second")
    third = BODY.replace(EVENT_ID.encode(), b"third")
    assert (await post(session, url, first))[0] == 200
    await taken.wait()  # the worker took "first" off the queue and waits on the gate
    assert (await post(session, url, second))[0] == 200  # queued
    status, text, headers = await post(session, url, third)
    assert (status, headers["Retry-After"]) == (503, "1")
    assert "queue is full" in text
    gate.set()
    await rx.drain()
    assert (await post(session, url, third))[0] == 200  # released, so the retry is taken
    await rx.drain()
    assert done == ["first", "second", "third"]


async def test_a_failing_background_callback_is_logged_and_released(
    serve: Serve, session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A background failure is logged with type and id (not text) and forgets the event."""
    metrics: list[webhooks.WebhookMetric] = []

    def broken(event: webhooks.WebhookEvent) -> None:
        raise ValueError("Hello there")

    rx = receiver(on_event=broken, acknowledge="on_receipt", metrics=metrics.append)
    url = await serve(rx)
    with caplog.at_level(logging.ERROR, logger="telnyx_messaging"):
        assert (await post(session, url, BODY))[0] == 200
        await rx.drain()
    [record] = [r for r in caplog.records if r.name == "telnyx_messaging"]
    assert "message.received" in record.getMessage()
    assert EVENT_ID in record.getMessage()
    assert "Hello there" not in record.getMessage()
    assert [m.reason for m in metrics if m.name == "failed"] == ["ValueError"]
    assert (await post(session, url, BODY))[1] == ""  # not a duplicate: handled again


async def test_a_closed_receiver_answers_503(serve: Serve, session: Any) -> None:
    """After close(), deliveries are refused with 503 so Telnyx retries elsewhere or later."""
    rx = receiver(acknowledge="on_receipt")
    url = await serve(rx)
    await rx.close()
    await rx.close()  # twice is fine
    await rx.drain()  # nothing was ever queued
    status, text, _ = await post(session, url, BODY)
    assert (status, text) == (503, "shutting down; retry later")


async def test_close_gives_up_after_its_timeout_and_says_so(
    serve: Serve, session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Events still queued when close() times out are logged as lost; workers are stopped."""
    never = asyncio.Event()

    async def stuck(event: webhooks.WebhookEvent) -> None:
        await never.wait()

    rx = receiver(on_event=stuck, acknowledge="on_receipt", workers=1)
    url = await serve(rx)
    assert (await post(session, url, BODY))[0] == 200
    with caplog.at_level(logging.ERROR, logger="telnyx_messaging"):
        await rx.close(timeout=0.1)
    logged = [r.getMessage() for r in caplog.records]
    assert "closed the webhook receiver with 1 events not handled after 0.1s" in logged
    assert any(EVENT_ID in m and "not handled" in m for m in logged)
    assert rx._workers == []
    with pytest.raises(InvalidArgumentError):
        await rx.close(timeout=-1)


async def test_a_receiver_belongs_to_one_event_loop() -> None:
    """Using an on_receipt receiver from a second live loop is refused, not corrupted."""
    rx = receiver(acknowledge="on_receipt")
    queue = rx._start()
    assert rx._start() is queue

    async def use() -> None:
        rx._start()

    with pytest.raises(ConfigurationError, match="another running event loop"):
        await asyncio.to_thread(asyncio.run, use())
    await rx.close()


# -- hand-off ------------------------------------------------------------------------------


async def test_handoff_gets_the_signed_bytes_and_failures_are_retried(
    serve: Serve, session: Any
) -> None:
    """A hand-off receives body and headers that verify again later; a failure answers 500."""
    queue: list[webhooks.VerifiedWebhook] = []

    async def enqueue(webhook: webhooks.VerifiedWebhook) -> None:
        if not queue:
            queue.append(webhook)
            raise ConnectionError("broker down")
        queue.append(webhook)

    url = await serve(receiver(handoff=enqueue))
    assert await deliver(session, url, BODY) == [500, 200]
    stored = queue[-1]
    assert stored.body == BODY
    assert stored.key == EVENT_ID
    again = webhooks.unwrap(
        stored.body, stored.headers, public_key=SIGNER.public_key, tolerance=None
    )
    assert again == stored.event


# -- refusing junk -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_junk_claiming_compression_gets_400_and_one_line(
    serve: Serve, session: Any, caplog: pytest.LogCaptureFixture, encoding: str
) -> None:
    """A body that is not the gzip/deflate it claims gets 400 and one warning line, unsigned."""
    called: list[object] = []
    url = await serve(receiver(on_event=called.append))
    with caplog.at_level(logging.DEBUG):
        status, text, _ = await post(
            session, url, b"not compressed", {"Content-Encoding": encoding}
        )
    assert status == 400
    assert "Content-Encoding" in text
    assert problems(caplog) == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "\n" not in warnings[0].getMessage()
    assert called == []


@pytest.mark.parametrize("compress", [gzip.compress, zlib.compress])
async def test_a_compressed_signed_body_is_accepted(
    serve: Serve, session: Any, compress: Callable[[bytes], bytes]
) -> None:
    """gzip/deflate that is what it claims is undone before the signature is checked."""
    seen: list[webhooks.WebhookEvent] = []
    url = await serve(receiver(on_event=seen.append))
    encoding = "gzip" if compress is gzip.compress else "deflate"
    headers = {**SIGNER.headers(BODY), "Content-Encoding": encoding}
    assert (await post(session, url, compress(BODY), headers))[0] == 200
    assert len(seen) == 1


@pytest.mark.parametrize("encoding", ["br", "x-gzip", "compress"])
async def test_other_encodings_get_415(
    serve: Serve, session: Any, caplog: pytest.LogCaptureFixture, encoding: str
) -> None:
    """A Content-Encoding other than gzip/deflate is refused before the body is read."""
    url = await serve(receiver())
    with caplog.at_level(logging.DEBUG):
        status, _, _ = await post(session, url, BODY, {"Content-Encoding": encoding})
    assert status in (400, 415)  # aiohttp's own parser refuses br/zstd it cannot decode
    assert [r for r in problems(caplog) if r.name.startswith("telnyx")] == []


async def test_bodies_over_the_cap_get_413(serve: Serve, session: Any) -> None:
    """Declared or streamed, a body over max_body_size gets 413 without being kept whole."""
    called: list[object] = []
    url = await serve(receiver(on_event=called.append, max_body_size=1024))
    big = b"x" * 5000
    assert (await post(session, url, big))[0] == 413

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 1000

    status, text, _ = await post(session, url, stream(), SIGNER.headers(b""))  # type: ignore[arg-type]
    assert status == 413
    assert "larger than 1024 bytes" in text
    bomb = gzip.compress(b"{" * 10_000_000)
    assert len(bomb) < 1024 * 20
    status, _, _ = await post(
        session, url, bomb[:1000], {"Content-Encoding": "gzip"}, compress=None
    )
    assert status in (400, 413)  # cut-off gzip: refused either way, never inflated whole
    assert called == []


async def test_a_gzip_bomb_is_refused_at_the_cap() -> None:
    """A small gzip that inflates far past the cap is refused as too large (the pure path)."""
    rx = receiver(max_body_size=1024)
    bomb = gzip.compress(b"0" * 50_000_000)
    answer = rx.gate.open(bomb[:1024], SIGNER.headers(b""), "gzip")
    assert isinstance(answer, Answer)
    assert answer.status == 413


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_header"),
        (lambda: WebhookSigner().headers(BODY), "signature_mismatch"),
        (
            lambda: SIGNER.headers(BODY.replace(b"Hello", b"Jello")),
            "signature_mismatch",
        ),  # tampered
        (
            lambda: {**SIGNER.headers(b"\x00junk"), "telnyx-timestamp": "\u0661\u0662"},
            "malformed_header",
        ),
        (lambda: SIGNER.headers(BODY, timestamp=1), "stale"),
        (lambda: {**SIGNER.headers(BODY), "telnyx-timestamp": "soon"}, "malformed_header"),
        (
            lambda: {**SIGNER.headers(BODY), "telnyx-signature-ed25519": "é" * 88},
            "malformed_header",
        ),
    ],
)
async def test_refusals_are_counted_by_reason(
    serve: Serve, session: Any, headers: dict[str, str], code: str
) -> None:
    """Each refusal gets 401 and a 'refused' metric with a short code, plus an 'answered' one."""
    # Signed now, not at collection: a late test in a long run would be past the tolerance.
    headers = headers() if callable(headers) else headers
    metrics: list[webhooks.WebhookMetric] = []
    url = await serve(receiver(metrics=metrics.append))
    status, _, _ = await post(session, url, BODY, headers)
    assert status == 401
    assert (metrics[0].name, metrics[0].reason) == ("refused", code)
    answered = metrics[-1]
    assert (answered.name, answered.status) == ("answered", 401)
    assert answered.seconds is not None
    assert 0 <= answered.seconds < 2


async def test_metrics_cover_a_delivery_end_to_end(serve: Serve, session: Any) -> None:
    """verified, duplicate, failed and answered (with time to acknowledge) are all reported."""
    metrics: list[webhooks.WebhookMetric] = []
    calls: list[object] = []

    def fails_once(event: webhooks.WebhookEvent) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise KeyError("x")

    url = await serve(receiver(on_event=fails_once, metrics=metrics.append))
    for _ in range(3):
        await post(session, url, BODY)
    names = [m.name for m in metrics]
    assert names == [
        *("verified", "failed", "answered"),
        *("verified", "answered"),
        *("verified", "duplicate", "answered"),
    ]
    assert [m.status for m in metrics if m.name == "answered"] == [500, 200, 200]
    verified = metrics[0]
    assert (verified.event_type, verified.key) == ("message.received", EVENT_ID)
    assert metrics[1].reason == "KeyError"
    assert metrics[6].reason == "done"


async def test_a_broken_metrics_hook_never_breaks_receiving(
    serve: Serve, session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A hook that raises is reported once; webhooks keep being answered."""

    def broken(metric: webhooks.WebhookMetric) -> None:
        raise RuntimeError("statsd down")

    seen: list[object] = []
    url = await serve(receiver(on_event=seen.append, metrics=broken, duplicates=None))
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        for _ in range(2):
            assert (await post(session, url, BODY))[0] == 200
    assert len(seen) == 2
    assert [r.getMessage() for r in caplog.records] == [
        "webhook metrics hook raised RuntimeError; ignoring it"
    ]


async def test_a_verified_body_that_is_no_webhook_gets_400(serve: Serve, session: Any) -> None:
    """A correctly signed body without a data object is refused as unreadable."""
    metrics: list[webhooks.WebhookMetric] = []
    url = await serve(receiver(metrics=metrics.append))
    body = b'{"no": "data"}'
    assert (await post(session, url, body))[:2] == (400, 'webhook body has no "data" object')
    assert metrics[0].reason == "unreadable"


def test_the_pure_checks_refuse_what_adapters_pass_on() -> None:
    """Bad Content-Length, other encodings and other methods are refused before reading."""
    rx = receiver()
    gate = rx.gate
    assert gate.head("GET", None) == Answer(405, "'GET' is not allowed: POST", (("Allow", "POST"),))
    assert gate.head("POST", "12x") is not None
    assert gate.head("POST", "", "Identity") is None
    assert gate.head("POST", "1" * 40) is not None
    refused = gate.head("POST", "10", "br")
    assert refused is not None
    assert refused.status == 415
    junk = gate.open(gzip.compress(b"x") + b"trailing junk", SIGNER.headers(b"x"), "gzip")
    assert isinstance(junk, Answer)
    assert junk.status == 400
    raw_deflate = zlib.compress(BODY)[2:-4]
    opened = gate.open(raw_deflate, SIGNER.headers(BODY), "deflate")
    assert isinstance(opened, webhooks.VerifiedWebhook)
    assert opened.body == BODY


# -- building ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "not a key", [], ["AAAA"]])
def test_a_bad_key_is_a_configuration_error_at_build_time(key: Any) -> None:
    """A missing or malformed key raises when built, as both kinds of error (fails closed)."""
    with pytest.raises(WebhookConfigurationError) as info:
        receiver(public_key=key)
    assert isinstance(info.value, ConfigurationError)
    assert isinstance(info.value, WebhookVerificationError)
    assert info.value.code in ("no_key", "bad_key")
    with pytest.raises(WebhookConfigurationError):
        webhooks.aiohttp_handler(print, public_key=key)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"on_event": print, "handoff": print},
        {"on_event": None},
        {"on_event": "print"},
        {"acknowledge": "later"},
        {"handoff": print, "acknowledge": "on_receipt"},
        {"max_body_size": 0},
        {"queue_size": True},
        {"workers": 1.5},
        {"duplicates": object()},
        {"metrics": 5},
        {"tolerance": -1},
        {"body_timeout": 0},
        {"body_timeout": float("inf")},
        {"body_timeout": "10"},
        {"body_timeout": True},
    ],
)
def test_nonsense_settings_fail_at_build_time(kwargs: dict[str, Any]) -> None:
    """Settings that cannot work are the caller's bug, reported when the receiver is built."""
    with pytest.raises(InvalidArgumentError):
        receiver(**kwargs)


async def test_a_cancelled_delivery_still_finishes_its_callback() -> None:
    """A request the server cancels mid-callback leaves the callback running to its end."""
    started, go_on = asyncio.Event(), asyncio.Event()

    async def slow(event: webhooks.WebhookEvent) -> None:
        started.set()
        await go_on.wait()

    guard = webhooks.MemoryDuplicateGuard()
    rx = receiver(on_event=slow, duplicates=guard)
    task = asyncio.create_task(rx.gate.dispatch(rx.gate.open(BODY, SIGNER.headers(BODY))))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert guard.claim(EVENT_ID) == "processing"
    go_on.set()
    await rx.gate.idle()
    assert guard.claim(EVENT_ID) == "done"


def test_public_keys_built_by_hand_are_checked() -> None:
    """PublicKeys made directly (not by load) still refuses no keys or wrong-sized ones."""
    with pytest.raises(WebhookConfigurationError, match="no public key given"):
        webhooks.PublicKeys(())
    with pytest.raises(WebhookConfigurationError, match="32 raw bytes"):
        webhooks.PublicKeys((b"short",))


def test_a_webhook_only_import_loads_only_what_unwrap_needs() -> None:
    """unwrap() alone loads no asyncio, logging, receiver, gate, duplicate guard or tracker."""
    code = (
        "import sys\n"
        "from telnyx_messaging import webhooks\n"
        "webhooks.unwrap\n"
        "print(sorted(m for m in sys.modules if m in ('asyncio', 'logging', 'aiohttp') or "
        "m.startswith('telnyx_messaging.webhooks._') and not m.endswith(('_events', "
        "'_signature'))))\n"
        "webhooks.WebhookReceiver, webhooks.MemoryDuplicateGuard, webhooks.DeliveryTracker\n"
        "print('asyncio' in sys.modules, 'aiohttp' in sys.modules)"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split("\n")[:2] == ["[]", "True False"]


def test_webhooks_imports_no_web_framework() -> None:
    """Building a receiver and its adapters' modules loads no framework, aiohttp.web or redis."""
    code = (
        "import sys\n"
        "from telnyx_messaging import webhooks\n"
        "from telnyx_messaging.webhooks._adapters import asgi, wsgi\n"
        "webhooks.WebhookReceiver(on_event=print, public_key='A' * 43 + '=')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('starlette', 'fastapi', 'flask', 'werkzeug', 'django', 'redis') or m == 'aiohttp.web'))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


class BrokenGuard:
    """A shared guard whose store is down for some operations."""

    def __init__(self, *, broken: set[str]) -> None:
        self.broken = broken
        self.inner = webhooks.MemoryDuplicateGuard()

    def _maybe_fail(self, name: str) -> None:
        if name in self.broken:
            raise ConnectionError("redis down")

    def claim(self, key: str) -> webhooks.Claim:
        self._maybe_fail("claim")
        return self.inner.claim(key)

    async def complete(self, key: str) -> None:
        self._maybe_fail("complete")
        self.inner.complete(key)

    def release(self, key: str) -> None:
        self._maybe_fail("release")
        self.inner.release(key)


async def test_a_guard_that_is_down_gets_503_not_a_crash(
    serve: Serve, session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """If the shared guard cannot be asked, Telnyx gets 503 (retry later) and nothing runs."""
    seen: list[object] = []
    rx = receiver(on_event=seen.append, duplicates=BrokenGuard(broken={"claim"}))
    url = await serve(rx)
    status, text, headers = await post(session, url, BODY)
    assert (status, headers["Retry-After"]) == (503, "1")
    assert "duplicate guard failed (ConnectionError)" in text
    assert seen == []


@pytest.mark.parametrize("acknowledge", ["after_callback", "on_receipt"])
async def test_a_guard_that_cannot_record_is_logged_and_the_answer_stands(
    serve: Serve, session: Any, caplog: pytest.LogCaptureFixture, acknowledge: str
) -> None:
    """A failed complete/release is logged with what it costs; handling and answers go on."""
    calls: list[object] = []

    def flaky(event: webhooks.WebhookEvent) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("db down")

    guard = BrokenGuard(broken={"complete", "release"})
    rx = receiver(on_event=flaky, duplicates=guard, acknowledge=acknowledge)
    url = await serve(rx)
    with caplog.at_level(logging.ERROR, logger="telnyx_messaging"):
        first = await post(session, url, BODY)
        await rx.drain()
        guard.inner.release(EVENT_ID)  # the store comes back and forgets the stuck key
        second = await post(session, url, BODY)
        await rx.drain()
    assert (first[0], second[0]) == ((500, 200) if acknowledge == "after_callback" else (200, 200))
    assert len(calls) == 2
    messages = [r.getMessage() for r in caplog.records]
    assert any("could not release" in m and "refused until" in m for m in messages)
    assert any("could not complete" in m and "handled again" in m for m in messages)
