"""RedisCampaign: one campaign in Redis, several workers, each row created once on FakeTelnyx."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
import redis.asyncio
from redis_server import RedisServer

from telnyx_messaging import AsyncClient, ConfigurationError, InvalidArgumentError
from telnyx_messaging._bulk._journal import derive_key, row_hash
from telnyx_messaging.redis import (
    CampaignInterruptedError,
    RedisCampaign,
    RedisRateBudget,
    run_campaign,
)
from telnyx_messaging.testing import Disconnect, FakeTelnyx, Hang, Respond


def rows(count: int, text: str = "Hi") -> list[dict[str, object]]:
    return [
        {"to": f"+1312{n:07d}", "from_": "+18445550001", "text": f"{text} #{n}"}
        for n in range(count)
    ]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelnyx]:
    async with FakeTelnyx(send_seconds=3600) as server:
        yield server


@pytest.fixture
async def client(fake: FakeTelnyx) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as c:
        yield c


async def test_two_workers_share_a_campaign_each_row_created_once(
    redis_server: RedisServer, fake: FakeTelnyx, client: AsyncClient
) -> None:
    """Both workers load the same rows (one loads, the other joins), both send; every row has
    one outcome, each message exists once, with the keys send_many(campaign=) would derive."""
    data = rows(40)
    a = await RedisCampaign.connect("spring", redis_server.url)
    b = await RedisCampaign.connect("spring", redis_server.url)
    assert await asyncio.gather(a.load(data), b.load(data)) == [40, 40]
    reports = await asyncio.gather(
        a.work(client, worker="a", concurrency=4), b.work(client, worker="b", concurrency=4)
    )
    for report in reports:
        assert (report.total, report.sent, report.failed, report.pending) == (40, 40, 0, 0)
        assert report.finished
    assert len(fake.messages) == 40
    assert {row.worker for row in reports[0].rows} == {"a", "b"}
    expected = {derive_key("spring", "send", n, row_hash("send", r)) for n, r in enumerate(data)}
    assert fake.seen_idempotency_keys == expected
    # Readable from anywhere, any time after.
    async with await RedisCampaign.connect("spring", redis_server.url) as reader:
        report = await reader.report()
    assert [row.index for row in report.rows] == list(range(40))
    assert {row.message_id for row in report.rows} == set(fake.messages)
    await a.aclose()
    await b.aclose()


async def test_a_dead_workers_rows_are_taken_over_with_the_same_keys(
    redis_server: RedisServer, fake: FakeTelnyx, client: AsyncClient
) -> None:
    """A worker took five rows, sent two of them and died without recording anything: after
    the lease another worker sends all five with the same keys, and Telnyx (the fake) creates
    the two again not at all."""
    data = rows(10)
    async with await RedisCampaign.connect("takeover", redis_server.url) as campaign:
        await campaign.load(data)
        broker = redis.asyncio.Redis.from_url(redis_server.url)
        taken = await broker.xreadgroup(
            "workers", "dead", {"telnyx:campaign:takeover:rows": ">"}, count=5
        )
        entries = taken[0][1]
        for _, fields in entries[:2]:
            index = int(fields[b"i"])
            await client.messages.send(**data[index], idempotency_key=fields[b"k"].decode())  # type: ignore[arg-type]
        assert len(fake.messages) == 2
        report = await campaign.work(client, worker="live", lease=1, concurrency=2)
        await broker.aclose()
    assert (report.sent, report.failed, report.pending) == (10, 0, 0)
    assert len(fake.messages) == 10
    assert {row.worker for row in report.rows} == {"live"}


async def test_a_row_recorded_but_not_acknowledged_is_not_sent_again(
    redis_server: RedisServer, fake: FakeTelnyx, client: AsyncClient
) -> None:
    """A worker that died between recording an outcome and acknowledging it: the row keeps its
    outcome and is not sent again."""
    async with await RedisCampaign.connect("recorded", redis_server.url) as campaign:
        await campaign.load(rows(3))
        broker = redis.asyncio.Redis.from_url(redis_server.url)
        await broker.xreadgroup("workers", "dead", {"telnyx:campaign:recorded:rows": ">"}, count=1)
        await broker.hset(
            "telnyx:campaign:recorded:results",
            "0",
            '{"index": 0, "ok": true, "message_id": "earlier", "attempts": 1, "worker": "dead"}',
        )
        report = await campaign.work(client, lease=1)
        await broker.aclose()
    assert report.rows[0].message_id == "earlier"
    assert (report.sent, len(fake.messages)) == (3, 2)


async def test_loading_other_rows_under_the_name_is_refused(redis_server: RedisServer) -> None:
    """A campaign's rows never change under their keys; bad rows are refused before writing."""
    async with await RedisCampaign.connect("fixed", redis_server.url) as campaign:
        with pytest.raises(InvalidArgumentError, match="row 1 is a str"):
            await campaign.load([rows(1)[0], "oops"])  # type: ignore[list-item]
        with pytest.raises(InvalidArgumentError, match="no stable encoding"):
            await campaign.load([{"to": "+1", "text": {1, 2}}])
        assert await campaign.load(rows(3)) == 3
        assert await campaign.load(rows(3)) == 3
        with pytest.raises(ConfigurationError, match="already holds 3 other rows"):
            await campaign.load(rows(3, text="Other"))
    async with await RedisCampaign.connect("fixed", redis_server.url, via="schedule") as other:
        with pytest.raises(ConfigurationError, match="other method"):
            await other.load(rows(3))


