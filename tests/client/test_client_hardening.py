"""The client against hostile or broken servers: close() stops everything, the key stays
unreachable, answers are bounded, failures say what is known (issues 13 and 7)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import gzip
import logging
import math
import time
import traceback
import tracemalloc
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict

import telnyx_messaging
from telnyx_messaging import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    AsyncClient,
    AsyncTransport,
    Attempt,
    ConfigurationError,
    InternalServerError,
    InvalidArgumentError,
    RateLimitError,
    ResponseTooLargeError,
    Timeout,
    new_idempotency_key,
    set_instant_retries,
)
from telnyx_messaging._http.loop import Connection, RequestLoop
from telnyx_messaging._http.retry import retry_after_seconds
from telnyx_messaging.testing import Disconnect, FakeTelnyx, Hang, Respond

SMS = {"to": "+13125550002", "from_": "+18445550001", "text": "hi"}
KEY = "KEY0123456789abcdefSECRET"
PACKAGE = str(Path(telnyx_messaging.__file__).parent)


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until ``check()`` holds (event-driven tests, no tight wall-clock bounds)."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def serve(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[str]:
    """An aiohttp.web server on loopback answering every request with ``handler``."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v2"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def raw_server(answer: bytes) -> AsyncIterator[str]:
    """A TCP server on loopback that reads a request and writes ``answer`` as it is."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                await reader.readexactly(int(line.split(b":")[1]))
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v2"
    finally:
        server.close()
        await server.wait_closed()


# --- a closed client sends nothing more -------------------------------------------------------


async def test_calls_in_flight_at_close_are_not_retried(fake: FakeTelnyx) -> None:
    """close() during five GETs and a bulk update: one request each, no retry, no new pool."""
    client = AsyncClient(api_key=fake.api_key, base_url=fake.base_url)
    message = await client.messages.send(**SMS)
    fake.requests.clear()
    fake.fault_hook = lambda _: Hang(5)  # still hung when close() runs, however slow the box
    calls = [asyncio.ensure_future(client.messages.retrieve(message.id)) for _ in range(5)]
    calls.append(
        asyncio.ensure_future(
            client.messaging_numbers_bulk_updates.create(
                messaging_profile_id="profile-1", numbers=["+13125550002"]
            )
        )
    )
    await eventually(lambda: len(fake.requests) == 6)

    await client.close()
    results = await asyncio.gather(*calls, return_exceptions=True)
    await asyncio.sleep(0.3)  # retries are instant in tests: any would have gone out by now

    assert all(isinstance(r, ConfigurationError) for r in results), results
    assert "closed while this call was under way" in str(results[-1])
    assert len(fake.requests) == 6
    transport = client._connection.transport
    assert transport._session is None  # type: ignore[attr-defined]  # no pool was reopened


async def test_a_call_waiting_to_retry_at_close_sends_nothing_more(fake: FakeTelnyx) -> None:
    """A call sleeping between attempts when close() runs makes no further attempt."""
    set_instant_retries(False)
    client = AsyncClient(api_key=fake.api_key, base_url=fake.base_url)
    fake.fail_next(Respond(503, headers={"retry-after-ms": "300"}))
    call = asyncio.ensure_future(client.messages.send(**SMS))
    await eventually(lambda: len(fake.requests) == 1)

    await client.close()

    with pytest.raises(ConfigurationError, match="closed") as caught:
        await call
    assert isinstance(caught.value.__cause__, InternalServerError)
    await asyncio.sleep(0.1)
    assert len(fake.requests) == 1
    assert len(fake.messages) == 0


async def test_close_ends_a_long_wait_between_attempts(fake: FakeTelnyx) -> None:
    """A call told to wait 30 s before retrying gives up as soon as close() runs."""
    set_instant_retries(False)
    client = AsyncClient(api_key=fake.api_key, base_url=fake.base_url)
    fake.fail_next(Respond(429, headers={"Retry-After": "30"}))
    call = asyncio.ensure_future(client.messages.send(**SMS))
    await eventually(lambda: len(fake.requests) == 1)
    await asyncio.sleep(0.05)  # the call is asleep now

    started = time.monotonic()
    await client.close()
    with pytest.raises(ConfigurationError, match="closed"):
        await call

    assert time.monotonic() - started < 10  # not the 30 s asked for
    assert len(fake.requests) == 1


async def test_a_closed_transport_never_reopens(fake: FakeTelnyx) -> None:
    """The default transport refuses to send once closed, whoever calls it."""
    client = AsyncClient(api_key=fake.api_key, base_url=fake.base_url)
    await client.messages.send(**SMS)
    transport = client._connection.transport
    await client.close()
    loop = RequestLoop(
        Connection.open(transport, {"Authorization": "Bearer x"}, secret="x"),
        base_url=fake.base_url,
        timeout=Timeout(),
        max_retries=2,
    )

    with pytest.raises(ConfigurationError, match="transport is closed"):
        await loop.request("GET", "/messages/x")
    assert len(fake.requests) == 1


# --- the API key is unreachable from any error ------------------------------------------------

# Objects that hold the key by design (they send it): a walk stops at them.
_HOLDERS: tuple[type, ...] = (AsyncClient, RequestLoop, Connection, AsyncTransport)
_OPAQUE = (type, types.ModuleType, types.FunctionType, types.CodeType, types.BuiltinFunctionType)


def _texts_reachable_from(error: BaseException) -> Iterator[str | bytes]:
    """Every string and bytes reachable from ``error``: attributes, chained exceptions, kept
    answers, and in the package's traceback frames their locals and how tracebacks show them."""
    seen: set[int] = set()
    stack: list[Any] = [error]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (str, bytes, bytearray)):
            yield obj
        elif isinstance(obj, types.TracebackType):
            frame = obj.tb_frame
            if frame.f_code.co_filename.startswith(PACKAGE):
                for value in frame.f_locals.values():
                    yield repr(value)  # as traceback's capture_locals shows it
                    if not isinstance(value, _HOLDERS):
                        stack.append(value)
            if obj.tb_next is not None:
                stack.append(obj.tb_next)
        elif isinstance(obj, (types.FrameType, *_OPAQUE, *_HOLDERS)):
            continue
        else:
            stack.extend(gc.get_referents(obj))


