"""messages.send_many over real HTTP: one result per row, bounds, pacing, pauses, stopping, resume.

Most tests run against `BulkServer`, a small aiohttp app written for these checks: it creates a
message once per Idempotency-Key (replaying the answer for a key it has seen), counts what it
created per recipient, counts requests in flight, stamps each arrival, and misbehaves on cue.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import os
import random
import signal
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from telnyx_messaging import (
    AsyncClient,
    BulkStats,
    ConfigurationError,
    InvalidArgumentError,
    MockTransport,
    Request,
    Response,
    SendResult,
    TelnyxError,
    UnprocessableEntityError,
    set_instant_retries,
)
from telnyx_messaging.testing import FakeTelnyx, RateLimits

SENDER = "+18445550001"

#: What the server does with one request: None to answer normally.
Fault = str | None


class BulkServer:
    """POST /v2/messages* on loopback that de-duplicates by Idempotency-Key and keeps score."""

    def __init__(self) -> None:
        self.created: dict[str, dict[str, Any]] = {}  # key -> message
        self.created_per_to: collections.Counter[str] = collections.Counter()
        self.replayed = 0
        self.requests = 0
        self.paths: collections.Counter[str] = collections.Counter()
        self.arrivals: list[tuple[float, str | None]] = []  # (monotonic, from)
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0
        self.fault: Callable[[int, dict[str, Any]], Fault] = lambda n, body: None
        self.after_create: Callable[[], None] = lambda: None
        self.hang_after_create = False
        self.released = asyncio.Event()
        self.answered_429_at: list[float] = []

    async def __aenter__(self) -> BulkServer:
        app = web.Application()
        app.router.add_post("/v2/{path:messages.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v2"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.released.set()
        await self._runner.cleanup()

    def client(self, **options: Any) -> AsyncClient:
        return AsyncClient(api_key="KEY_test", base_url=self.base_url, **options)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = json.loads(await request.read())
        n = self.requests
        self.requests += 1
        self.paths[request.path] += 1
        self.arrivals.append((time.monotonic(), body.get("from")))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            fault = self.fault(n, body)
            if fault == "429":
                self.answered_429_at.append(time.monotonic())
                return _error(429, "10011", "Too many requests", {"retry-after-ms": "50"})
            if fault is not None and fault.startswith("429:"):
                self.answered_429_at.append(time.monotonic())
                wait = fault.split(":")[1]
                return _error(429, "10011", "Too many requests", {"Retry-After": wait})
            if fault == "503":
                return _error(503, "10007", "Unexpected error", {"retry-after-ms": "20"})
            if fault == "503-slow":
                return _error(503, "10007", "Unexpected error", {"retry-after-ms": "300"})
            if fault == "bare-500":
                return web.Response(status=500, text="upstream exploded")
            if fault == "422":
                return _error(422, "40310", "Invalid 'to' address", {})
            if fault == "drop":
                return _drop(request)
            key = request.headers.get("Idempotency-Key") or str(uuid.uuid4())
            message = self.created.get(key)
            if message is None:
                message = self.created[key] = _message(body)
                self.created_per_to[body["to"]] += 1
                self.after_create()
            else:
                self.replayed += 1
            if self.hang_after_create:
                await self.released.wait()
                return _drop(request)
            if fault == "drop-after":
                return _drop(request)
            return web.json_response({"data": message})
        finally:
            self.in_flight -= 1


def _error(status: int, code: str, title: str, headers: dict[str, str]) -> web.Response:
    errors = {"errors": [{"code": code, "title": title, "detail": title}]}
    return web.json_response(errors, status=status, headers=headers)


def _drop(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.close()
    return web.Response()


def _message(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "record_type": "message",
        "from": {"phone_number": body.get("from")},
        "to": [{"phone_number": body["to"], "status": "queued"}],
        "text": body.get("text"),
    }


def rows(count: int, *, senders: tuple[str, ...] = (SENDER,)) -> Iterator[dict[str, Any]]:
    for n in range(count):
        yield {"to": f"+1312{n:07d}", "from_": senders[n % len(senders)], "text": f"Hi #{n}"}


@pytest.fixture
def real_waits() -> Iterator[None]:
    """The run's backoffs and 429 pauses really wait (the suite makes them instant)."""
    with set_instant_retries(False):
        yield


@pytest.fixture
async def server() -> AsyncIterator[BulkServer]:
    async with BulkServer() as s:
        yield s