async def test_scheduled_rows_keep_their_datetimes(
    redis_server: RedisServer, fake: FakeTelnyx, client: AsyncClient
) -> None:
    """A send_at datetime goes through Redis and comes back a datetime."""
    when = datetime.now(timezone.utc) + timedelta(hours=2)
    data = [{**rows(1)[0], "send_at": when}]
    async with await RedisCampaign.connect("later", redis_server.url, via="schedule") as c:
        await c.load(data)
        report = await c.work(client)
    assert report.sent == 1
    (message,) = fake.messages.values()
    assert message["send_at"].startswith(when.strftime("%Y-%m-%dT%H:%M"))


async def test_failed_rows_are_recorded_with_their_error(
    redis_server: RedisServer, fake: FakeTelnyx, client: AsyncClient
) -> None:
    """A row Telnyx refuses, or the method cannot take, fails; the others are sent."""
    data = [*rows(2), {"to": "+13120000009", "from_": "+18445550001"}, {"to": "+1", "nope": 1}]
    report = await run_campaign(
        client, campaign="mixed", url=redis_server.url, rows=data, concurrency=2
    )
    assert (report.sent, report.failed) == (2, 2)
    failures = {row.index: row for row in report.rows if not row.ok}
    assert failures[3].error_code == "invalid_argument"
    assert "nope" in (failures[3].error_title or "")
    assert failures[2].error_code == "invalid_argument"


async def test_a_row_telnyx_refuses_has_telnyx_code_and_title(
    redis_server: RedisServer, fake: FakeTelnyx, client: AsyncClient
) -> None:
    """error_code is Telnyx's code, never a class name; error_title has no request URL."""
    refusal = {"code": "40310", "title": "Invalid 'to' address", "detail": "Not a number."}
    fake.fail_next(Respond(422, json={"errors": [refusal]}), method="POST", path="/messages")
    report = await run_campaign(client, campaign="refused", url=redis_server.url, rows=rows(1))
    (row,) = report.rows
    assert (row.ok, row.error_code, row.error_title) == (False, "40310", "Invalid 'to' address")
    assert row.attempts == 1