def assert_key_unreachable(error: BaseException, key: str = KEY) -> None:
    shown = "".join(
        traceback.TracebackException.from_exception(error, capture_locals=True).format()
    )
    assert key not in shown
    texts = list(_texts_reachable_from(error))
    assert len(texts) > 3  # the walk did reach the error's text
    for text in texts:
        assert (key.encode() if isinstance(text, (bytes, bytearray)) else key) not in text


async def _failure_of(base_url: str, **options: Any) -> APIError:
    async with AsyncClient(api_key=KEY, base_url=base_url, **options) as client:
        with pytest.raises(APIError) as caught:
            await client.messages.send(**SMS)
    return caught.value


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n", id="bad-status-line"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 9000 + b"\r\nContent-Length: 0\r\n\r\n",
            id="header-over-8190-bytes",
        ),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", id="cut-short"),
    ],
)
async def test_aiohttp_failures_do_not_carry_the_key(answer: bytes) -> None:
    """aiohttp's own errors (which hold the request headers) are neither cause nor context."""
    async with raw_server(answer) as base_url:
        error = await _failure_of(base_url)

    assert isinstance(error, APIConnectionError)
    assert error.__cause__ is None
    assert error.__context__ is None
    assert error.kind != "APIConnectionError"  # aiohttp's class is named instead
    assert_key_unreachable(error)


async def test_an_answer_echoing_the_key_is_redacted() -> None:
    """A proxy page that echoes our headers (body and a header) keeps no trace of the key."""

    async def echo(request: web.Request) -> web.Response:
        page = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
        auth = request.headers["Authorization"]
        return web.Response(status=502, text=page, headers={"X-Seen-Auth": auth})

    async with serve(echo) as base_url:
        error = await _failure_of(base_url)

    assert isinstance(error, InternalServerError)
    assert error.attempts == 3
    assert "Bearer [REDACTED]" in str(error)
    assert error.response is not None
    assert b"Bearer [REDACTED]" in error.response.body
    assert error.headers["X-Seen-Auth"] == "Bearer [REDACTED]"
    assert_key_unreachable(error)


