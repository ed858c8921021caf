"""RedisRateBudget: every process together within the account's rate; one 429 pauses them all."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio
from redis_server import RedisServer

from telnyx_messaging import ConfigurationError, InvalidArgumentError
from telnyx_messaging.redis import RedisRateBudget
from telnyx_messaging.testing import FakeTelnyx

HERE = Path(__file__).parent


def busiest_second(times: list[float]) -> int:
    """The most sends in any one-second window (windows starting at each send)."""
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


def test_three_processes_share_one_budget(redis_server: RedisServer) -> None:
    """Three processes taking 20 turns each at a shared 25/s: about 25 in any second, not the
    75 three separate budgets would allow, so the 60 sends span more than two seconds.

    The margin is for a loaded machine, where a process may print a turn late; the benchmark
    (benchmarks/bench_redis_campaign.py) holds the 5% bound on sends that Telnyx sees."""
    processes = [
        subprocess.Popen(  # noqa: S603 - our helper, this interpreter
            [
                sys.executable,
                str(HERE / "budget_process.py"),
                "turns",
                redis_server.url,
                "25",
                "20",
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        for _ in range(3)
    ]
    times: list[float] = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        times += [float(line) for line in out.split()]
    assert len(times) == 60
    assert busiest_second(times) <= 25 * 1.25
    assert max(times) - min(times) > 2.0


async def test_two_send_many_processes_share_a_senders_pace(
    redis_server: RedisServer,
) -> None:
    """send_many(budget=RedisRateBudget) in two processes: one sender at 4/s between them,
    as Telnyx counts it (the fake records when each send arrives)."""
    arrivals: list[float] = []
    async with FakeTelnyx() as fake:

        def record(request: Any) -> None:
            if request.method == "POST":
                arrivals.append(time.time())

        fake.fault_hook = record
        script = str(HERE / "budget_process.py")
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                *(script, "send_many", redis_server.url, fake.base_url, fake.api_key),
                *(str(first), "8"),
                stdout=asyncio.subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            )
            for first in (0, 100)
        ]
        outputs = [await asyncio.wait_for(p.communicate(), 120) for p in processes]
        assert [int(out) for out, _ in outputs] == [8, 8]
        assert len(fake.messages) == 16
    assert len(arrivals) == 16
    assert busiest_second(arrivals) <= 5  # 4 a second, and one send of slack
    assert max(arrivals) - min(arrivals) > 3.0


async def test_the_seam_take_and_hold(redis_server: RedisServer) -> None:
    """take answers 0 and books a send, or the wait until the next; hold pushes it out."""
    async with await RedisRateBudget.connect(redis_server.url) as budget:
        assert await budget.take("sender:+1A", 2) == 0.0
        wait = await budget.take("sender:+1A", 2)
        assert 0.3 < wait <= 0.5
        await budget.hold("sender:+1A", 2)
        await budget.hold("sender:+1A", 0.1)  # never shortens
        assert 1.5 < await budget.take("sender:+1A", 2) <= 2.0
        assert await budget.take("sender:+1B", 2) == 0.0
        with pytest.raises(InvalidArgumentError, match="seconds must be a number >= 0"):
            await budget.hold("sender:+1A", -1)
        with pytest.raises(InvalidArgumentError, match="rate must be messages per second"):
            await budget.take("sender:+1A", 0)


async def test_the_seam_waits_out_a_redis_outage(redis_server: RedisServer) -> None:
    """send_many's take and hold wait while Redis is away, then go on; past outage_timeout
    they raise the Redis error."""
    async with await RedisRateBudget.connect(redis_server.url, outage_timeout=30) as budget:
        redis_server.stop()
        take = asyncio.ensure_future(budget.take("sender:+1A", 10))
        await asyncio.sleep(0.4)
        assert not take.done()
        redis_server.start()
        assert await asyncio.wait_for(take, 30) == 0.0
        await budget.hold("sender:+1A", 0.5)
        redis_server.stop()
        budget.outage_timeout = 0.2
        with pytest.raises(redis.ConnectionError):
            await budget.hold("sender:+1A", 1)


async def test_per_sender_and_per_kind_buckets(redis_server: RedisServer) -> None:
    """Each sender and each named kind has its own bucket; unnamed kinds only the account's."""
    async with await RedisRateBudget.connect(
        redis_server.url, rate=100, per_sender_rate=2, per_kind_rate={"toll_free": 3}
    ) as budget:
        started = time.monotonic()
        for sender in ("+1A", "+1B", "+1A", "+1B"):  # two each: within their 2/s
            await budget.wait_turn(sender, kind="long_code")
        assert time.monotonic() - started < 0.9
        await budget.wait_turn("+1A")  # a third from +1A within the second: waits
        assert time.monotonic() - started >= 0.9

        started = time.monotonic()
        for i in range(3):
            await budget.wait_turn(f"+1T{i}", kind="toll_free")
        assert time.monotonic() - started < 0.9
        await budget.wait_turn("+1T9", kind="toll_free")
        assert time.monotonic() - started >= 0.9