async def collect(run: Any) -> list[SendResult]:
    return [result async for result in run]


def assert_no_task_left() -> None:
    others = asyncio.all_tasks() - {asyncio.current_task()}
    assert not [t for t in others if "send_many" in t.get_name()], others


# -- one result per row ---------------------------------------------------------------------


async def test_every_row_gets_exactly_one_result_under_random_faults(server: BulkServer) -> None:
    """429s, 503s and connections dropped before or after processing: every row has one result,
    every recipient gets one message, and a row's retries all carry its one key."""
    chaos = random.Random(20260716)
    kinds = ["429", "503", "drop", "drop-after"]
    server.fault = lambda n, body: chaos.choice(kinds) if chaos.random() < 0.2 else None
    async with (
        server.client() as client,
        client.messages.send_many(
            rows(400), concurrency=20, max_attempts=12, pacing="unpaced"
        ) as run,
    ):
        results = await collect(run)
    assert sorted(r.index for r in results) == list(range(400))
    assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
    assert set(server.created_per_to.values()) == {1}
    assert len(server.created_per_to) == 400
    assert server.replayed > 0  # some answers were lost after the message was created
    assert {r.idempotency_key for r in results} == set(server.created)
    # Every request is counted once: a row's attempts, or a 429 that cost it none.
    assert run.stats.attempts == server.requests
    assert sum(r.attempts for r in results) + run.pacing.refused == server.requests
    assert run.stats.sent == 400


async def test_a_failing_send_fails_only_its_row(server: BulkServer) -> None:
    """A 422 is that row's failed result (Telnyx's code and title kept); the others are sent."""
    server.fault = lambda n, body: "422" if body["to"].endswith("7") else None
    async with server.client() as client, client.messages.send_many(rows(50)) as run:
        results = await collect(run)
    failed = sorted(r.index for r in results if not r.ok)
    assert failed == [n for n in range(50) if n % 10 == 7]
    bad = next(r for r in results if not r.ok)
    assert isinstance(bad.error, UnprocessableEntityError)
    assert (bad.error_code, bad.error_title, bad.attempts) == ("40310", "Invalid 'to' address", 1)
    assert run.stats.failed == 5
    assert run.stats.sent == 45


async def test_retries_stop_at_max_attempts(server: BulkServer) -> None:
    """A row that keeps failing with 503 is failed after max_attempts attempts, with one key."""
    server.fault = lambda n, body: "503"
    async with (
        server.client() as client,
        client.messages.send_many(rows(3), max_attempts=4) as run,
    ):
        results = await collect(run)
    assert [r.attempts for r in results] == [4, 4, 4]
    assert server.requests == 12
    assert all(r.error_code == "10007" for r in results)


async def test_rows_that_cannot_be_sent_get_failed_results(server: BulkServer) -> None:
    """A row that is not a mapping, lacks a sender, or names an unknown argument is refused
    with a result saying which row and why; nothing is sent for it and the run goes on."""
    inputs: list[Any] = [
        {"to": "+13125550001", "text": "no sender"},
        "not a mapping",
        {"to": "+13125550002", "from_": SENDER, "text": "x", "colour": "red"},
        {"to": "+13125550003", "from_": SENDER, "text": "fine"},
    ]
    async with server.client() as client, client.messages.send_many(inputs) as run:
        results = {r.index: r for r in await collect(run)}
    assert results[3].ok
    for index in (0, 1, 2):
        error = results[index].error
        assert isinstance(error, InvalidArgumentError)
        assert str(error).startswith(f"row {index}: ")
        assert results[index].attempts == 0
    assert "from_" in str(results[0].error)
    assert "colour" in str(results[2].error)
    assert server.requests == 1


async def test_async_iterables_are_read_lazily(server: BulkServer) -> None:
    """An async generator works as input, and is read no further ahead than the window."""
    read = 0

    async def source() -> AsyncIterator[dict[str, Any]]:
        nonlocal read
        for row in rows(1_000_000):
            read += 1
            yield row

    async with server.client() as client, client.messages.send_many(source(), concurrency=4) as run:
        async for result in run:
            if result.index >= 20:
                break
    assert read < 400  # a window of 2 x concurrency + 256 rows, not a million
    assert run.stats.read == read


