"""Retries, waits, timeouts and client lifecycle against a real loopback server that misbehaves.

Each fault test pins three things: what the caller gets, how many attempts reached the server
(``fake.requests``), and that every attempt of one send carried the same Idempotency-Key and
the same bytes. ``set_instant_retries()`` (conftest) skips the sleeps but keeps the attempts;
the few tests of a real wait switch it off themselves and keep the waits tiny.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import socket
import time
import warnings
import zlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from typing import Any

import aiohttp
import pytest

from telnyx_messaging import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncClient,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    InvalidArgumentError,
    RateLimitError,
    Timeout,
    UnprocessableEntityError,
    capture_responses,
    set_instant_retries,
)
from telnyx_messaging import _logging as telnyx_logging
from telnyx_messaging.testing import (
    Disconnect,
    FakeTelnyx,
    Hang,
    RecordedRequest,
    Respond,
    Truncate,
)

Call = Callable[[AsyncClient], Awaitable[Any]]

TEXT = "Your code is 424242"  # must never reach a log line
SMS: dict[str, Any] = {"to": "+13125550002", "from_": "+18445550001", "text": TEXT}
HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
LOGGER = "telnyx_messaging"

CREATORS = [
    pytest.param(lambda c: c.messages.send(**SMS), id="send"),
    pytest.param(
        lambda c: c.messages.send(to="+13125550002", messaging_profile_id="p1", text="Hi"),
        id="send-by-profile",
    ),
    pytest.param(
        lambda c: c.messages.send_long_code(from_="+13125551000", to="+13125550002", text="Hi"),
        id="long-code",
    ),
    pytest.param(
        lambda c: c.messages.send_short_code(from_="22222", to="+13125550002", text="Hi"),
        id="short-code",
    ),
    pytest.param(
        lambda c: c.messages.send_number_pool(
            messaging_profile_id="p1", to="+13125550002", text="Hi"
        ),
        id="number-pool",
    ),
    pytest.param(
        lambda c: c.messages.send_group_mms(
            from_="+18445550001", to=["+13125550002", "+13125550003"], text="Hi all"
        ),
        id="group-mms",
    ),
    pytest.param(
        lambda c: c.messages.send_whatsapp(
            from_="+18445550001",
            to="+13125550002",
            whatsapp_message={"type": "text", "text": {"body": "Hi"}},
        ),
        id="whatsapp",
    ),
    pytest.param(
        lambda c: c.messages.schedule(
            to="+13125550002",
            from_="+18445550001",
            text="Later",
            send_at=datetime.now(timezone.utc) + timedelta(hours=1),
        ),
        id="schedule",
    ),
]


def one_key(fake: FakeTelnyx) -> str:
    """The one Idempotency-Key every request carried; fails if they differ or one is missing."""
    keys = {r.idempotency_key for r in fake.requests}
    assert len(keys) == 1, keys
    (key,) = keys
    assert key
    return key


def same_bytes(fake: FakeTelnyx) -> None:
    """Every attempt sent the very same body (built once, never re-encoded)."""
    assert fake.requests
    assert len({r.body for r in fake.requests}) == 1


def retry_waits(caplog: pytest.LogCaptureFixture) -> list[float]:
    """The waits announced by the client's INFO "retrying ..." lines, in order."""
    waits = []
    for record in caplog.records:
        found = re.match(r"retrying \w+ \S+ in (\d+\.\d+)s", record.getMessage())
        if record.name == LOGGER and found:
            assert record.levelno == logging.INFO
            waits.append(float(found.group(1)))
    return waits


@pytest.fixture
def real_sleeps() -> None:
    """Retries really sleep in this test: conftest's instant retries are off until the next test."""
    set_instant_retries(False)


@pytest.fixture
def info_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """caplog with the SDK's logger open at INFO."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    return caplog


# --- which failures are retried ---------------------------------------------------------


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
async def test_transient_status_then_success(
    client: AsyncClient, fake: FakeTelnyx, status: int
) -> None:
    """A retryable status followed by success gives the caller the message after 2 attempts."""
    fake.fail_next(Respond(status, json={"errors": [{"code": "1", "title": "Try again"}]}))

    msg = await client.messages.send(**SMS)

    assert len(fake.requests) == 2
    assert list(fake.messages) == [msg.id]
    one_key(fake)
    same_bytes(fake)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
async def test_transient_status_every_time(
    client: AsyncClient, fake: FakeTelnyx, status: int
) -> None:
    """A retryable status on every attempt raises it after 1 + max_retries attempts."""
    fake.fault_hook = lambda _: Respond(status)

    with pytest.raises(APIStatusError) as caught:
        await client.messages.send(**SMS)

    assert caught.value.status == status
    assert caught.value.attempts == 3
    assert "(after 3 attempts)" in str(caught.value)
    assert len(fake.requests) == 3
    assert fake.messages == {}
    one_key(fake)
    same_bytes(fake)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_final_status_is_attempted_once(
    client: AsyncClient, fake: FakeTelnyx, status: int
) -> None:
    """Other 4xx are the caller's to fix: raised after one attempt, the str says nothing more."""
    fake.fault_hook = lambda _: Respond(status)

    with pytest.raises(APIStatusError) as caught:
        await client.messages.send(**SMS)

    assert caught.value.status == status
    assert caught.value.attempts == 1
    assert "attempts" not in str(caught.value)
    assert len(fake.requests) == 1