async def test_workers_share_the_budget(
    redis_server: RedisServer, fake: FakeTelnyx, client: AsyncClient
) -> None:
    """run_campaign with rate=: 12 rows at 5/s take more than two seconds."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    report = await run_campaign(
        client, campaign="paced", url=redis_server.url, rows=rows(12), rate=5
    )
    assert report.sent == 12
    assert loop.time() - started > 2.0


async def test_redis_paused_mid_run_pauses_the_worker(
    redis_server: RedisServer,
    fake: FakeTelnyx,
    client: AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis stops answering for a while: the worker waits, then finishes; nothing doubled."""
    caplog.set_level(logging.WARNING, "telnyx_messaging")
    async with await RedisCampaign.connect("frozen", redis_server.url) as campaign:
        await campaign.load(rows(30))
        budget = await RedisRateBudget.connect(redis_server.url, rate=20)
        work = asyncio.ensure_future(campaign.work(client, budget=budget, concurrency=2))
        await asyncio.sleep(0.5)
        assert redis_server.process is not None
        redis_server.process.send_signal(signal.SIGSTOP)
        await asyncio.sleep(3)  # past the 2 s command timeout
        redis_server.process.send_signal(signal.SIGCONT)
        report = await asyncio.wait_for(work, 60)
        await budget.aclose()
    assert (report.sent, report.failed, len(fake.messages)) == (30, 0, 30)
    assert "Redis cannot be reached" in caplog.text


@pytest.mark.parametrize("paced", [True, False])
async def test_redis_gone_for_good_stops_the_worker_with_its_rows(
    redis_server: RedisServer, fake: FakeTelnyx, client: AsyncClient, paced: bool
) -> None:
    """Past outage_timeout the worker raises, naming the rows it held; none was sent twice.
    Paced, the budget meets the outage first; unpaced, the worker's own reads and writes."""
    async with await RedisCampaign.connect("gone", redis_server.url) as campaign:
        await campaign.load(rows(3000))
        budget = None
        if paced:
            budget = await RedisRateBudget.connect(redis_server.url, rate=20, outage_timeout=1)
        work = asyncio.ensure_future(
            campaign.work(client, budget=budget, concurrency=3, outage_timeout=1)
        )
        await asyncio.sleep(0.6)
        redis_server.stop()
        with pytest.raises(CampaignInterruptedError, match="rows held without a recorded") as e:
            await asyncio.wait_for(work, 60)
        if budget is not None:
            await budget.aclose()
    assert e.value.campaign == "gone"
    assert len(e.value.rows) <= 3
    assert 0 < len(fake.messages) < 3000
    assert len(fake.messages) == len(fake.seen_idempotency_keys)


async def test_redis_paused_without_a_budget_pauses_the_worker(
    redis_server: RedisServer, fake: FakeTelnyx, client: AsyncClient
) -> None:
    """The worker's own Redis calls wait out a short outage, then the run finishes."""
    async with await RedisCampaign.connect("stall", redis_server.url) as campaign:
        await campaign.load(rows(600))
        work = asyncio.ensure_future(campaign.work(client, concurrency=2))
        await asyncio.sleep(0.3)
        assert redis_server.process is not None
        redis_server.process.send_signal(signal.SIGSTOP)
        await asyncio.sleep(2.5)
        redis_server.process.send_signal(signal.SIGCONT)
        report = await asyncio.wait_for(work, 120)
    assert (report.sent, report.failed, len(fake.messages)) == (600, 0, 600)