async def test_a_million_row_generator_is_never_materialised(server: BulkServer) -> None:
    """Breaking out after a few results leaves the rest of a 1M-row generator unread."""
    source = rows(1_000_000)
    async with server.client() as client, client.messages.send_many(source, concurrency=8) as run:
        async for _ in run:
            break
    assert run.stats.read < 400
    assert next(source)["text"] == f"Hi #{run.stats.read}"  # the generator simply continues


@pytest.mark.parametrize(
    ("via", "path", "row"),
    [
        ("send_number_pool", "/v2/messages/number_pool", {"messaging_profile_id": "p-1"}),
        ("send_short_code", "/v2/messages/short_code", {"from_": "22222"}),
        ("send_long_code", "/v2/messages/long_code", {"from_": SENDER}),
        ("send", "/v2/messages", {"from_": SENDER}),
    ],
)
async def test_every_send_flavour(via: Any, path: str, row: dict[str, Any]) -> None:
    """via= picks the endpoint; each row is sent there with its own key (FakeTelnyx checks)."""
    async with (
        FakeTelnyx() as fake,
        AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
    ):
        source = [{"to": f"+131255500{n:02d}", "text": "hi", **row} for n in range(5)]
        async with client.messages.send_many(source, via=via) as run:
            results = await collect(run)
        assert all(r.ok for r in results)
        assert {r.path for r in fake.requests} == {path.removeprefix("/v2")}
        assert len(fake.seen_idempotency_keys) == 5
        assert len(fake.messages) == 5


# -- bounds and pacing ----------------------------------------------------------------------


async def test_concurrency_bounds_requests_in_flight(server: BulkServer) -> None:
    """The server never sees more than `concurrency` requests at once, and does see that many."""
    server.delay = 0.02
    async with (
        server.client() as client,
        client.messages.send_many(rows(120), concurrency=7, pacing="unpaced") as run,
    ):
        await collect(run)
    assert server.max_in_flight == 7


@pytest.mark.usefixtures("real_waits")
async def test_a_row_waiting_to_retry_holds_no_slot(server: BulkServer) -> None:
    """With one slot, rows behind a row backing off are sent while it waits (its result last)."""
    server.fault = lambda n, body: "503-slow" if n == 0 else None
    async with server.client() as client, client.messages.send_many(rows(6), concurrency=1) as run:
        order = [r.index for r in await collect(run)]
    assert order == [1, 2, 3, 4, 5, 0]


async def test_rate_caps_the_whole_run(server: BulkServer) -> None:
    """rate=20: the server sees no more than ~20 sends a second (a small burst allowed)."""
    async with (
        server.client() as client,
        client.messages.send_many(rows(41), concurrency=10, rate=20) as run,
    ):
        await collect(run)
    times = sorted(t for t, _ in server.arrivals)
    span = times[-1] - times[0]
    assert span >= (41 - 2 - 1) / 20 * 0.9  # 38 sends past the burst of 2, at 20/s
    assert run.stats.rate > 0


async def test_per_sender_rate_caps_each_sender(server: BulkServer) -> None:
    """per_sender_rate=5 with two senders: each sender's sends are ~5/s apart, together ~10/s."""
    senders = ("+18445550001", "+18445550002")
    async with (
        server.client() as client,
        client.messages.send_many(rows(22, senders=senders), per_sender_rate=5) as run,
    ):
        await collect(run)
    for sender in senders:
        times = sorted(t for t, s in server.arrivals if s == sender)
        assert len(times) == 11
        assert times[-1] - times[0] >= 10 / 5 * 0.9
    everything = sorted(t for t, _ in server.arrivals)
    assert everything[-1] - everything[0] < 10 / 5 * 3  # the senders run side by side


@pytest.mark.usefixtures("real_waits")
async def test_one_429_pauses_every_worker(server: BulkServer) -> None:
    """After one 429 with Retry-After: 2, no worker sends until the two seconds have passed."""
    server.fault = lambda n, body: "429:2" if n == 0 else None
    server.delay = 0.01
    async with server.client() as client, client.messages.send_many(rows(30), concurrency=5) as run:
        results = await collect(run)
    assert all(r.ok for r in results)
    (t429,) = server.answered_429_at
    # Requests already in flight when the 429 came back arrive at once (allow a loaded box a
    # second for that); none start in the pause, which ends two seconds after the 429.
    inside = [t for t, _ in server.arrivals if t429 + 1.0 < t < t429 + 1.9]
    assert inside == []
    assert len(server.answered_429_at) == 1  # not one 429 per worker
    stats = run.stats
    assert stats.pauses == 1
    assert stats.paused_seconds >= 1.9
    assert not stats.paused