async def test_a_429_in_one_process_pauses_the_others(redis_server: RedisServer) -> None:
    """One budget's pause holds another's turns; a shorter pause never shortens a longer one."""
    first = await RedisRateBudget.connect(redis_server.url, rate=1000)
    second = await RedisRateBudget.connect(redis_server.url)
    assert await second.paused_for() == 0.0
    await first.pause(0.6)
    await first.pause(0.1)
    assert 0.3 < await second.paused_for() <= 0.6
    started = time.monotonic()
    await second.wait_turn("+1A")
    assert time.monotonic() - started >= 0.4
    assert await second.paused_for() == 0.0
    await first.aclose()
    await second.aclose()


async def test_rates_below_one_per_second(redis_server: RedisServer) -> None:
    """0.5/s is one send per two seconds."""
    client = redis.asyncio.Redis.from_url(redis_server.url)
    budget = RedisRateBudget(client, per_sender_rate=0.5, prefix="slow")
    assert repr(budget) == "<RedisRateBudget prefix='slow' per_sender_rate=0.5/s>"
    await budget.wait_turn("+1A")
    started = time.monotonic()
    await budget.wait_turn("+1A")
    assert time.monotonic() - started >= 1.5
    await budget.aclose()  # not its client: still open
    assert await client.ping()
    await client.aclose()


async def test_redis_down_pauses_sends_then_fails(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """No send goes unmetered: turns wait while Redis is away, resume when it is back, and
    raise the Redis error after outage_timeout."""
    caplog.set_level(logging.WARNING, "telnyx_messaging")
    budget = await RedisRateBudget.connect(redis_server.url, rate=100, outage_timeout=30)
    await budget.wait_turn()
    redis_server.stop()
    turn = asyncio.ensure_future(budget.wait_turn())
    await asyncio.sleep(0.5)
    assert not turn.done()
    redis_server.start()
    await asyncio.wait_for(turn, 30)
    assert "Redis cannot be reached" in caplog.text
    assert "Redis is back" in caplog.text

    redis_server.stop()
    budget.outage_timeout = 0.3
    with pytest.raises(redis.ConnectionError):
        await budget.wait_turn()
    await budget.aclose()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rate": 0}, "rate must be messages per second above 0"),
        ({"rate": True}, "rate must be messages per second above 0"),
        ({"per_sender_rate": float("nan")}, "per_sender_rate must be"),
        ({"per_kind_rate": {"toll_free": -1}}, r"per_kind_rate\['toll_free'\] must be"),
        ({"per_kind_rate": [("toll_free", 1)]}, "per_kind_rate must map"),
        ({"prefix": ""}, "prefix must be a non-empty string"),
        ({"outage_timeout": -1}, "outage_timeout must be seconds >= 0"),
    ],
)
async def test_bad_options_are_refused(
    redis_server: RedisServer, options: dict[str, object], message: str
) -> None:
    """Each says what to pass instead; the client connect() made is closed again."""
    with pytest.raises(InvalidArgumentError, match=message):
        await RedisRateBudget.connect(redis_server.url, **options)  # type: ignore[arg-type]


async def test_bad_pause_and_unreachable_redis(redis_server: RedisServer) -> None:
    """A negative pause is refused; a Redis that is not there is a ConfigurationError."""
    async with await RedisRateBudget.connect(redis_server.url) as budget:
        assert repr(budget) == "<RedisRateBudget prefix='telnyx:rate' unlimited>"
        for bad in (-1, float("nan"), "1"):
            with pytest.raises(InvalidArgumentError, match="seconds must be a number >= 0"):
                await budget.pause(bad)  # type: ignore[arg-type]
    redis_server.stop()
    with pytest.raises(ConfigurationError, match="could not reach Redis"):
        await RedisRateBudget.connect(redis_server.url.replace("//", "//:pw@"))
