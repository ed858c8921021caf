"""RedisDuplicateGuard: the guard's three steps, shared by replicas through a real Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from wsgiref.simple_server import WSGIRequestHandler, make_server

import aiohttp
import pytest
import redis
import redis.asyncio
from aiohttp import web
from redis_fixtures import SIGNER, delivery_webhook, start_replica, stop_replicas
from redis_server import RedisServer

from telnyx_messaging import ConfigurationError, InvalidArgumentError, webhooks
from telnyx_messaging.redis import RedisDuplicateGuard, SyncRedisDuplicateGuard, redact


@pytest.fixture
async def guard(redis_server: RedisServer) -> AsyncIterator[RedisDuplicateGuard]:
    async with await RedisDuplicateGuard.connect(redis_server.url) as g:
        yield g


@pytest.fixture
def sync_guard(redis_server: RedisServer) -> Iterator[SyncRedisDuplicateGuard]:
    with SyncRedisDuplicateGuard.connect(redis_server.url) as g:
        yield g


async def test_the_three_steps(guard: RedisDuplicateGuard) -> None:
    """New, then processing while held; released -> new again; completed -> done."""
    assert await guard.claim("evt-1") == "new"
    assert await guard.claim("evt-1") == "processing"
    await guard.release("evt-1")
    assert await guard.claim("evt-1") == "new"
    await guard.complete("evt-1")
    assert await guard.claim("evt-1") == "done"
    await guard.release("evt-1")  # not ours any more: nothing happens
    assert await guard.claim("evt-1") == "done"
    assert await guard.claim("evt-2") == "new"


def test_the_three_steps_sync(sync_guard: SyncRedisDuplicateGuard) -> None:
    """The plain-method guard follows the same steps."""
    assert sync_guard.claim("evt-1") == "new"
    assert sync_guard.claim("evt-1") == "processing"
    sync_guard.release("evt-1")
    assert sync_guard.claim("evt-1") == "new"
    sync_guard.complete("evt-1")
    assert sync_guard.claim("evt-1") == "done"
    sync_guard.release("evt-1")  # not ours any more: nothing happens
    assert sync_guard.claim("evt-1") == "done"


async def test_exactly_one_of_many_concurrent_claims_is_new(redis_server: RedisServer) -> None:
    """Five replicas (clients) claiming one event at once: one gets "new"."""
    guards = [await RedisDuplicateGuard.connect(redis_server.url) for _ in range(5)]
    try:
        for round_ in range(20):
            answers = await asyncio.gather(*(g.claim(f"evt-{round_}") for g in guards * 4))
            assert answers.count("new") == 1
            assert set(answers) == {"new", "processing"}
    finally:
        for g in guards:
            await g.aclose()


async def test_keys_expire_after_ttl_and_claims_after_their_lease(
    redis_server: RedisServer,
) -> None:
    """A done key lives ``ttl``; an abandoned claim only ``lease``, so a dead replica's event
    is handled again rather than refused for an hour."""
    client = redis.asyncio.Redis.from_url(redis_server.url)
    guard = RedisDuplicateGuard(client, ttl=300, lease=1, prefix="t:")
    assert await guard.claim("dead") == "new"
    assert 0 < await client.pttl("t:dead") <= 1000
    await guard.claim("handled")
    await guard.complete("handled")
    assert 299_000 < await client.pttl("t:handled") <= 300_000
    await asyncio.sleep(1.2)
    assert await guard.claim("dead") == "new"
    assert await guard.claim("handled") == "done"
    await client.aclose()


async def test_a_release_never_drops_another_replicas_claim(redis_server: RedisServer) -> None:
    """A replica whose lease ran out, releasing late, leaves the new owner's claim alone."""
    a = RedisDuplicateGuard(redis.asyncio.Redis.from_url(redis_server.url), lease=1)
    b = await RedisDuplicateGuard.connect(redis_server.url)
    assert await a.claim("evt") == "new"
    await asyncio.sleep(1.2)
    assert await b.claim("evt") == "new"
    await a.release("evt")  # late: b owns it now
    assert await a.claim("evt") == "processing"
    await b.complete("evt")
    assert await a.claim("evt") == "done"
    await a.aclose()  # not its own client: stays open
    assert await a._client.ping()
    await a._client.aclose()
    await b.aclose()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ttl": 299}, "ttl must be seconds >= 300"),
        ({"ttl": float("inf")}, "ttl must be seconds >= 300"),
        ({"ttl": True}, "ttl must be"),
        ({"lease": 0.5}, "lease must be seconds >= 1"),
        ({"ttl": 300, "lease": 301}, "must not be longer than ttl"),
        ({"prefix": ""}, "prefix must be a non-empty string"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], message: str) -> None:
    """Expiry shorter than the signature tolerance would let a replay through: refused."""
    client = redis.Redis()  # never connects: the options are checked first
    with pytest.raises(InvalidArgumentError, match=message):
        SyncRedisDuplicateGuard(client, **options)  # type: ignore[arg-type]
    client.close()