async def test_a_2xx_echoing_the_key_is_redacted_in_the_validation_error() -> None:
    """A 200 page that is not JSON and echoes the key: the validation error hides it."""

    async def echo(request: web.Request) -> web.Response:
        return web.Response(status=200, text=f"<p>{request.headers['Authorization']}</p>")

    async with serve(echo) as base_url:
        error = await _failure_of(base_url)

    assert isinstance(error, APIResponseValidationError)
    assert_key_unreachable(error)


async def test_timeouts_and_connection_errors_do_not_carry_the_key(fake: FakeTelnyx) -> None:
    """A timeout, a drop and a refused connection: no error reaches the key."""
    fake.fail_next(Hang(5), Disconnect(), Disconnect())
    async with AsyncClient(
        api_key=fake.api_key, base_url=fake.base_url, timeout=Timeout(total=10, per_attempt=0.2)
    ) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.messages.send(**SMS)
    kinds = [a.error for a in caught.value.history]
    assert kinds[1:] == ["ServerDisconnectedError", "ServerDisconnectedError"]
    assert kinds[0] is not None
    assert "Timeout" in kinds[0]
    assert_key_unreachable(caught.value, fake.api_key)

    with socket_closed() as port:
        error = await _failure_of(f"http://127.0.0.1:{port}/v2", max_retries=1)
    assert isinstance(error, APIConnectionError)
    assert error.request_sent is False
    assert error.outcome_unknown is False  # nothing reached a server
    assert_key_unreachable(error)


@contextlib.contextmanager
def socket_closed() -> Iterator[int]:
    """A loopback port nothing listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


# --- bounded answers --------------------------------------------------------------------------


async def endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    chunk = b" " * 65536
    with contextlib.suppress(ConnectionError):
        while True:
            await response.write(chunk)
    return response


async def test_an_endless_answer_is_cut_at_the_limit() -> None:
    """An endless 200 body raises ResponseTooLargeError at max_response_size, once, in time."""
    calls = 0

    async def counted(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        return await endless(request)

    async with serve(counted) as base_url:
        started = time.monotonic()
        error = await _failure_of(
            base_url, max_response_size=1024 * 1024, timeout=Timeout(total=20)
        )
        elapsed = time.monotonic() - started

    assert isinstance(error, ResponseTooLargeError)
    assert error.limit == 1024 * 1024
    assert "1048576 bytes" in str(error)
    assert error.attempts == 1  # never retried
    assert calls == 1
    assert elapsed < 15  # generous: it took well under a second on loopback


async def test_the_default_limit_bounds_an_endless_answer() -> None:
    """With no option given, an endless answer stops at the documented 10 MiB."""
    async with serve(endless) as base_url:
        error = await _failure_of(base_url, timeout=Timeout(total=30))

    assert isinstance(error, ResponseTooLargeError)
    assert error.limit == 10 * 1024 * 1024


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """100 MiB of zeros, gzip'd to about 100 KB."""
    return gzip.compress(b"\0" * (100 * 1024 * 1024), compresslevel=6)