async def test_a_429_pauses_the_budget_and_failures_are_tried_again(
    redis_server: RedisServer, fake: FakeTelnyx
) -> None:
    """With the client's own retries off: a 429 pauses every worker, a 503 and a lost answer
    are tried again with the same key (created once), five 503s in a row fail the row."""
    fake.fail_next(
        Respond(
            429,
            json={"errors": [{"code": "10011", "title": "Too many"}]},
            headers={"Retry-After": "0.3"},
        ),
        Respond(503),
        Disconnect(after_processing=True),
        Hang(0),  # row 0's fourth try is answered (a replay of the lost answer)
        *[Respond(503)] * 5,
        method="POST",
        path="/messages",
    )
    async with (
        AsyncClient(api_key=fake.api_key, base_url=fake.base_url, max_retries=0) as client,
        await RedisCampaign.connect("faults", redis_server.url) as campaign,
        await RedisRateBudget.connect(redis_server.url, rate=100) as budget,
    ):
        await campaign.load(rows(4))
        loop = asyncio.get_running_loop()
        started = loop.time()
        report = await campaign.work(client, budget=budget, concurrency=1)
        assert loop.time() - started >= 0.3
    outcomes = {row.index: row for row in report.rows}
    assert outcomes[0].ok
    # A 429 is no try: 503, lost answer, then the replayed answer.
    assert outcomes[0].attempts == 3
    assert not outcomes[1].ok
    assert outcomes[1].attempts == 5
    # What Telnyx answered, never a class name or the request's URL.
    assert (outcomes[1].error_code, outcomes[1].error_title) == (None, "HTTP 503")
    assert (report.sent, report.failed) == (3, 1)
    assert len(fake.messages) == 3


async def test_rate_limits_fail_a_row_only_past_rate_limit_timeout(
    redis_server: RedisServer, fake: FakeTelnyx
) -> None:
    """Telnyx keeps answering 429 (and 40318): the row is held, never tried out, until
    rate_limit_timeout; then it fails with Telnyx's code. Unpaced, nothing else slows it; a
    limit that is not a number teaches nothing."""
    busy = Respond(
        429,
        json={"errors": [{"code": "10011", "title": "Too many"}]},
        headers={"Retry-After": "0.2", "x-ratelimit-limit": "many"},
    )
    queue_full = Respond(400, json={"errors": [{"code": "40318", "title": "Queue full"}]})
    fake.fail_next(*[busy, queue_full] * 20, method="POST", path="/messages")
    async with (
        AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
        await RedisCampaign.connect("held", redis_server.url) as campaign,
    ):
        await campaign.load(rows(1))
        report = await campaign.work(client, pacing="unpaced", rate_limit_timeout=1.5)
    (row,) = report.rows
    assert not row.ok
    assert row.error_code in {"10011", "40318"}
    assert row.attempts == 1
    assert len(fake.messages) == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rate_limit_timeout": 0}, "rate_limit_timeout must be seconds > 0"),
        ({"pacing": "fast"}, "pacing must be a PacingProfile"),
        ({"concurrency": 0}, "concurrency must be a whole number >= 1"),
        ({"lease": 0.5}, "lease must be seconds >= 1"),
        ({"outage_timeout": -1}, "outage_timeout must be seconds >= 0"),
    ],
)
async def test_bad_work_options(
    redis_server: RedisServer, client: AsyncClient, options: dict[str, object], message: str
) -> None:
    """Checked before anything is read."""
    async with await RedisCampaign.connect("opts", redis_server.url) as campaign:
        with pytest.raises(InvalidArgumentError, match=message):
            await campaign.work(client, **options)  # type: ignore[arg-type]


async def test_misuse_says_what_to_do(redis_server: RedisServer, client: AsyncClient) -> None:
    """No rows yet, a bad name or method, Redis not there."""
    async with await RedisCampaign.connect("empty", redis_server.url) as campaign:
        assert repr(campaign) == "<RedisCampaign 'empty' via=send>"
        with pytest.raises(ConfigurationError, match="load\\(\\) them first"):
            await campaign.work(client)
        report = await campaign.report()
        assert (report.total, report.finished) == (0, False)
    with pytest.raises(InvalidArgumentError, match="campaign name must be"):
        await RedisCampaign.connect(" ", redis_server.url)
    with pytest.raises(InvalidArgumentError, match="via must be one of"):
        await RedisCampaign.connect("x", redis_server.url, via="fax")
    redis_server.stop()
    with pytest.raises(ConfigurationError, match="could not reach Redis"):
        await RedisCampaign.connect("x", redis_server.url)