async def test_instant_retries_make_the_runs_waits_instant_too(server: BulkServer) -> None:
    """Under set_instant_retries (this suite's default) a 429 asking for a minute does not
    stall the run: the pause is counted, not slept."""
    server.fault = lambda n, body: "429:60" if n == 0 else None
    async with server.client() as client, client.messages.send_many(rows(5)) as run:
        results = await asyncio.wait_for(collect(run), 30)
    assert all(r.ok for r in results)
    assert run.stats.pauses == 1


# -- stopping -------------------------------------------------------------------------------


async def test_breaking_out_stops_cleanly(server: BulkServer) -> None:
    """After `break`: no task left, no request after the block, and every row read is either
    a result (taken or left over), not started, or unfinished."""
    server.delay = 0.02
    taken: list[SendResult] = []
    async with server.client() as client:
        async with client.messages.send_many(rows(10_000), concurrency=10) as run:
            async for result in run:
                taken.append(result)
                if len(taken) == 25:
                    break
        assert_no_task_left()
        requests = server.requests
        await asyncio.sleep(0.1)
        assert server.requests == requests  # nothing was sent after the block
    accounted = [r.index for r in taken + run.leftover_results] + run.not_started + run.unfinished
    assert sorted(accounted) == list(range(run.stats.read))
    assert run.not_started
    assert len(run.leftover_results) == requests - len(taken)


async def test_an_exception_in_the_loop_body_stops_the_run(server: BulkServer) -> None:
    """The caller's exception comes out of the block; the run is stopped and nothing is left."""
    server.delay = 0.01

    async def consume(client: AsyncClient) -> Any:
        async with client.messages.send_many(rows(1000), concurrency=5) as run:
            async for _ in run:
                raise KeyError(run)
        return None  # pragma: no cover

    async with server.client() as client:
        with pytest.raises(KeyError) as caught:
            await consume(client)
        assert_no_task_left()
    run = caught.value.args[0]
    assert run.not_started
    assert run.stats.read < 1000


async def test_cancelling_the_consumer_stops_the_run(server: BulkServer) -> None:
    """Cancelling the task that iterates: sends in flight finish, then nothing runs."""
    server.delay = 0.05
    got = asyncio.Event()

    async def consume(client: AsyncClient) -> None:
        async with client.messages.send_many(rows(1000), concurrency=10) as run:
            async for _ in run:
                got.set()

    async with server.client() as client:
        task = asyncio.create_task(consume(client))
        await got.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert_no_task_left()
        assert server.in_flight == 0  # the sends in flight were let finish
        requests = server.requests
        await asyncio.sleep(0.1)
        assert server.requests == requests


async def test_cancelling_twice_cuts_sends_in_flight_short(server: BulkServer) -> None:
    """A second cancel while the run waits for sends in flight cancels them; nothing is left."""
    server.delay = 5.0
    entered = asyncio.Event()

    async def consume(client: AsyncClient) -> Any:
        async with client.messages.send_many(rows(50), concurrency=4) as run:
            entered.set()
            async for _ in run:
                pass  # pragma: no cover - the server never answers in time
        return run  # pragma: no cover

    async with server.client() as client:
        task = asyncio.create_task(consume(client))
        await entered.wait()
        while server.in_flight < 4:  # noqa: ASYNC110 - the server's own counter
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert_no_task_left()


async def test_an_input_that_raises_ends_the_run_with_its_error(server: BulkServer) -> None:
    """The input's exception is raised from `async for` after the rows before it have results."""

    def broken() -> Iterator[dict[str, Any]]:
        yield from rows(30)
        raise OSError("the CSV went away")

    got: list[SendResult] = []

    async def consume(run: Any) -> None:
        async for result in run:
            got.append(result)

    async with server.client() as client, client.messages.send_many(broken()) as run:
        with pytest.raises(OSError, match="went away"):
            await consume(run)
    assert sorted(r.index for r in got) == list(range(30))