async def test_unreachable_redis_at_start_is_a_configuration_error(
    redis_server: RedisServer,
) -> None:
    """The message names the URL without its password, and says what to do."""
    url = (
        f"redis://:hunter2@127.0.0.1:{redis_server.port + 1 if redis_server.port < 65535 else 1}/0"
    )
    with pytest.raises(ConfigurationError, match="could not reach Redis") as caught:
        await RedisDuplicateGuard.connect(url)
    assert "hunter2" not in str(caught.value)
    assert ":***@127.0.0.1" in str(caught.value)
    with pytest.raises(ConfigurationError, match="could not reach Redis") as caught_sync:
        SyncRedisDuplicateGuard.connect(url)
    assert "hunter2" not in str(caught_sync.value)


def test_the_url_comes_from_the_environment(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TELNYX_REDIS_URL is read when no URL is passed; neither is a clear error."""
    monkeypatch.delenv("TELNYX_REDIS_URL", raising=False)
    with pytest.raises(ConfigurationError, match="set TELNYX_REDIS_URL"):
        SyncRedisDuplicateGuard.connect()
    monkeypatch.setenv("TELNYX_REDIS_URL", redis_server.url)
    with SyncRedisDuplicateGuard.connect() as guard:
        assert guard.claim("evt") == "new"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://:pw@localhost/", "is not a Redis URL"),
        ("redis://localhost:notaport/0", "is not a usable Redis URL"),
        (b"redis://localhost", "must be a string"),
    ],
)
async def test_a_url_that_is_not_redis_is_refused(url: object, message: str) -> None:
    """A wrong scheme or port says what to write; a password is never echoed."""
    with pytest.raises(InvalidArgumentError, match=message) as caught:
        SyncRedisDuplicateGuard.connect(url)  # type: ignore[arg-type]
    assert "pw@" not in str(caught.value)
    with pytest.raises(InvalidArgumentError, match=message) as caught:
        await RedisDuplicateGuard.connect(url)  # type: ignore[arg-type]
    assert "pw@" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:secret@host:6379/0", "redis://:***@host:6379/0"),
        ("redis://user:secret@host/1", "redis://user:***@host/1"),
        ("rediss://u:secret@[::1]:6380/0", "rediss://u:***@[::1]:6380/0"),
        ("redis://host:6379/0", "redis://host:6379/0"),
        ("redis://u:p@[::1/", "<unreadable Redis URL>"),
    ],
)
def test_redact_hides_the_password(url: str, shown: str) -> None:
    """What logs, errors and reprs show of a URL."""
    assert redact(url) == shown


async def test_repr_shows_no_client_or_password(redis_server: RedisServer) -> None:
    """A guard's repr names its settings only."""
    client = redis.asyncio.Redis.from_url(redis_server.url.replace("//", "//:pw@"))
    guard = RedisDuplicateGuard(client)
    assert repr(guard) == (
        "<RedisDuplicateGuard prefix='telnyx:webhooks:seen:' ttl=3600 lease=120>"
    )
    await client.aclose()


# -- with the receiver, over real HTTP -------------------------------------------------------


async def serve(receiver: webhooks.WebhookReceiver) -> tuple[web.AppRunner, str]:
    app = web.Application()
    receiver.add_aiohttp_route(app, "/webhooks")
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks"


async def post(session: aiohttp.ClientSession, url: str, body: bytes) -> tuple[int, str]:
    async with session.post(url, data=body, headers=SIGNER.headers(body)) as response:
        return response.status, await response.text()


async def test_redis_down_is_503_never_200(redis_server: RedisServer) -> None:
    """With Redis gone the receiver asks Telnyx to retry; once it is back, events are handled."""
    guard = await RedisDuplicateGuard.connect(redis_server.url)
    handled: list[str] = []

    async def on_event(event: webhooks.WebhookEvent) -> None:
        handled.append(webhooks.duplicate_key(event))

    runner, url = await serve(
        webhooks.WebhookReceiver(on_event=on_event, public_key=SIGNER.public_key, duplicates=guard)
    )
    body = delivery_webhook("msg-1")
    try:
        async with aiohttp.ClientSession() as session:
            redis_server.stop()
            async with session.post(url, data=body, headers=SIGNER.headers(body)) as response:
                assert response.status == 503
                assert response.headers["Retry-After"] == "1"
            assert handled == []
            redis_server.start()
            assert await post(session, url, body) == (200, "")
            assert await post(session, url, body) == (200, "duplicate: already handled")
    finally:
        await runner.cleanup()
        await guard.aclose()
    assert handled == ["event-msg-1-delivered"]


async def test_three_receiver_processes_handle_each_event_once(redis_server: RedisServer) -> None:
    """Deliveries of one event spread over three replica processes, some at the same time:
    exactly one handles it; the others answer 503 (in progress) or 200 (duplicate). A 503 is
    delivered again, as Telnyx does, until every delivery got its 200."""
    # Handling takes 1 s, ten times the 0.1 s stagger: on a loaded CI box the later deliveries
    # still arrive while the first is in progress (at 0.2 s they could all arrive after it).
    replicas = [start_replica(redis_server.url, "count", 1.0) for _ in range(3)]
    try:
        urls = [f"http://127.0.0.1:{port}/webhooks" for _, port in replicas]
        bodies = [delivery_webhook(f"msg-{i}") for i in range(20)]
        statuses: list[int] = []

        async def deliver(replica: int, event: int, after: float) -> tuple[int, int, int]:
            await asyncio.sleep(after)
            return replica, event, (await post(session, urls[replica], bodies[event]))[0]

        # Event i first to replica i % 3, and while it is handled (1 s) to the other two.
        pending = [((i + j) % 3, i, 0.1 * (j > 0)) for i in range(20) for j in range(3)]
        async with aiohttp.ClientSession() as session:
            for _ in range(10):
                answers = await asyncio.gather(*(deliver(*p) for p in pending))
                statuses += [status for _, _, status in answers]
                pending = [(r, e, 0.0) for r, e, status in answers if status != 200]
                if not pending:
                    break
                await asyncio.sleep(0.4)
        assert not pending
        assert set(statuses) <= {200, 503}
        assert 503 in statuses  # deliveries that met the event in progress on another replica
        client = redis.Redis.from_url(redis_server.url)
        handled = [entry.decode().split() for entry in client.lrange("handled", 0, -1)]
        client.close()
        assert sorted(key for key, _ in handled) == sorted(
            f"event-msg-{i}-delivered" for i in range(20)
        )
        assert len({pid for _, pid in handled}) >= 2  # the work was spread out
    finally:
        stop_replicas(replicas)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_sync_guard_behind_a_wsgi_server(redis_server: RedisServer) -> None:
    """Two WSGI replicas on real sockets share the plain guard: a redelivery to the other one is
    a duplicate; Redis down is 503."""
    handled: list[str] = []
    servers = []
    for _ in range(2):
        guard = SyncRedisDuplicateGuard.connect(redis_server.url)
        receiver = webhooks.WebhookReceiver(
            on_event=lambda event: handled.append(webhooks.duplicate_key(event)),
            public_key=SIGNER.public_key,
            duplicates=guard,
        )
        server = make_server("127.0.0.1", 0, receiver.wsgi_app(), handler_class=QuietHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, guard))

    def post_sync(server_index: int, body: bytes) -> int:
        import urllib.error
        import urllib.request

        port = servers[server_index][0].server_address[1]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/", data=body, headers=SIGNER.headers(body), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    try:
        body = delivery_webhook("msg-sync")
        assert post_sync(0, body) == 200
        assert post_sync(1, body) == 200
        assert handled == ["event-msg-sync-delivered"]
        redis_server.stop()
        assert post_sync(1, delivery_webhook("msg-other")) == 503
        assert handled == ["event-msg-sync-delivered"]
    finally:
        for server, guard in servers:
            server.shutdown()
            server.server_close()
            guard.close()


def test_only_importing_the_extra_loads_redis() -> None:
    """The SDK, its webhooks and its CLI never import redis-py; ``telnyx_messaging.redis`` does."""
    code = (
        "import sys, telnyx_messaging, telnyx_messaging.webhooks, telnyx_messaging._cli.main\n"
        "assert 'redis' not in sys.modules, 'redis imported early'\n"
        "import telnyx_messaging.redis\n"
        "assert 'redis.asyncio' in sys.modules\n"
    )
    subprocess.run(  # noqa: S603 - this interpreter, our code
        [sys.executable, "-c", code],
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