async def test_two_workers_at_telnyx_limits_fail_no_row_for_rate_limits(
    redis_server: RedisServer,
) -> None:
    """Two workers, default settings, against an account of 10/s whose sender takes 4/s:
    a 429 holds every worker and is never a row's try; the sender's limit is learned from
    x-ratelimit-limit and shared, so few requests are refused and every row is sent once."""
    from telnyx_messaging.testing import RateLimits

    data = rows(24)
    limits = RateLimits(account_per_second=10, per_sender_per_second=4)
    async with FakeTelnyx(send_seconds=3600, rate_limits=limits) as fake:
        clients = [AsyncClient(api_key=fake.api_key, base_url=fake.base_url) for _ in range(2)]
        try:
            reports = await asyncio.gather(
                *(
                    run_campaign(c, campaign="limits", url=redis_server.url, rows=data, worker=w)
                    for c, w in zip(clients, "ab", strict=True)
                )
            )
        finally:
            for c in clients:
                await c.close()
        posts = sum(1 for r in fake.requests if r.method == "POST")
        assert len(fake.messages) == 24
    report = reports[0]
    assert (report.sent, report.failed, report.pending) == (24, 0, 0)
    assert {row.attempts for row in report.rows} == {1}  # a 429 is no row's try
    assert posts <= 24 * 1.15


async def test_retry_failed_sends_the_failed_rows_again_with_their_keys(
    redis_server: RedisServer, fake: FakeTelnyx, client: AsyncClient
) -> None:
    """A row Telnyx refused fails; run again with retry_failed=True, it is queued again with
    its same key and sent; the rows sent before are not sent again."""
    data = rows(4)
    refusal = {"code": "40310", "title": "Invalid 'to' address"}
    fake.fail_next(Respond(422, json={"errors": [refusal]}), method="POST", path="/messages")
    first = await run_campaign(
        client, campaign="again", url=redis_server.url, rows=data, concurrency=1
    )
    assert (first.sent, first.failed) == (3, 1)
    same = await run_campaign(client, campaign="again", url=redis_server.url, rows=data)
    assert (same.sent, same.failed) == (3, 1)  # without the flag: nothing sent again
    posts = sum(1 for r in fake.requests if r.method == "POST")
    again = await run_campaign(
        client, campaign="again", url=redis_server.url, rows=data, retry_failed=True
    )
    assert (again.sent, again.failed, again.pending) == (4, 0, 0)
    assert sum(1 for r in fake.requests if r.method == "POST") == posts + 1
    assert len(fake.messages) == 4
    expected = {derive_key("again", "send", n, row_hash("send", r)) for n, r in enumerate(data)}
    assert fake.seen_idempotency_keys == expected
    async with await RedisCampaign.connect("again", redis_server.url) as campaign:
        assert await campaign.retry_failed() == 0  # nothing failed: nothing queued


async def test_a_limit_learned_below_the_given_rate_wins(redis_server: RedisServer) -> None:
    """per_sender_rate=50 against a sender Telnyx takes at 4/s: the 429's limit is learned
    and the sender goes at 3.8/s; no row fails or spends a try on it."""
    from telnyx_messaging.testing import RateLimits

    async with (
        FakeTelnyx(send_seconds=3600, rate_limits=RateLimits(per_sender_per_second=4)) as fake,
        AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
    ):
        report = await run_campaign(
            client, campaign="given", url=redis_server.url, rows=rows(12), per_sender_rate=50
        )
        refused = sum(1 for r in fake.requests if r.method == "POST") - 12
        assert len(fake.messages) == 12
    assert (report.sent, report.failed) == (12, 0)
    assert {row.attempts for row in report.rows} == {1}
    assert refused <= 4  # the sends already on their way when the first 429 came
    async with await RedisRateBudget.connect(redis_server.url) as budget:
        assert await budget.learned() == {"sender:+18445550001": pytest.approx(3.8)}