async def test_iterating_without_async_with_is_refused(server: BulkServer) -> None:
    """Using the run without `async with` says how to use it instead."""
    async with server.client() as client:
        run = client.messages.send_many(rows(1))
        with pytest.raises(ConfigurationError, match="async with"):
            async for _ in run:
                pass  # pragma: no cover
        await run.aclose()  # harmless on a run never started
        assert run.stats.read == 0
        async with run:
            pass
        with pytest.raises(ConfigurationError, match="once"):
            await run.__aenter__()
    with pytest.raises(ConfigurationError, match="closed"):
        async with client.messages.send_many(rows(1)):
            pass  # pragma: no cover


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 101}, "pool of 100"),
        ({"rate": -1}, "rate must be"),
        ({"per_sender_rate": float("nan")}, "per_sender_rate must be"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"via": "send_carrier_pigeon"}, "via must be one of"),
        ({"progress_interval": 0}, "progress_interval"),
        ({"on_progress": 42}, "on_progress"),
    ],
)
async def test_bad_options_are_refused_before_anything_runs(
    server: BulkServer, options: dict[str, Any], message: str
) -> None:
    """Each bad option raises InvalidArgumentError saying which option and what it takes."""
    async with server.client() as client:
        with pytest.raises(InvalidArgumentError, match=message):
            client.messages.send_many(rows(1), **options)
        with pytest.raises(InvalidArgumentError, match="iterable"):
            client.messages.send_many("+13125550001")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="single mapping"):
            client.messages.send_many({"to": "+13125550001"})  # type: ignore[arg-type]
    assert server.requests == 0


async def test_a_large_concurrency_is_fine_with_a_large_pool(server: BulkServer) -> None:
    """concurrency above the default pool works once the client's pool is as large."""
    async with (
        server.client(max_connections=300) as client,
        client.messages.send_many(rows(10), concurrency=300) as run,
    ):
        assert len(await collect(run)) == 10


# -- progress -------------------------------------------------------------------------------


async def test_progress_hook_sees_counts_rate_and_eta(server: BulkServer) -> None:
    """The hook is called while the run goes and once at the end, with counts that add up."""
    server.delay = 0.01
    seen: list[BulkStats] = []
    async with (
        server.client() as client,
        client.messages.send_many(
            list(rows(60)), concurrency=2, on_progress=seen.append, progress_interval=0.05
        ) as run,
    ):
        await collect(run)
    assert len(seen) >= 2
    final = seen[-1]
    assert (final.total, final.done, final.sent, final.read) == (60, 60, 60, 60)
    assert final.eta == 0
    assert final.pending == 0
    assert any(s.pending > 0 for s in seen[:-1])
    assert any(s.eta is not None and s.eta > 0 for s in seen[:-1])
    assert all(a.done <= b.done for a, b in itertools.pairwise(seen))


def test_eta_is_zero_once_every_row_is_done_even_at_rate_zero() -> None:
    """A run whose rows all came from the journal (rate 0) has an eta of 0, not unknown."""
    stats = BulkStats(
        total=3, read=3, sent=0, failed=0, skipped=3, in_flight=0, retrying=0, attempts=0,
        elapsed=0.1, rate=0.0, paused=False, paused_seconds=0.0, pauses=0,
    )  # fmt: skip
    assert stats.eta == 0
    unfinished = BulkStats(
        total=3, read=3, sent=0, failed=0, skipped=2, in_flight=1, retrying=0, attempts=0,
        elapsed=0.1, rate=0.0, paused=False, paused_seconds=0.0, pauses=0,
    )  # fmt: skip
    assert unfinished.eta is None


async def test_a_failing_progress_hook_ends_the_run(server: BulkServer) -> None:
    """An exception in the hook is raised from `async for`, the run stopped."""

    def hook(stats: BulkStats) -> None:
        raise RuntimeError("progress bar broke")

    server.delay = 0.02
    async with server.client() as client:
        async with client.messages.send_many(
            rows(1000), on_progress=hook, progress_interval=0.05
        ) as run:
            with pytest.raises(RuntimeError, match="progress bar"):
                await collect(run)
        assert_no_task_left()
    assert run.stats.read < 1000


# -- the journal ----------------------------------------------------------------------------


async def test_resume_skips_finished_rows_and_resends_the_rest_with_their_keys(
    server: BulkServer, tmp_path: Path
) -> None:
    """A run stopped halfway and started again on its journal sends each message once."""
    journal = tmp_path / "campaign.db"
    server.delay = 0.01
    async with server.client() as client:
        async with client.messages.send_many(rows(200), concurrency=10, journal=journal) as run:
            async for result in run:
                if result.index > 50:
                    break
        first_keys = set(server.created)
        async with client.messages.send_many(rows(200), concurrency=10, journal=journal) as again:
            results = await collect(again)
    assert sorted(r.index for r in results) == list(range(200))
    assert all(r.ok for r in results)
    resumed = [r for r in results if r.resumed]
    assert resumed
    assert again.stats.skipped == len(resumed)
    assert all(r.message_id for r in resumed)
    assert set(server.created_per_to.values()) == {1}
    assert len(server.created) == 200
    # Every key created in the first run was known to the second: no recipient got a new key.
    assert first_keys <= {r.idempotency_key for r in results}