async def test_a_gzip_bomb_is_stopped_early(gzip_bomb: bytes) -> None:
    """A small gzip body that inflates far past the limit fails without inflating it all."""

    async def bomb(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip_bomb,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    async with serve(bomb) as base_url:
        tracemalloc.start()
        try:
            error = await _failure_of(base_url, max_response_size=1024 * 1024)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert isinstance(error, ResponseTooLargeError)
    assert error.outcome_unknown  # a 200 to a send: the message may exist
    assert peak < 40 * 1024 * 1024  # inflating it all would take 100 MiB


async def test_a_compressed_answer_within_the_limit_is_read(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """A gzip'd answer under the limit is read in chunks and parsed as usual."""
    with telnyx_messaging.capture_responses() as seen:
        original = await client.messages.send(**SMS)
    answer = gzip.compress(seen[-1].body)

    async def gzipped(request: web.Request) -> web.Response:
        return web.Response(
            body=answer, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    async with serve(gzipped) as base_url, AsyncClient(api_key=KEY, base_url=base_url) as other:
        sent = await other.messages.send(**SMS)

    assert sent.id == original.id


async def test_a_declared_length_over_the_limit_fails() -> None:
    """An answer whose Content-Length is over the limit fails without being read."""

    async def large(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000, content_type="application/json")

    async with serve(large) as base_url:
        error = await _failure_of(base_url, max_response_size=4096)
    assert isinstance(error, ResponseTooLargeError)


async def test_a_budget_of_five_seconds_or_more_is_kept(fake: FakeTelnyx) -> None:
    """A 5 s budget ends at 5 s, not at the next whole second of the loop's clock."""
    fake.fail_next(Hang(30))
    loop = asyncio.get_running_loop()
    async with AsyncClient(
        api_key=fake.api_key, base_url=fake.base_url, timeout=5.0, max_retries=0
    ) as client:
        # Start just after a whole second: aiohttp's ceiling would add about 0.95 s.
        await asyncio.sleep(math.ceil(loop.time()) - loop.time() + 0.02)
        started = loop.time()
        with pytest.raises(APIConnectionError):
            await client.messages.send(**SMS)
        elapsed = loop.time() - started

    assert 4.9 <= elapsed < 5.8  # with the ceiling it would be about 5.98


def test_max_response_size_is_checked() -> None:
    """max_response_size must be a whole number of bytes, and only for the default transport."""
    with pytest.raises(InvalidArgumentError, match="max_response_size"):
        AsyncClient(api_key=KEY, max_response_size=0)
    with pytest.raises(ConfigurationError, match="max_response_size"):
        AsyncClient(
            api_key=KEY,
            max_response_size=1,
            transport=telnyx_messaging.MockTransport(lambda r: r.respond()),
        )


# --- an unusable API key is refused up front --------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("KEY\x00abc", id="nul"),
        pytest.param("KEY\x7fabc", id="del"),
        pytest.param("KEY\rabc", id="cr"),
        pytest.param("KEY\nX-Injected: 1", id="lf"),
        pytest.param("KEY\tabc", id="tab"),
        pytest.param("KEY\x1babc", id="escape"),
        pytest.param("KÉY", id="non-ascii"),
        pytest.param(" KEY", id="leading-space"),
    ],
)
def test_a_key_with_control_characters_is_refused(key: str) -> None:
    """A key that cannot be sent as a header fails in the constructor, without quoting it."""
    with pytest.raises(ConfigurationError, match="control characters") as caught:
        AsyncClient(api_key=key)
    assert key not in str(caught.value)


@pytest.mark.parametrize("key", ["KEY\x7fabc", "KEY\x01abc"])
def test_a_key_from_the_environment_is_checked_too(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    """TELNYX_API_KEY with a control character is refused as the argument is."""
    monkeypatch.setenv("TELNYX_API_KEY", key)
    with pytest.raises(ConfigurationError, match="TELNYX_API_KEY"):
        AsyncClient()


def test_a_key_that_is_not_a_string_is_refused() -> None:
    """bytes (a key read from a binary file) is a clear error."""
    with pytest.raises(ConfigurationError, match="must be a string"):
        AsyncClient(api_key=b"KEY")  # type: ignore[arg-type]


# --- Retry-After, read per RFC 9110 -----------------------------------------------------------


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process runs in New York time for the test."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


NOW = 1767225600.0  # 2026-01-01T00:00:00Z


@pytest.mark.usefixtures("new_york")
@pytest.mark.parametrize(
    "date",
    [
        "Thu, 01 Jan 2026 00:00:30 -0000",
        "Thu, 01 Jan 2026 00:00:30 GMT",
        "Thu, 01 Jan 2026 00:00:30 +0000",
    ],
)
def test_http_dates_are_read_in_utc(date: str) -> None:
    """A Retry-After date 30 s ahead is 30 s, whatever the local time zone."""
    assert retry_after_seconds(CIMultiDict({"Retry-After": date}), now=NOW) == 30.0


@pytest.mark.parametrize(
    "value",
    [
        "\u0661\u0662",  # Arabic-Indic 12
        "\uff11\uff12",  # fullwidth 12
        "1e3",
        "nan",
        "inf",
        "-5",
        "0x10",
        "12 s",
        "Thu, 01 Jan 2026 00:00:30 GMT\u0661",
    ],
)
def test_waits_in_anything_but_ascii_digits_are_ignored(value: str) -> None:
    """Non-ASCII digits, exponents and words are not a wait (RFC 9110: 1*DIGIT)."""
    assert retry_after_seconds(CIMultiDict({"Retry-After": value}), now=NOW) is None
    assert retry_after_seconds({"retry-after-ms": value}, now=NOW) is None
    assert retry_after_seconds({"x-ratelimit-reset": value}, now=NOW) is None


@pytest.mark.usefixtures("new_york")
async def test_a_minus_zero_date_over_http_is_waited_as_asked(fake: FakeTelnyx) -> None:
    """Over HTTP, a 429 asking for 2 s with a -0000 date is retried after about 2 s."""
    date = time.strftime("%a, %d %b %Y %H:%M:%S -0000", time.gmtime(time.time() + 2))
    fake.fail_next(Respond(429, headers={"Retry-After": date}))
    waits: list[float] = []
    async with AsyncClient(
        api_key=fake.api_key, base_url=fake.base_url, on_retry=lambda e, w: waits.append(w)
    ) as client:
        await client.messages.send(**SMS)

    assert len(waits) == 1
    assert 0 <= waits[0] <= 3  # not 18,000 s off


# --- cancellation and idempotency keys --------------------------------------------------------


async def test_a_cancelled_send_is_resent_safely_with_its_key(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """A send cancelled in flight may still be created; resending with its key sends it once."""
    key = new_idempotency_key()
    fake.fail_next(Hang(0.3))
    call = asyncio.ensure_future(client.messages.send(**SMS, idempotency_key=key))
    await eventually(lambda: len(fake.requests) == 1)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await eventually(lambda: len(fake.messages) == 1)  # Telnyx created it all the same

    again = await client.messages.send(**SMS, idempotency_key=key)

    assert len(fake.messages) == 1
    assert again.id in fake.messages


def test_new_idempotency_keys_are_uuid4_strings() -> None:
    """The public helper makes distinct, header-safe UUID4 keys."""
    import uuid

    keys = {new_idempotency_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(uuid.UUID(k).version == 4 for k in keys)


# --- failures say what is known ---------------------------------------------------------------


async def test_a_lost_answer_then_503s_is_an_unknown_outcome(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """Lost answer, then 503s: the error says the message may exist and names the key."""
    fake.fail_next(
        Disconnect(after_processing=True),
        Respond(503, headers={"x-request-id": "req-2"}),
        Respond(503, headers={"x-request-id": "req-3"}),
    )
    with pytest.raises(InternalServerError) as caught:
        await client.messages.send(**SMS, idempotency_key="order-42")

    error = caught.value
    assert error.status == 503
    assert error.outcome_unknown
    assert error.retryable
    assert error.idempotency_key == "order-42"
    assert error.request_id == "req-3"
    assert "may have been accepted" in str(error)
    assert "idempotency_key='order-42'" in str(error)
    first, second, third = error.history
    assert (first.number, first.status, first.error) == (1, None, "ServerDisconnectedError")
    assert first.maybe_processed
    assert (second.status, second.request_id, second.maybe_processed) == (503, "req-2", False)
    assert (third.status, third.request_id) == (503, "req-3")
    assert all(isinstance(a, Attempt) and a.elapsed >= 0 for a in error.history)
    assert len(fake.messages) == 1


async def test_refusals_only_are_a_known_outcome(client: AsyncClient, fake: FakeTelnyx) -> None:
    """503 every time: nothing was sent, and the error says nothing about resending."""
    fake.fail_next(Respond(503), Respond(503), Respond(503))
    with pytest.raises(InternalServerError) as caught:
        await client.messages.send(**SMS)

    assert not caught.value.outcome_unknown
    assert caught.value.idempotency_key is not None  # the generated one, for a resend
    assert "outcome is unknown" not in str(caught.value)
    assert [a.status for a in caught.value.history] == [503, 503, 503]


async def test_a_final_error_is_not_retryable(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A 422 is known, final and not retryable."""
    fake.fail_next(Respond(422))
    with pytest.raises(APIStatusError) as caught:
        await client.messages.send(**SMS)

    assert not caught.value.retryable
    assert not caught.value.outcome_unknown
    assert len(caught.value.history) == 1


async def test_a_500_on_a_call_without_a_key_says_to_check(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """A 500 to a bulk update (no Idempotency-Key): check before repeating it."""
    fake.fail_next(Respond(500), Respond(500), Respond(500))
    with pytest.raises(InternalServerError) as caught:
        await client.messaging_numbers_bulk_updates.create(
            messaging_profile_id="p", numbers=["+13125550002"]
        )

    assert caught.value.outcome_unknown
    assert caught.value.idempotency_key is None
    assert "Check before repeating it" in str(caught.value)


async def test_reads_never_have_an_unknown_outcome(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A GET changes nothing: a lost answer does not make its outcome unknown."""
    fake.fail_next(Disconnect(), Disconnect(), Disconnect())
    with pytest.raises(APIConnectionError) as caught:
        await client.messages.retrieve("m-1")

    assert not caught.value.outcome_unknown
    assert caught.value.retryable


async def test_a_429_says_how_long_it_asked_to_wait(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A rate-limit error names the wait Telnyx asked for."""
    fake.fail_next(Respond(429, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimitError, match=r"asked to wait 120s"):
        await client.messages.send(**SMS)


async def test_an_unreadable_2xx_to_a_send_says_not_to_resend_blindly(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """A 200 whose body cannot be a Message: may be accepted, carries key and raw body."""
    fake.fail_next(Respond(200, body=b"<html>OK</html>", content_type="text/html"))
    with pytest.raises(APIResponseValidationError) as caught:
        await client.messages.send(**SMS, idempotency_key="order-7")

    error = caught.value
    assert error.outcome_unknown
    assert error.idempotency_key == "order-7"
    assert error.response is not None
    assert error.response.body == b"<html>OK</html>"
    assert "Do not resend it blindly" in str(error)
    assert "idempotency_key='order-7'" in str(error)


async def test_errors_still_pickle_with_their_history(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """The new attributes cross process boundaries with the error."""
    import pickle

    fake.fail_next(Disconnect(after_processing=True), Respond(503), Respond(503))
    with pytest.raises(InternalServerError) as caught:
        await client.messages.send(**SMS)

    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own object
    assert copy.history == caught.value.history
    assert copy.outcome_unknown
    assert str(copy) == str(caught.value)


# --- retries are quiet unless asked -----------------------------------------------------------


async def test_retries_print_nothing_and_reach_on_retry(
    fake: FakeTelnyx, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Retries write nothing to stderr or other loggers; on_retry sees each one."""
    seen: list[tuple[int, float]] = []
    fake.fail_next(Respond(503), Disconnect())
    async with AsyncClient(
        api_key=fake.api_key,
        base_url=fake.base_url,
        on_retry=lambda error, wait: seen.append((error.attempts, wait)),
    ) as client:
        await client.messages.send(**SMS)

    assert [n for n, _ in seen] == [1, 2]
    assert all(wait > 0 for _, wait in seen)  # the planned wait, though not slept in tests
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_failing_on_retry_hook_ends_the_call(fake: FakeTelnyx) -> None:
    """What on_retry raises propagates: the caller's hook, the caller's error."""

    def broken(error: APIError, wait: float) -> None:
        raise RuntimeError("hook failed")

    fake.fail_next(Respond(503))
    async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url, on_retry=broken) as c:
        with pytest.raises(RuntimeError, match="hook failed"):
            await c.messages.send(**SMS)


def test_on_retry_must_be_callable() -> None:
    """A non-function on_retry is refused at once."""
    with pytest.raises(InvalidArgumentError, match="on_retry"):
        AsyncClient(api_key=KEY, on_retry=3)  # type: ignore[arg-type]


async def test_copies_keep_the_on_retry_hook(fake: FakeTelnyx) -> None:
    """with_options copies report their retries to the same hook."""
    seen: list[float] = []
    fake.fail_next(Respond(503))
    async with AsyncClient(
        api_key=fake.api_key, base_url=fake.base_url, on_retry=lambda e, w: seen.append(w)
    ) as client:
        await client.with_options(max_retries=1).messages.send(**SMS)
    assert len(seen) == 1


async def test_instant_retries_can_be_switched_off_and_restored(fake: FakeTelnyx) -> None:
    """set_instant_retries(False) as a context manager makes retries sleep, then restores."""
    slow = Respond(503, headers={"retry-after-ms": "100"})
    fake.fail_next(slow, slow)
    async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        with set_instant_retries(False):  # two real waits of 0.1 s
            started = time.monotonic()
            await client.messages.send(**SMS)
            assert time.monotonic() - started >= 0.2
        fake.fail_next(Respond(503, headers={"retry-after-ms": "30000"}))
        started = time.monotonic()
        await client.messages.send(**SMS)  # instant again: conftest's setting is back
        assert time.monotonic() - started < 10  # not the 30 s asked; wide for a loaded machine


def test_stamina_is_not_a_dependency() -> None:
    """The retry loop is ours: the package does not need stamina."""
    from importlib.metadata import requires

    assert not any(r.startswith("stamina") for r in requires("telnyx-messaging") or [])


# --- `to` is a phone number -------------------------------------------------------------------


@pytest.mark.parametrize(
    "to",
    [
        "13125550002",
        "+0123456",
        "+1 312 555 0002",
        "+1-312-555-0002",
        "+1234567890123456",
        "+\u0661\u0663\u0661\u0662",
        "+",
        "tel:+13125550002",
        "+13125550002\n",
    ],
)
async def test_a_to_that_is_not_e164_is_refused(
    client: AsyncClient, fake: FakeTelnyx, to: str
) -> None:
    """Every send checks `to` as E.164 before sending, saying what to write."""
    sends: list[Callable[[], Awaitable[object]]] = [
        lambda: client.messages.send(**{**SMS, "to": to}),
        lambda: client.messages.schedule(to=to, from_="+18445550001", text="hi"),
        lambda: client.messages.send_long_code(to=to, from_="+18445550001", text="hi"),
        lambda: client.messages.send_short_code(to=to, from_="12345", text="hi"),
        lambda: client.messages.send_number_pool(to=to, messaging_profile_id="p", text="hi"),
        lambda: client.messages.send_group_mms(
            to=["+13125550003", to], from_="+18445550001", text="hi"
        ),
        lambda: client.messages.send_whatsapp(
            to=to, from_="+18445550001", whatsapp_message={"type": "text"}
        ),
    ]
    for send in sends:
        with pytest.raises(InvalidArgumentError, match=r"E\.164 form.*'\+13125550002'"):
            await send()
    assert fake.requests == []


@pytest.mark.parametrize("to", ["+1", "+447700900123", "+123456789012345", "+8613800138000"])
async def test_every_e164_number_is_accepted(
    client: AsyncClient, fake: FakeTelnyx, to: str
) -> None:
    """Short and long E.164 numbers pass; senders (short codes) are not checked as numbers."""
    await client.messages.send(**{**SMS, "to": to})
    await client.messages.send_short_code(to=to, from_="12345", text="hi")
    assert len(fake.requests) == 2


async def test_a_page_echoing_the_key_is_redacted() -> None:
    """A list call answered with a 200 page that echoes the key: the error hides it."""

    async def echo(request: web.Request) -> web.Response:
        return web.Response(status=200, text=f"<p>{request.headers['Authorization']}</p>")

    async with serve(echo) as base_url, AsyncClient(api_key=KEY, base_url=base_url) as client:
        with pytest.raises(APIResponseValidationError) as caught:
            await client.messaging_optouts.list()

    assert not caught.value.outcome_unknown  # a read
    assert_key_unreachable(caught.value)
