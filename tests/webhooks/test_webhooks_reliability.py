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


# -- repeated signature headers, the same answer everywhere --------------------------------


def _asgi_call(
    rx: webhooks.WebhookReceiver, body: bytes, headers: list[tuple[str, str]]
) -> tuple[int, bytes]:
    """Call the ASGI app once, as a server would, and give its status and body."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/telnyx",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
    }
    messages = iter([{"type": "http.request", "body": body, "more_body": False}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(rx.asgi_app()(scope, receive, send))
    return sent[0]["status"], sent[1]["body"]


def _wsgi_call(
    rx: webhooks.WebhookReceiver, body: bytes, headers: list[tuple[str, str]]
) -> tuple[int, bytes]:
    """Call the WSGI app once; repeated headers joined with a comma, as WSGI servers do."""
    import io

    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/telnyx",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    for name, value in headers:
        key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    status: list[str] = []
    out = rx.wsgi_app()(environ, lambda line, _headers: status.append(line))
    return int(status[0].split()[0]), b"".join(out)


async def _aiohttp_call(
    rx: webhooks.WebhookReceiver, body: bytes, headers: list[tuple[str, str]]
) -> tuple[int, bytes]:
    from multidict import CIMultiDict

    app = web.Application()
    rx.add_aiohttp_route(app, "/telnyx")
    server = TestServer(app)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as s:
            url = server.make_url("/telnyx")
            async with s.post(url, data=body, headers=CIMultiDict(headers)) as answer:
                return answer.status, await answer.read()
    finally:
        await server.close()


def _repeated(signature: str, again: str) -> tuple[bytes, list[tuple[str, str]]]:
    _, body = webhook_body()
    signed = SIGNER.headers(body)
    timestamp = signed["telnyx-timestamp"]
    good = signed["telnyx-signature-ed25519"] if signature == "good" else signature
    second = signed["telnyx-signature-ed25519"] if again == "good" else again
    return body, [
        ("telnyx-signature-ed25519", good),
        ("telnyx-signature-ed25519", second),
        ("telnyx-timestamp", timestamp),
    ]


@pytest.mark.parametrize(
    ("first", "second", "status"),
    [
        ("good", "A" * 86 + "==", 401),
        ("A" * 86 + "==", "good", 401),
        ("good", "good", 200),  # a proxy that repeats a header changes nothing
    ],
    ids=["good-then-other", "other-then-good", "same-twice"],
)
def test_adapters_agree_on_a_repeated_signature(first: str, second: str, status: int) -> None:
    """Two different signatures are refused the same way by aiohttp, ASGI and WSGI."""
    body, headers = _repeated(first, second)
    answers = []
    for call in ("aiohttp", "asgi", "wsgi"):
        metrics: list[webhooks.WebhookMetric] = []
        rx = webhooks.WebhookReceiver(
            public_key=SIGNER.public_key, on_event=lambda event: None, metrics=metrics.append
        )
        if call == "aiohttp":
            answers.append(asyncio.run(_aiohttp_call(rx, body, headers)))
        elif call == "asgi":
            answers.append(_asgi_call(rx, body, headers))
        else:
            answers.append(_wsgi_call(rx, body, headers))
        if status != 200:
            assert [m.reason for m in metrics if m.name == "refused"] == ["repeated_header"]
    assert [a[0] for a in answers] == [status] * 3
    assert len({a[1] for a in answers}) == 1


# -- slow and vanishing clients ------------------------------------------------------------


async def _raw_request(port: int, head: bytes, body_part: bytes) -> asyncio.StreamReader:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body_part)
    await writer.drain()
    _WRITERS.append(writer)
    return reader


_WRITERS: list[asyncio.StreamWriter] = []


@pytest.fixture(autouse=True)
async def _close_raw_connections() -> AsyncIterator[None]:
    yield
    while _WRITERS:
        _WRITERS.pop().close()


def _head(length: int) -> bytes:
    return (
        b"POST /telnyx HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(length).encode() + b"\r\n\r\n"
    )


async def test_aiohttp_cuts_a_slow_body_with_408_and_closes(
    serve: Callable[..., Awaitable[str]],
) -> None:
    """A body that does not arrive within body_timeout gets 408 and the connection closed."""
    metrics: list[webhooks.WebhookMetric] = []
    rx = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key,
        on_event=lambda event: None,
        body_timeout=0.3,
        metrics=metrics.append,
    )
    url = await serve(rx)
    port = int(url.split(":")[2].split("/")[0])
    reader = await _raw_request(port, _head(200_000), b"{")
    answer = await asyncio.wait_for(reader.read(), 30)  # read() ends only when closed
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert [m.reason for m in metrics if m.name == "refused"] == ["body_timeout"]


async def test_aiohttp_logs_vanishing_clients_as_their_own_reason_once(
    serve: Callable[..., Awaitable[str]], caplog: pytest.LogCaptureFixture
) -> None:
    """Clients that go away mid-body are counted as 'disconnected', logged once an interval."""
    metrics: list[webhooks.WebhookMetric] = []
    rx = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key, on_event=lambda event: None, metrics=metrics.append
    )
    url = await serve(rx)
    port = int(url.split(":")[2].split("/")[0])
    with caplog.at_level(logging.INFO, logger="telnyx_messaging"):
        for _ in range(5):
            await _raw_request(port, _head(1000), b'{"data"')
            _WRITERS.pop().close()
        await until(lambda: sum(m.name == "refused" for m in metrics) >= 5, "five refusals")
    assert [m.reason for m in metrics if m.name == "refused"] == ["disconnected"] * 5
    lines = [r.getMessage() for r in caplog.records if "disconnect" in r.getMessage()]
    assert len(lines) == 1
    assert not [r for r in caplog.records if "bad_encoding" in r.getMessage()]


def _asgi_run(
    rx: webhooks.WebhookReceiver, messages: list[dict[str, Any]], *, hang: bool
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/telnyx",
        "headers": [(b"content-length", b"1000")],
    }
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        if hang:
            await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(rx.asgi_app()(scope, receive, send))
    return sent


def test_asgi_cuts_a_slow_body_with_408_and_asks_to_close() -> None:
    """Under ASGI the deadline covers receive(): 408, with Connection: close for the server."""
    metrics: list[webhooks.WebhookMetric] = []
    rx = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key,
        on_event=lambda event: None,
        body_timeout=0.2,
        metrics=metrics.append,
    )
    part = {"type": "http.request", "body": b"{", "more_body": True}
    sent = _asgi_run(rx, [part], hang=True)
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert [m.reason for m in metrics if m.name == "refused"] == ["body_timeout"]


def test_asgi_counts_a_disconnect() -> None:
    """A client that goes away mid-body is counted as 'disconnected'; nothing is answered."""
    metrics: list[webhooks.WebhookMetric] = []
    rx = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key, on_event=lambda event: None, metrics=metrics.append
    )
    part = {"type": "http.request", "body": b"{", "more_body": True}
    assert _asgi_run(rx, [part], hang=False) == []
    assert [m.reason for m in metrics if m.name == "refused"] == ["disconnected"]


class TrickleStream:
    """A WSGI input that gives one byte per read, slowly, as a trickling client would."""

    def __init__(self, data: bytes, delay: float) -> None:
        self.data, self.delay = data, delay

    def read(self, size: int = -1) -> bytes:
        import time

        time.sleep(self.delay)
        chunk, self.data = self.data[:1], self.data[1:]
        return chunk


@pytest.mark.parametrize(
    ("stream", "reason", "status"),
    [
        (TrickleStream(b"{" * 1000, 0.02), "body_timeout", 408),
        (TrickleStream(b"{" * 10, 0.0), "disconnected", 400),
    ],
    ids=["trickle", "cut-short"],
)
def test_wsgi_cuts_what_it_can_see(stream: TrickleStream, reason: str, status: int) -> None:
    """Between reads the deadline holds under WSGI too; a body cut short is a disconnect."""
    from telnyx_messaging.webhooks._adapters.wsgi import receive_from_stream

    metrics: list[webhooks.WebhookMetric] = []
    rx = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key,
        on_event=lambda event: None,
        body_timeout=0.2,
        metrics=metrics.append,
    )
    answer = receive_from_stream(
        rx.gate,
        method="POST",
        read=stream.read,
        content_length="1000",
        input_terminated=False,
        content_encoding=None,
        headers={},
        where="/telnyx",
    )
    assert answer.status == status
    assert [m.reason for m in metrics if m.name == "refused"] == [reason]


class RaisingStream:
    """A WSGI input whose read raises what a server's socket timeout or a reset raises."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def read(self, size: int = -1) -> bytes:
        raise self.error