async def test_retry_failed_resends_with_the_same_key(server: BulkServer, tmp_path: Path) -> None:
    """Rows whose answers never came (timed out) are failed and skipped on resume, unless
    retry_failed: then they are resent with their keys and the server replays the messages it
    created instead of creating more."""
    journal = tmp_path / "j.db"
    server.hang_after_create = True
    async with server.client(timeout=0.3, max_retries=0) as client:
        async with client.messages.send_many(rows(3), journal=journal) as run:
            results = await collect(run)
        assert {type(r.error).__name__ for r in results} == {"APITimeoutError"}
        server.hang_after_create = False
        async with client.messages.send_many(rows(3), journal=journal) as again:
            skipped = await collect(again)  # failed rows are finished: not sent again...
        assert all(r.resumed and not r.ok and r.attempts == 1 for r in skipped)
        assert len(skipped) == 3
        async with client.messages.send_many(rows(3), journal=journal, retry_failed=True) as third:
            retried = await collect(third)  # ...unless asked to
    assert all(r.ok and not r.resumed for r in retried)
    assert server.replayed == 3
    assert len(server.created) == 3
    assert {r.idempotency_key for r in retried} == {r.idempotency_key for r in results}


async def test_a_changed_input_is_refused(server: BulkServer, tmp_path: Path) -> None:
    """Row 5 edited since the journal was written: the run refuses it, naming the row."""
    journal = tmp_path / "j.db"
    async with server.client() as client:
        async with client.messages.send_many(rows(10), journal=journal) as run:
            await collect(run)
        edited = list(rows(10))
        edited[5]["text"] = "changed"
        async with client.messages.send_many(edited, journal=journal) as again:
            with pytest.raises(InvalidArgumentError, match="row 5 of the input"):
                await collect(again)
    assert server.requests == 10


async def test_a_journal_is_used_by_one_run_at_a_time(server: BulkServer, tmp_path: Path) -> None:
    """A second run on a journal in use is refused; another method on it is refused too."""
    journal = tmp_path / "j.db"
    async with server.client() as client:
        async with client.messages.send_many(rows(1), journal=journal) as run:
            with pytest.raises(ConfigurationError, match="in use by another run"):
                async with client.messages.send_many(rows(1), journal=journal):
                    pass  # pragma: no cover
            await collect(run)
        with pytest.raises(InvalidArgumentError, match=r"messages\.send_short_code"):
            async with client.messages.send_many(rows(1), journal=journal, via="send_short_code"):
                pass  # pragma: no cover
        (tmp_path / "junk.db").write_bytes(b"not sqlite" * 100)
        with pytest.raises(ConfigurationError, match="not a journal"):
            async with client.messages.send_many(rows(1), journal=tmp_path / "junk.db"):
                pass  # pragma: no cover


async def test_own_idempotency_keys_are_kept(server: BulkServer, tmp_path: Path) -> None:
    """A row's own idempotency_key is the one sent and journaled."""
    source = [{**row, "idempotency_key": f"order-{n}"} for n, row in enumerate(rows(3))]
    async with (
        server.client() as client,
        client.messages.send_many(source, journal=tmp_path / "j.db") as run,
    ):
        results = await collect(run)
    assert {r.idempotency_key for r in results} == {"order-0", "order-1", "order-2"}
    assert set(server.created) == {"order-0", "order-1", "order-2"}


RESUMABLE = """
import asyncio, sys
from telnyx_messaging import AsyncClient

async def main() -> None:
    rows = (
        {"to": f"+1312{n:07d}", "from_": "+18445550001", "text": f"Hi #{n}"}
        for n in range(int(sys.argv[2]))
    )
    async with AsyncClient(api_key="KEY_test", base_url=sys.argv[1], timeout=5) as client:
        async with client.messages.send_many(rows, concurrency=20, journal=sys.argv[3]) as run:
            async for result in run:
                assert result.ok, result
    print("finished", run.stats.sent, run.stats.skipped, flush=True)

asyncio.run(main())
"""