async def test_a_send_to_an_opted_out_recipient_is_attempted_once(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """After an inbound STOP, the fake's 409 with error 40300 is raised after one attempt."""
    fake.receive(from_=SMS["to"], to=SMS["from_"], text="STOP")
    inbound = set(fake.messages)  # the STOP itself

    with pytest.raises(ConflictError) as caught:
        await client.messages.send(**SMS)

    assert caught.value.status == 409
    assert caught.value.codes == ("40300",)
    assert caught.value.attempts == 1
    assert "attempts" not in str(caught.value)
    assert len(fake.requests) == 1
    assert set(fake.messages) == inbound

    fake.receive(from_=SMS["to"], to=SMS["from_"], text="START")
    inbound = set(fake.messages)
    msg = await client.messages.send(**SMS)  # the block is lifted: sent at once
    assert set(fake.messages) - inbound == {msg.id}
    assert len(fake.requests) == 2


async def test_should_retry_true_retries_a_400(client: AsyncClient, fake: FakeTelnyx) -> None:
    """x-should-retry: true makes a 400 retryable; the retry succeeds with the same key."""
    fake.fail_next(Respond(400, headers={"x-should-retry": "true"}))

    msg = await client.messages.send(**SMS)

    assert len(fake.requests) == 2
    assert list(fake.messages) == [msg.id]
    one_key(fake)


async def test_should_retry_false_stops_a_503(client: AsyncClient, fake: FakeTelnyx) -> None:
    """x-should-retry: false makes a 503 final after one attempt."""
    fake.fail_next(Respond(503, headers={"x-should-retry": "false"}))

    with pytest.raises(InternalServerError) as caught:
        await client.messages.send(**SMS)

    assert caught.value.attempts == 1
    assert len(fake.requests) == 1


@pytest.mark.parametrize(("max_retries", "attempts"), [(0, 1), (1, 2), (4, 5)])
async def test_max_retries_per_call(
    client: AsyncClient, fake: FakeTelnyx, max_retries: int, attempts: int
) -> None:
    """with_options(max_retries=n) allows exactly n + 1 attempts for calls made through it."""
    fake.fault_hook = lambda _: Respond(503)

    with pytest.raises(InternalServerError) as caught:
        await client.with_options(max_retries=max_retries).messages.send(**SMS)

    assert caught.value.attempts == attempts
    assert len(fake.requests) == attempts
    assert client.max_retries == 2  # the original is untouched


@pytest.mark.parametrize(("max_retries", "attempts"), [(0, 1), (5, 6)])
async def test_max_retries_per_client(fake: FakeTelnyx, max_retries: int, attempts: int) -> None:
    """AsyncClient(max_retries=n) allows exactly n + 1 attempts."""
    fake.fault_hook = lambda _: Respond(502)
    async with AsyncClient(
        api_key=fake.api_key, base_url=fake.base_url, max_retries=max_retries
    ) as client:
        with pytest.raises(InternalServerError) as caught:
            await client.messages.retrieve("m1")

    assert caught.value.attempts == attempts
    assert len(fake.requests) == attempts


async def test_a_final_error_on_a_retry_ends_it(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A retry answered with a final status stops there and reports both attempts."""
    fake.fail_next(Respond(503), Respond(422, json={"errors": [{"code": "40300"}]}))

    with pytest.raises(UnprocessableEntityError) as caught:
        await client.messages.send(**SMS)

    assert caught.value.attempts == 2
    assert caught.value.codes == ("40300",)
    assert len(fake.requests) == 2
    one_key(fake)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"max_retries": -1}, id="negative-retries"),
        pytest.param({"max_retries": True}, id="bool-retries"),
        pytest.param({"max_retries": 2.0}, id="float-retries"),
        pytest.param({"timeout": 0}, id="zero-timeout"),
        pytest.param({"timeout": True}, id="bool-timeout"),
        pytest.param({"timeout": "30"}, id="string-timeout"),
    ],
)
async def test_bad_retry_options_are_refused(client: AsyncClient, options: dict[str, Any]) -> None:
    """Nonsensical retries or timeouts fail at once, in the constructor and in with_options."""
    with pytest.raises(InvalidArgumentError):
        AsyncClient(api_key="KEY_x", **options)
    with pytest.raises(InvalidArgumentError):
        client.with_options(**options)


@pytest.mark.parametrize(
    "fields",
    [{"total": 0}, {"connect": -1.0}, {"per_attempt": float("-inf")}, {"total": "60"}],
)
def test_bad_timeouts_are_refused(fields: dict[str, Any]) -> None:
    """A Timeout field must be a positive number of seconds or None."""
    with pytest.raises(InvalidArgumentError, match="Timeout"):
        Timeout(**fields)


async def test_more_retries_reach_a_late_success(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A per-call max_retries of 5 rides out 5 failures of mixed kinds and sends once."""
    fake.fail_next(
        Respond(503), Disconnect(), Respond(429), Truncate(), Disconnect(after_processing=True)
    )

    msg = await client.with_options(max_retries=5).messages.send(**SMS)

    assert len(fake.requests) == 6
    assert list(fake.messages) == [msg.id]
    one_key(fake)
    same_bytes(fake)


async def test_get_is_retried(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A GET is retried too (retrieve after a 503), and carries no Idempotency-Key."""
    sent = await client.messages.send(**SMS)
    fake.requests.clear()
    fake.fail_next(Respond(503), method="GET")

    got = await client.messages.retrieve(sent.id or "")

    assert got.id == sent.id
    assert [r.method for r in fake.requests] == ["GET", "GET"]
    assert {r.idempotency_key for r in fake.requests} == {None}


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_connection_refused_is_retried(closed_port: int) -> None:
    """Nobody listening raises APIConnectionError after every attempt was made."""
    base_url = f"http://127.0.0.1:{closed_port}/v2"
    async with AsyncClient(api_key="KEY_x", base_url=base_url) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.messages.send(**SMS)

    assert not isinstance(caught.value, APITimeoutError)
    assert caught.value.attempts == 3
    assert "(after 3 attempts)" in str(caught.value)


# --- dropped connections and lost answers -----------------------------------------------


async def test_dropped_before_processing(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A connection dropped after the body was read is retried; one message results."""
    fake.fail_next(Disconnect())

    msg = await client.messages.send(**SMS)

    assert len(fake.requests) == 2
    assert list(fake.messages) == [msg.id]
    one_key(fake)
    same_bytes(fake)


@pytest.mark.parametrize("call", CREATORS)
async def test_lost_answer_is_replayed_not_resent(
    client: AsyncClient, fake: FakeTelnyx, call: Call
) -> None:
    """When the message was created but the answer lost, the retry gets that same message."""
    fake.fail_next(Disconnect(after_processing=True))

    msg = await call(client)

    assert len(fake.requests) == 2
    assert list(fake.messages) == [msg.id]
    assert fake.seen_idempotency_keys == {one_key(fake)}
    same_bytes(fake)


async def test_callers_key_is_reused(client: AsyncClient, fake: FakeTelnyx) -> None:
    """The caller's own Idempotency-Key is the one every attempt carries."""
    fake.fail_next(Disconnect(after_processing=True), Respond(503))

    msg = await client.messages.send(**SMS, idempotency_key="order-1234-reminder")

    assert one_key(fake) == "order-1234-reminder"
    assert len(fake.requests) == 3
    assert list(fake.messages) == [msg.id]
    same_bytes(fake)


async def test_each_send_gets_its_own_key(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Two sends without a key are two messages: the generated key is per call, not per client."""
    fake.fail_next(Respond(503))
    first = await client.messages.send(**SMS)
    fake.fail_next(Respond(503))
    second = await client.messages.send(**SMS)

    keys = [r.idempotency_key for r in fake.requests]
    assert keys[0] == keys[1] != keys[2] == keys[3]
    assert first.id != second.id
    assert len(fake.messages) == 2


async def test_caller_can_resend_with_the_key_after_giving_up(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """After every answer was lost, sending again later with the same key creates nothing new."""
    fake.fault_hook = lambda _: Disconnect(after_processing=True)

    with pytest.raises(APIConnectionError) as caught:
        await client.messages.send(**SMS, idempotency_key="k-1")
    assert caught.value.attempts == 3
    assert len(fake.messages) == 1  # created on the first attempt, replayed to the others

    fake.fault_hook = None
    msg = await client.messages.send(**SMS, idempotency_key="k-1")

    assert list(fake.messages) == [msg.id]
    assert len(fake.requests) == 4
    one_key(fake)


async def test_dropped_every_time(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A connection dropped on every attempt raises APIConnectionError saying how many."""
    fake.fault_hook = lambda _: Disconnect()

    with pytest.raises(APIConnectionError) as caught:
        await client.messages.send(**SMS)

    assert not isinstance(caught.value, APITimeoutError)
    assert caught.value.attempts == 3
    assert "ServerDisconnectedError" in str(caught.value)
    assert "(after 3 attempts)" in str(caught.value)
    assert len(fake.requests) == 3
    one_key(fake)


@pytest.mark.parametrize(("max_retries", "attempts"), [(0, 1), (2, 3)])
async def test_dropped_get_counts_every_request(
    client: AsyncClient, fake: FakeTelnyx, max_retries: int, attempts: int
) -> None:
    """A GET whose connection is dropped is sent exactly as many times as .attempts says."""
    fake.fault_hook = lambda r: Disconnect() if r.method == "GET" else None

    with pytest.raises(APIConnectionError) as caught:
        await client.with_options(max_retries=max_retries).messages.retrieve("m1")

    assert caught.value.attempts == attempts
    assert len(fake.requests) == attempts


# --- answers that are not what they should be ------------------------------------------


async def test_html_with_200_is_not_retried(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A 200 whose body is HTML raises APIResponseValidationError at once: asking again is moot."""
    fake.fail_next(Respond(200, body=HTML, content_type="text/html"))

    with pytest.raises(APIResponseValidationError) as caught:
        await client.messages.send(**SMS)

    assert caught.value.attempts == 1
    assert caught.value.response is not None
    assert caught.value.response.body == HTML
    assert len(fake.requests) == 1


async def test_html_with_502_is_retried(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A proxy's HTML 502 is retried; the retry's JSON answer is what the caller gets."""
    fake.fail_next(Respond(502, body=HTML, content_type="text/html"))

    msg = await client.messages.send(**SMS)

    assert len(fake.requests) == 2
    assert list(fake.messages) == [msg.id]
    one_key(fake)


async def test_html_with_502_every_time(client: AsyncClient, fake: FakeTelnyx) -> None:
    """HTML 502s until the retries run out raise InternalServerError keeping the last body."""
    fake.fault_hook = lambda _: Respond(502, body=HTML, content_type="text/html")

    with pytest.raises(InternalServerError) as caught:
        await client.messages.send(**SMS)

    assert caught.value.attempts == 3
    assert caught.value.response is not None
    assert caught.value.response.body == HTML
    assert caught.value.response.attempt == 3
    assert len(fake.requests) == 3


async def test_truncated_answer_is_retried_safely(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A body cut short is a connection failure; the key makes the retry return the same message."""
    fake.fail_next(Truncate())

    msg = await client.messages.send(**SMS)

    assert len(fake.requests) == 2
    assert list(fake.messages) == [msg.id]  # created by the first attempt, replayed to the second
    one_key(fake)
    same_bytes(fake)


async def test_truncated_every_time(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Truncated answers until the retries run out raise APIConnectionError; still one message."""
    fake.fault_hook = lambda _: Truncate()

    with pytest.raises(APIConnectionError) as caught:
        await client.messages.send(**SMS)

    assert not isinstance(caught.value, APITimeoutError)
    # aiohttp's exception is named, not chained: it holds our request headers (the API key).
    assert caught.value.kind == "ClientPayloadError"
    assert caught.value.__cause__ is None
    assert caught.value.attempts == 3
    assert len(fake.requests) == 3
    assert len(fake.messages) == 1
    one_key(fake)


async def test_truncated_get_is_retried(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A GET whose answer is cut short is retried and succeeds."""
    sent = await client.messages.send(**SMS)
    fake.fail_next(Truncate(), method="GET")

    got = await client.messages.retrieve(sent.id or "")

    assert got == sent
    assert [r.method for r in fake.requests] == ["POST", "GET", "GET"]


async def test_every_attempt_is_captured(client: AsyncClient, fake: FakeTelnyx) -> None:
    """capture_responses sees each attempt's answer, numbered, the failed ones included."""
    fake.fail_next(Respond(503), Respond(429, headers={"retry-after-ms": "0"}))

    with capture_responses() as responses:
        await client.messages.send(**SMS)

    assert [(r.status, r.attempt) for r in responses] == [(503, 1), (429, 2), (200, 3)]


# --- how long to wait -------------------------------------------------------------------


def _in_seconds(seconds: int) -> str:
    return formatdate(time.time() + seconds, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        pytest.param(lambda: {"retry-after-ms": "1500"}, 1.5, id="retry-after-ms"),
        pytest.param(lambda: {"Retry-After": "2"}, 2.0, id="retry-after-seconds"),
        pytest.param(lambda: {"Retry-After": _in_seconds(30)}, 30.0, id="retry-after-date"),
        pytest.param(lambda: {"x-ratelimit-reset": "3"}, 3.0, id="reset-seconds"),
        pytest.param(
            lambda: {"x-ratelimit-reset": str(int(time.time()) + 20)}, 20.0, id="reset-unix-time"
        ),
        pytest.param(dict, None, id="no-header-backoff"),
    ],
)
async def test_rate_limited_then_success(
    client: AsyncClient,
    fake: FakeTelnyx,
    info_logs: pytest.LogCaptureFixture,
    headers: Callable[[], dict[str, str]],
    wait: float | None,
) -> None:
    """A 429 is retried after the wait the server asked for (else our backoff), logged at INFO."""
    fake.fail_next(Respond(429, json={"errors": []}, headers=headers()))

    msg = await client.messages.send(**SMS)

    assert len(fake.requests) == 2
    assert list(fake.messages) == [msg.id]
    one_key(fake)
    (logged,) = retry_waits(info_logs)
    if wait is None:
        assert 0.5 <= logged <= 1.0  # INITIAL_BACKOFF plus up to JITTER
    else:
        assert logged == pytest.approx(wait, abs=1.01)


@pytest.mark.usefixtures("real_sleeps")
@pytest.mark.parametrize("status", [429, 503])
async def test_the_asked_wait_is_really_slept(
    client: AsyncClient, fake: FakeTelnyx, info_logs: pytest.LogCaptureFixture, status: int
) -> None:
    """With real sleeps the retry goes out after retry-after-ms, which replaces the backoff."""
    fake.fail_next(Respond(status, headers={"retry-after-ms": "50"}))

    started = time.monotonic()
    await client.messages.send(**SMS)

    assert time.monotonic() - started >= 0.05  # slept, not skipped
    # The wait chosen, read from the log rather than a wall-clock ceiling, which a loaded
    # machine can overrun: the server's 0.05 s, not the backoff (>= 0.5 s).
    assert retry_waits(info_logs) == [0.05]
    assert len(fake.requests) == 2


@pytest.mark.usefixtures("real_sleeps")
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Retry-After": "30"}, id="retry-after-seconds"),
        pytest.param({"retry-after-ms": "30000"}, id="retry-after-ms"),
        pytest.param({"x-ratelimit-reset": "30"}, id="reset-seconds"),
    ],
)
async def test_a_wait_beyond_the_budget_is_not_slept(
    client: AsyncClient,
    fake: FakeTelnyx,
    info_logs: pytest.LogCaptureFixture,
    headers: dict[str, str],
) -> None:
    """A 429 asking for more than the budget left raises at once, with the wait in retry_after."""
    fake.fail_next(Respond(429, headers=headers))
    budget = client.with_options(timeout=Timeout(total=5))

    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        await budget.messages.send(**SMS)

    assert time.monotonic() - started < 10  # far below the wait asked; wide for a loaded machine
    assert caught.value.retry_after == 30.0
    assert caught.value.attempts == 1
    assert len(fake.requests) == 1
    assert any(
        r.levelno == logging.INFO and "30.00s wait exceeds" in r.getMessage()
        for r in info_logs.records
    )


@pytest.mark.usefixtures("real_sleeps")
async def test_a_date_beyond_the_default_budget_is_not_slept(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """A Retry-After date two minutes away exceeds the default 60 s budget: raised at once."""
    fake.fail_next(Respond(429, headers={"Retry-After": _in_seconds(120)}))

    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        await client.messages.send(**SMS)

    assert time.monotonic() - started < 10  # far below the wait asked; wide for a loaded machine
    assert caught.value.retry_after == pytest.approx(120, abs=2)
    assert caught.value.attempts == 1


@pytest.mark.usefixtures("real_sleeps")
async def test_a_long_wait_after_a_retry_reports_both_attempts(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """When the second failure asks too long a wait, the error counts both attempts."""
    fake.fail_next(
        Respond(503, headers={"retry-after-ms": "10"}), Respond(503, headers={"Retry-After": "90"})
    )

    started = time.monotonic()
    with pytest.raises(InternalServerError) as caught:
        await client.messages.send(**SMS)

    assert time.monotonic() - started < 10  # far below the wait asked; wide for a loaded machine
    assert caught.value.attempts == 2
    assert "(after 2 attempts)" in str(caught.value)
    assert len(fake.requests) == 2


# --- timeouts ---------------------------------------------------------------------------


async def test_default_timeouts_and_retries(fake: FakeTelnyx) -> None:
    """By default a call has 60 s in all, 5 s to connect, and 2 retries."""
    async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        assert client.timeout == Timeout(total=60.0, connect=5.0, per_attempt=None)
        assert client.max_retries == 2


async def test_no_timeout_means_no_budget(fake: FakeTelnyx) -> None:
    """With timeout=None nothing bounds the call, so even a two-minute wait is waited out."""
    fake.fail_next(Respond(429, headers={"Retry-After": "120"}))
    async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url, timeout=None) as client:
        assert client.timeout == Timeout(total=None, connect=None)
        msg = await client.messages.send(**SMS)  # instant retries skip the sleep

    assert list(fake.messages) == [msg.id]
    assert len(fake.requests) == 2


async def test_hang_once_is_retried_in_time(client: AsyncClient, fake: FakeTelnyx) -> None:
    """An attempt hung past per_attempt is abandoned and retried; its late end adds nothing."""
    fake.fail_next(Hang(0.3))
    quick = client.with_options(timeout=Timeout(total=10, per_attempt=0.1))

    msg = await quick.messages.send(**SMS)

    # Two attempts prove the hung one was abandoned: had the client waited out the hang, the
    # first attempt would have succeeded alone. No wall-clock ceiling, which load can overrun.
    assert len(fake.requests) == 2
    await asyncio.sleep(0.35)  # let the abandoned attempt finish on the server
    assert list(fake.messages) == [msg.id]
    one_key(fake)


async def test_hang_every_time_times_out(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Hanging on every attempt raises APITimeoutError after all attempts, well within total."""
    fake.fault_hook = lambda _: Hang(30)
    quick = client.with_options(timeout=Timeout(total=20, per_attempt=0.2))

    started = time.monotonic()
    with pytest.raises(APITimeoutError) as caught:
        await quick.messages.send(**SMS)

    assert time.monotonic() - started < 10  # per_attempt cut each hang; total would be 20 s
    assert isinstance(caught.value, APIConnectionError)
    assert caught.value.attempts == 3
    assert "timed out" in str(caught.value)
    assert "(after 3 attempts)" in str(caught.value)
    assert len(fake.requests) == 3
    one_key(fake)


async def test_total_bounds_a_single_hung_attempt(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Without per_attempt, one hung attempt uses the whole budget and is not retried after it."""
    fake.fault_hook = lambda _: Hang(30)
    quick = client.with_options(timeout=0.3)

    started = time.monotonic()
    with pytest.raises(APITimeoutError) as caught:
        await quick.messages.retrieve("m1")

    assert 0.3 <= time.monotonic() - started < 10  # the budget, not the 30 s hang
    assert caught.value.attempts == 1
    assert len(fake.requests) == 1


async def test_later_attempts_get_only_what_is_left(client: AsyncClient, fake: FakeTelnyx) -> None:
    """After quick failures, a hanging attempt is cut off when the call's total budget ends."""
    fake.fail_next(*[Respond(503, headers={"retry-after-ms": "0"})] * 2)
    fake.fault_hook = lambda _: Hang(30)
    quick = client.with_options(timeout=Timeout(total=0.4), max_retries=5)

    started = time.monotonic()
    with pytest.raises(APITimeoutError) as caught:
        await quick.messages.send(**SMS)

    assert 0.35 <= time.monotonic() - started < 10  # the budget, not the 30 s hang
    assert caught.value.attempts == 3
    assert "(after 3 attempts)" in str(caught.value)
    assert len(fake.requests) == 3
    one_key(fake)


class _Stall(logging.Handler):
    """Blocks the event loop when a retry is announced, as a long GC pause would."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("retrying"):
            time.sleep(self.seconds)


async def test_no_attempt_starts_after_the_budget(
    client: AsyncClient, fake: FakeTelnyx, info_logs: pytest.LogCaptureFixture
) -> None:
    """If the budget ran out between deciding to retry and retrying, nothing more is sent."""
    fake.fail_next(Respond(503, headers={"retry-after-ms": "0"}))
    quick = client.with_options(timeout=Timeout(total=0.2))
    stall = _Stall(0.25)
    logging.getLogger(LOGGER).addHandler(stall)
    try:
        with pytest.raises(APITimeoutError) as caught:
            await quick.messages.send(**SMS)
    finally:
        logging.getLogger(LOGGER).removeHandler(stall)

    assert "budget before attempt 2" in str(caught.value)
    assert caught.value.attempts == 1
    assert len(fake.requests) == 1


# --- logging ----------------------------------------------------------------------------


async def test_retries_are_logged_at_info_with_the_wait(
    client: AsyncClient, fake: FakeTelnyx, info_logs: pytest.LogCaptureFixture
) -> None:
    """Each retry is one INFO line naming the call, the wait, the attempt and the reason."""
    fake.fail_next(Respond(503, headers={"retry-after-ms": "250"}), Disconnect())

    await client.messages.send(**SMS)

    first, second = (r.getMessage() for r in info_logs.records if r.name == LOGGER)
    url = f"{fake.base_url}/messages"
    assert first == f"retrying POST {url} in 0.25s (attempt 1 of 3 failed: 503)"
    backoff = re.escape(f"retrying POST {url} in ") + r"(\d\.\d\d)s"
    reason = re.escape(" (attempt 2 of 3 failed: APIConnectionError)")
    found = re.fullmatch(backoff + reason, second)
    assert found
    assert 1.0 <= float(found.group(1)) <= 1.5  # the second backoff: 2 x INITIAL + jitter


async def test_success_logs_nothing_at_info(
    client: AsyncClient, fake: FakeTelnyx, info_logs: pytest.LogCaptureFixture
) -> None:
    """A call that works first time is silent at INFO."""
    await client.messages.send(**SMS)

    assert [r for r in info_logs.records if r.name == LOGGER] == []


async def test_logs_hold_no_key_and_no_text(
    client: AsyncClient, fake: FakeTelnyx, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, through every kind of failure, no log record holds the API key or the text."""
    caplog.set_level(logging.DEBUG)
    fake.fail_next(Respond(503), Disconnect(), Truncate(), Respond(429), Hang(1))
    patient = client.with_options(max_retries=5, timeout=Timeout(total=30, per_attempt=0.2))

    await patient.messages.send(**SMS)
    fake.fail_next(Respond(429))
    with pytest.raises(RateLimitError):
        await client.with_options(max_retries=0).messages.send(**SMS, idempotency_key="k")

    ours = [r for r in caplog.records if r.name == LOGGER]
    assert {r.levelno for r in ours} == {logging.DEBUG, logging.INFO}
    assert sum("(attempt" in r.getMessage() and r.levelno == logging.DEBUG for r in ours) == 7
    for record in caplog.records:  # aiohttp's included
        everything = record.getMessage() + repr(record.__dict__)
        assert fake.api_key not in everything
        assert TEXT not in everything


@pytest.fixture
def restore_logger() -> Iterator[logging.Logger]:
    """The SDK logger, with its handlers and level put back after the test."""
    logger = logging.getLogger(LOGGER)
    handlers, level = logger.handlers[:], logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


@pytest.mark.parametrize(("value", "debug"), [("debug", True), (" DEBUG ", True), ("info", False)])
async def test_telnyx_log_switches_a_stderr_handler_on(
    fake: FakeTelnyx,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_logger: logging.Logger,
    value: str,
    debug: bool,
) -> None:
    """TELNYX_LOG=debug|info attaches one stderr handler, once, whatever the number of clients."""
    monkeypatch.setattr(telnyx_logging, "_configured", [])
    monkeypatch.setenv("TELNYX_LOG", value)
    before = restore_logger.handlers[:]
    fake.fail_next(Respond(503))

    async with (
        AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
        AsyncClient(api_key=fake.api_key, base_url=fake.base_url),
    ):
        await client.messages.send(**SMS)

    added = [h for h in restore_logger.handlers if h not in before]
    assert len(added) == 1
    assert restore_logger.level == (logging.DEBUG if debug else logging.INFO)
    err = capsys.readouterr().err
    assert "INFO telnyx_messaging: retrying POST" in err
    assert ("DEBUG telnyx_messaging: POST" in err) is debug
    assert fake.api_key not in err
    assert TEXT not in err


@pytest.mark.parametrize("value", ["", "warning", "verbose", "1"])
async def test_other_telnyx_log_values_change_nothing(
    fake: FakeTelnyx,
    monkeypatch: pytest.MonkeyPatch,
    restore_logger: logging.Logger,
    value: str,
) -> None:
    """Any other TELNYX_LOG value leaves logging configuration to the application."""
    monkeypatch.setattr(telnyx_logging, "_configured", [])
    monkeypatch.setenv("TELNYX_LOG", value)
    before = (restore_logger.handlers[:], restore_logger.level)

    async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url):
        pass

    assert (restore_logger.handlers, restore_logger.level) == before


# --- lifecycle --------------------------------------------------------------------------


async def test_closing_twice_is_harmless(fake: FakeTelnyx) -> None:
    """close() may be called again, and after async with, without error."""
    async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        await client.messages.send(**SMS)
        await client.close()
        await client.close()
    await client.close()
    assert client.is_closed


@pytest.mark.parametrize("copy", [False, True])
async def test_a_closed_client_says_so(fake: FakeTelnyx, copy: bool) -> None:
    """A call through a closed client (or its copy) raises ConfigurationError, sending nothing."""
    client = AsyncClient(api_key=fake.api_key, base_url=fake.base_url)
    await client.messages.send(**SMS)
    user = client.with_options(max_retries=0) if copy else client
    await client.close()

    with pytest.raises(ConfigurationError, match="closed"):
        await user.messages.send(**SMS)

    assert user.is_closed
    assert len(fake.requests) == 1


async def test_closing_a_copy_keeps_the_pool(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Closing a with_options copy leaves the original usable."""
    copy = client.with_options(max_retries=0)
    await copy.messages.send(**SMS)
    await copy.close()

    await client.messages.send(**SMS)

    assert not client.is_closed
    assert len(fake.messages) == 2


async def test_a_borrowed_session_is_never_closed(fake: FakeTelnyx) -> None:
    """A caller's aiohttp session survives the client's close, retries and all."""
    async with aiohttp.ClientSession() as session:
        fake.fail_next(Disconnect())
        async with AsyncClient(
            api_key=fake.api_key, base_url=fake.base_url, session=session
        ) as client:
            await client.messages.send(**SMS)
        await client.close()

        assert client.is_closed
        assert not session.closed
        async with session.get(f"{fake.base_url}/messages/x") as answer:
            assert answer.status == 401  # still usable; the client's key is not on it
    assert len(fake.requests) == 3


async def test_no_unclosed_session_warning(fake: FakeTelnyx) -> None:
    """A client used (with retries) and closed leaves nothing for the garbage collector to flag."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = AsyncClient(api_key=fake.api_key, base_url=fake.base_url)
        fake.fail_next(Disconnect(), Truncate())
        await client.messages.send(**SMS)
        await client.close()
        del client
        gc.collect()

    assert [str(w.message) for w in caught] == []


# --- a thousand sends through a flaky server --------------------------------------------


async def test_a_thousand_flaky_sends_each_arrive_once(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """With 20% of first attempts failing (503 or a lost answer), 1000 sends make 1000 messages."""
    first_seen: set[str] = set()
    faulted: dict[str, str] = {}

    def flaky(request: RecordedRequest) -> Respond | Disconnect | None:
        key = request.idempotency_key
        assert key is not None
        if key in first_seen:
            return None
        first_seen.add(key)
        digest = zlib.crc32(key.encode())  # deterministic for a given key
        if digest % 5:
            return None
        faulted[key] = "503" if digest % 2 else "lost"
        return Respond(503) if digest % 2 else Disconnect(after_processing=True)

    fake.fault_hook = flaky
    texts = [f"{TEXT} #{i}" for i in range(1000)]

    # No wall-clock bound: on a loaded 2-core machine this fan-out alone took 8-13 s (1.2 s
    # idle); speed belongs in benchmarks/. Each send still has the client's 60 s budget.
    results = await asyncio.gather(
        *(client.messages.send(to="+13125550002", from_="+18445550001", text=t) for t in texts)
    )

    assert 100 < len(faulted) < 300
    assert "503" in faulted.values()
    assert "lost" in faulted.values()
    # The server's view: 1000 messages, one per send, each key created once.
    assert len(fake.messages) == 1000
    assert sorted(m["text"] for m in fake.messages.values()) == sorted(texts)
    assert {msg.id for msg in results} == set(fake.messages)
    assert [msg.text for msg in results] == texts
    assert fake.seen_idempotency_keys == first_seen
    assert len(first_seen) == 1000
    # The wire's view: exactly one retry per faulted send, with the same key and bytes.
    assert len(fake.requests) == 1000 + len(faulted)
    by_key: dict[str, list[bytes]] = {}
    for request in fake.requests:
        by_key.setdefault(request.idempotency_key or "", []).append(request.body)
    for key, bodies in by_key.items():
        assert len(bodies) == (2 if key in faulted else 1)
        assert len(set(bodies)) == 1