@pytest.mark.parametrize(
    ("error", "reason", "status"),
    [
        (TimeoutError("timed out"), "body_timeout", 408),
        (ConnectionResetError(), "disconnected", 400),
    ],
    ids=["server-timeout", "reset"],
)
def test_wsgi_maps_the_servers_read_errors(error: Exception, reason: str, status: int) -> None:
    """A read ended by the server's timeout is a 408; a reset is a disconnect, not a 500."""
    from telnyx_messaging.webhooks._adapters.wsgi import receive_from_stream

    metrics: list[webhooks.WebhookMetric] = []
    rx = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key, on_event=lambda event: None, metrics=metrics.append
    )
    answer = receive_from_stream(
        rx.gate,
        method="POST",
        read=RaisingStream(error).read,
        content_length="1000",
        input_terminated=False,
        content_encoding=None,
        headers={},
        where="/telnyx",
    )
    assert answer.status == status
    assert [m.reason for m in metrics if m.name == "refused"] == [reason]


def test_wsgi_answers_503_when_the_guard_is_full() -> None:
    """Under WSGI too, an event the guard has no room for gets 503, not a forgotten key."""
    rx = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key,
        on_event=lambda event: None,
        duplicates=webhooks.MemoryDuplicateGuard(max_events=1),
    )
    first, second = webhook_body()[1], webhook_body()[1]
    assert _wsgi_call(rx, first, list(SIGNER.headers(first).items()))[0] == 200
    status, text = _wsgi_call(rx, second, list(SIGNER.headers(second).items()))
    assert status == 503
    assert b"raise max_events" in text


def test_lazy_names_are_listed() -> None:
    """dir(webhooks) shows the names that load on first use, for editors and help()."""
    assert {"WebhookReceiver", "DuplicateGuardFullError", "DeliveryTracker"} <= set(dir(webhooks))


async def test_close_says_when_only_unanswered_requests_remain(
    serve: Callable[..., Awaitable[str]],
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A callback still running when close() gives up was never acknowledged: a warning."""
    started, go_on = asyncio.Event(), asyncio.Event()

    async def slow(event: webhooks.WebhookEvent) -> None:
        started.set()
        await go_on.wait()

    rx = webhooks.WebhookReceiver(public_key=SIGNER.public_key, on_event=slow)
    url = await serve(rx)
    answer = asyncio.create_task(post(session, url, webhook_body()[1]))
    await started.wait()
    assert rx.gate.running == 1
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        await rx.close(timeout=0.05)
    [record] = [r for r in caplog.records if "closed the webhook receiver" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "1 requests still running" in record.getMessage()
    go_on.set()
    assert (await answer)[0] == 200
    assert rx.gate.running == 0