async def test_a_run_killed_halfway_and_resumed_sends_every_message_once(
    server: BulkServer, tmp_path: Path
) -> None:
    """SIGKILL a process mid-campaign (some answers lost in flight), start it again on the same
    journal: the server created each of the 400 messages exactly once."""
    total = 400
    journal = tmp_path / "campaign.db"
    script = tmp_path / "campaign.py"
    script.write_text(RESUMABLE)
    halfway = asyncio.Event()

    def note() -> None:
        if len(server.created) >= total // 2:
            server.hang_after_create = True  # answers from here on are lost in flight
            halfway.set()

    server.after_create = note
    args = [str(script), server.base_url, str(total), str(journal)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    first = await asyncio.create_subprocess_exec(sys.executable, *args, env=env)
    await asyncio.wait_for(halfway.wait(), 60)
    await asyncio.sleep(0.2)  # let a few more be created and left unanswered
    first.send_signal(signal.SIGKILL)
    await first.wait()
    assert first.returncode == -signal.SIGKILL
    created_before = len(server.created)
    assert created_before < total

    server.after_create = lambda: None
    server.hang_after_create = False
    server.released.set()
    second = await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(second.communicate(), 120)
    assert second.returncode == 0
    _, sent, skipped = out.decode().split()
    assert int(sent) + int(skipped) == total
    assert int(skipped) > 0
    assert server.replayed > 0  # rows in flight at the kill were resent with their keys
    assert len(server.created_per_to) == total
    assert set(server.created_per_to.values()) == {1}


async def test_errors_from_the_run_are_telnyx_errors(server: BulkServer) -> None:
    """Run-level refusals belong to the SDK's exception tree."""
    async with server.client() as client:
        with pytest.raises(TelnyxError):
            client.messages.send_many(rows(1), concurrency=-1)


async def test_failures_without_telnyx_details_get_a_title(server: BulkServer) -> None:
    """A dropped connection and a bare 500 become failed results titled by what happened."""
    server.fault = lambda n, body: "drop" if body["to"].endswith("0") else "bare-500"
    async with (
        server.client() as client,
        client.messages.send_many(rows(2), max_attempts=1) as run,
    ):
        results = {r.index: r for r in await collect(run)}
    assert (results[0].error_code, results[0].error_title) == (None, "APIConnectionError")
    assert (results[1].error_code, results[1].error_title) == (None, "HTTP 500")


@pytest.mark.usefixtures("real_waits")
async def test_rows_waiting_to_retry_when_stopped_are_unfinished(server: BulkServer) -> None:
    """Rows backing off when the caller leaves are reported unfinished (tried, no outcome)."""
    server.fault = lambda n, body: (
        "503-slow" if body["to"] in ("+13120000000", "+13120000001") else None
    )
    async with server.client() as client:
        async with client.messages.send_many(rows(10), concurrency=2) as run:
            async for result in run:
                assert result.index >= 2
                break
        assert_no_task_left()
    assert run.unfinished == [0, 1]


@pytest.mark.usefixtures("real_waits")
async def test_rows_failing_in_flight_as_the_run_stops_are_unfinished(
    server: BulkServer, tmp_path: Path
) -> None:
    """A retryable failure that comes back while the run stops leaves its row unfinished, not
    failed: resuming the journal sends it again with its key."""
    server.delay = 0.1
    server.fault = lambda n, body: "503" if body["to"] != "+13120000000" else None
    journal = tmp_path / "j.db"
    async with server.client() as client:
        async with client.messages.send_many(rows(3), concurrency=3, journal=journal) as run:
            async for result in run:
                assert result.index == 0
                break
        assert run.unfinished == [1, 2]
        server.fault = lambda n, body: None
        async with client.messages.send_many(rows(3), journal=journal) as again:
            results = {r.index: r for r in await collect(again)}
    assert results[0].resumed
    assert results[1].ok
    assert not results[1].resumed
    assert len(server.created) == 3


async def test_a_borrowed_session_is_not_second_guessed(server: BulkServer) -> None:
    """With a session of the caller's own, the run cannot see the pool and takes concurrency as
    given."""
    async with (
        aiohttp.ClientSession() as session,
        server.client(session=session) as client,
        client.messages.send_many(rows(5), concurrency=500) as run,
    ):
        assert len(await collect(run)) == 5


async def test_a_journal_resumes_schedules_with_datetimes(
    server: BulkServer, tmp_path: Path
) -> None:
    """Rows holding datetimes (send_at) hash the same on every run, so resuming skips them."""
    when = datetime(2030, 1, 1, 12, tzinfo=timezone.utc)
    source = [{**row, "send_at": when} for row in rows(4)]
    journal = tmp_path / "j.db"
    async with server.client() as client:
        async with client.messages.send_many(source, via="schedule", journal=journal) as run:
            assert all(r.ok for r in await collect(run))
        async with client.messages.send_many(source, via="schedule", journal=journal) as again:
            assert all(r.resumed for r in await collect(again))
    assert server.paths["/v2/messages/schedule"] == 4


@pytest.mark.parametrize("make", ["directory", "old-format"])
async def test_journals_that_cannot_be_used_are_refused(
    server: BulkServer, tmp_path: Path, make: str
) -> None:
    """A directory, or a journal of another format, is a ConfigurationError naming the file."""
    path = tmp_path / "j.db"
    if make == "directory":
        path.mkdir()
    else:
        async with (
            server.client() as client,
            client.messages.send_many(rows(1), journal=path) as run,
        ):
            await collect(run)
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET value = '0' WHERE name = 'format'")
        db.close()
    async with server.client() as client:
        with pytest.raises(ConfigurationError, match=r"j\.db"):
            async with client.messages.send_many(rows(1), journal=path):
                pass  # pragma: no cover


async def test_pauses_and_retries_are_logged(
    server: BulkServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A 429 pause is logged at INFO and a row's retry at DEBUG, on the package's logger."""
    server.fault = lambda n, body: {0: "429", 1: "503"}.get(n)
    caplog.set_level(logging.DEBUG, logger="telnyx_messaging")
    async with server.client() as client, client.messages.send_many(rows(2), concurrency=1) as run:
        assert all(r.ok for r in await collect(run))
    messages = [r.getMessage() for r in caplog.records if r.name == "telnyx_messaging"]
    assert any(m.startswith("Telnyx pushed back (429") for m in messages)
    assert any(m.startswith("row ") and "InternalServerError" in m for m in messages)


async def test_send_many_runs_over_a_mock_transport() -> None:
    """Over a MockTransport (no sockets, no pool to check) each row is one request with its
    key, and a ConnectionError from the handler is retried like a dropped connection."""
    keys: collections.Counter[str | None] = collections.Counter()

    def handler(request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        keys[key] += 1
        if keys[key] == 1 and request.json()["to"].endswith("3"):
            raise ConnectionError("dropped")
        return request.respond(200, json={"data": {**_message(request.json()), "id": f"msg-{key}"}})

    client = AsyncClient(api_key="KEY_test", transport=MockTransport(handler))
    async with client, client.messages.send_many(rows(5), concurrency=500) as run:
        results = await collect(run)
    assert all(r.ok for r in results)
    assert sorted(keys.values()) == [1, 1, 1, 1, 2]
    assert {r.message_id for r in results} == {f"msg-{k}" for k in keys}


# -- against FakeTelnyx's own rate limits ------------------------------------------------------


def _fake_with_limit(per_second: int) -> FakeTelnyx:
    return FakeTelnyx(rate_limits=RateLimits(account_per_second=per_second))


async def test_paced_under_the_accounts_limit_no_429_comes_back() -> None:
    """rate=8 against an account limited to 10 a second: every send passes the first time."""
    async with _fake_with_limit(10) as fake:
        async with (
            AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
            client.messages.send_many(rows(25), rate=8) as run,
        ):
            results = await collect(run)
        assert all(r.ok and r.attempts == 1 for r in results)
        assert run.stats.pauses == 0
        assert len(fake.messages) == 25


@pytest.mark.usefixtures("real_waits")
async def test_over_the_accounts_limit_the_run_pauses_and_delivers_all() -> None:
    """Unpaced against an account limited to 10 a second: 429s pause the run, and every
    recipient still gets exactly one message."""
    async with _fake_with_limit(10) as fake:
        async with (
            AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
            client.messages.send_many(rows(25), max_attempts=10) as run,
        ):
            results = await collect(run)
        assert all(r.ok for r in results)
        assert run.stats.pauses >= 1
        assert run.stats.paused_seconds > 0
        assert len(fake.messages) == 25
        assert sorted(m["to"][0]["phone_number"] for m in fake.messages.values()) == sorted(
            r["to"] for r in rows(25)
        )
