"""The receiving recipes in docs/webhooks.md, run as written against real servers.

The framework apps the docs build answer over their own test clients, and the Redis recipes
(a shared duplicate guard, a durable hand-off to a stream, its worker) run end to end against
a ``redis-server`` these tests start on loopback and stop again; without ``redis-server`` or
the ``redis`` package those tests are skipped.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from redis_server import RedisServer, running_redis

from telnyx_messaging import webhooks
from telnyx_messaging.testing._signer import WebhookSigner

DOC = Path(__file__).parents[2] / "docs" / "webhooks.md"
EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
SIGNER = WebhookSigner(seed=b"\x0a" * 32)
RECEIVED = (EXAMPLES / "message.received.json").read_bytes()
FINALIZED = (EXAMPLES / "message.finalized.json").read_bytes()
CLICK = (EXAMPLES / "replaced-link-click.json").read_bytes()


def sections() -> dict[str, list[str]]:
    """The Python blocks of each ``## `` section of the page, by heading."""
    found: dict[str, list[str]] = {}
    for part in re.split(r"^## ", DOC.read_text(encoding="utf-8"), flags=re.M)[1:]:
        heading, _, text = part.partition("\n")
        found[heading.strip()] = re.findall(r"```python\n(.*?)```", text, re.S)
    return found


SECTIONS = sections()


def run(namespace: dict[str, Any], *sources: str) -> dict[str, Any]:
    for source in sources:
        exec(compile(source, str(DOC), "exec"), namespace)  # noqa: S102 - our own docs
    return namespace


def fresh_namespace() -> dict[str, Any]:
    return {"__name__": "webhook_recipes", "TELNYX_PUBLIC_KEY": SIGNER.public_key}


# -- the framework recipes -------------------------------------------------------------------


@pytest.mark.parametrize(("blocks", "name"), [(1, "starlette_app"), (2, "fastapi_app")])
def test_the_starlette_and_fastapi_recipes_answer_and_drain(blocks: int, name: str) -> None:
    """The docs' Starlette and FastAPI apps take a signed webhook, refuse a forged one, drain."""
    pytest.importorskip("fastapi")
    from starlette.testclient import TestClient

    namespace = run(fresh_namespace(), SECTIONS["Receiving webhooks in a web app"][0])
    handled: list[webhooks.WebhookEvent] = []

    async def on_event(event: webhooks.WebhookEvent) -> None:
        await asyncio.sleep(0.05)
        handled.append(event)

    namespace["on_event"] = on_event  # the reader's own handler, used by the next blocks
    run(namespace, *SECTIONS["Starlette and FastAPI"][:blocks])
    with TestClient(namespace[name]) as client:
        ok = client.post("/webhooks/telnyx", content=RECEIVED, headers=SIGNER.headers(RECEIVED))
        forged = client.post(
            "/webhooks/telnyx", content=RECEIVED, headers=WebhookSigner().headers(RECEIVED)
        )
    assert (ok.status_code, forged.status_code) == (200, 401)
    assert len(handled) == 1  # the lifespan drained the queue on the way out


def test_the_flask_recipe_answers() -> None:
    """The docs' Flask app answers a signed webhook 200 and a stale one 401."""
    pytest.importorskip("flask")
    namespace = run(fresh_namespace(), *SECTIONS["Flask"])
    client = namespace["flask_app"].test_client()
    ok = client.post("/webhooks/telnyx", data=RECEIVED, headers=SIGNER.headers(RECEIVED))
    stale = client.post(
        "/webhooks/telnyx", data=RECEIVED, headers=SIGNER.headers(RECEIVED, timestamp=5)
    )
    assert (ok.status_code, stale.status_code) == (200, 401)


def test_the_django_recipe_answers() -> None:
    """The docs' Django URLconf answers a signed webhook 200 and a forged one 401, CSRF on."""
    pytest.importorskip("django")
    import sys
    import types

    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(ALLOWED_HOSTS=["testserver"], SECRET_KEY="docs-tests", USE_TZ=True)
        django.setup()
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import clear_url_caches

    namespace = run(fresh_namespace(), *SECTIONS["Django"])
    urls = types.ModuleType("telnyx_webhook_docs_urls")
    urls.urlpatterns = namespace["urlpatterns"]  # type: ignore[attr-defined]
    sys.modules[urls.__name__] = urls
    try:
        with override_settings(
            ROOT_URLCONF=urls.__name__, MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"]
        ):
            client = Client(enforce_csrf_checks=True)
            kwargs = {"content_type": "application/json"}
            ok = client.post(
                "/webhooks/telnyx", RECEIVED, headers=SIGNER.headers(RECEIVED), **kwargs
            )
            forged = client.post(
                "/webhooks/telnyx", RECEIVED, headers=WebhookSigner().headers(RECEIVED), **kwargs
            )
    finally:
        clear_url_caches()
        del sys.modules[urls.__name__]
    assert (ok.status_code, forged.status_code) == (200, 401)


def test_the_metrics_recipe_counts() -> None:
    """The docs' metrics hook counts what happened and times each answer."""
    namespace = run(
        fresh_namespace(),
        SECTIONS["Receiving webhooks in a web app"][0],
        *SECTIONS["Metrics"],
    )
    receiver: webhooks.WebhookReceiver = namespace["receiver"]

    async def deliver() -> None:
        for headers in (SIGNER.headers(RECEIVED), SIGNER.headers(RECEIVED), {}):
            gate = receiver.gate
            started = time.perf_counter()
            gate.answered(await gate.dispatch(gate.open(RECEIVED, headers)), started)

    asyncio.run(deliver())
    assert namespace["counts"] == {
        "verified": 2,
        "duplicate:done": 1,
        "refused:missing_header": 1,
        "answered": 3,
    }
    assert len(namespace["seconds_to_answer"]) == 3


# -- the Redis recipes -----------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A durable redis-server (every write on disk before Redis answers it) for this test."""
    yield from running_redis(tmp_path, "--appendonly", "yes", "--appendfsync", "always")


@pytest.fixture
async def recipes(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, Any]]:
    """The three Redis recipes from the docs, run as written, pointed at the test's Redis."""
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    namespace = run(fresh_namespace(), *SECTIONS["Durable hand-off: Redis Streams"])
    namespace["server"] = redis_server
    try:
        yield namespace
    finally:
        await namespace["broker"].aclose()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[webhooks.WebhookReceiver], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(receiver: webhooks.WebhookReceiver) -> str:
        app = web.Application()
        receiver.add_aiohttp_route(app, "/webhooks/telnyx")
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/telnyx"

    yield start
    for runner in runners:
        await runner.cleanup()


async def post(url: str, body: bytes) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=SIGNER.headers(body)) as response,
    ):
        return response.status, await response.text()


async def work_until(
    namespace: dict[str, Any],
    name: str,
    handle: Callable[[webhooks.WebhookEvent], Awaitable[None]],
    finished: asyncio.Event,
) -> None:
    """Run the docs' worker until it sets ``finished`` (its stop event); 30 s at most."""
    worker = asyncio.create_task(namespace["work"](name, handle, finished))
    done, _ = await asyncio.wait({worker}, timeout=30)
    assert done, "the worker did not stop within 30 s"
    worker.result()


async def test_redis_handoff_is_durable_and_handles_each_event_once(
    recipes: dict[str, Any], serve: Callable[[webhooks.WebhookReceiver], Awaitable[str]]
) -> None:
    """Two replicas share the Redis guard; Redis restarts before work; each event runs once."""
    replica_a = await serve(recipes["receiver"])
    guard = recipes["RedisDuplicateGuard"](recipes["broker"])
    replica_b = await serve(
        webhooks.WebhookReceiver(
            handoff=recipes["enqueue"], public_key=SIGNER.public_key, duplicates=guard
        )
    )
    assert await post(replica_a, RECEIVED) == (200, "")
    assert await post(replica_b, RECEIVED) == (200, "duplicate: already handled")
    assert await post(replica_b, FINALIZED) == (200, "")
    assert await post(replica_a, CLICK) == (200, "")
    assert await recipes["broker"].xlen(recipes["STREAM"]) == 3

    # Redis goes down after Telnyx got its 200s and comes back: the queue is still there.
    recipes["server"].stop()
    recipes["server"].start()
    await recipes["broker"].connection_pool.disconnect()  # drop the connections that died
    assert await recipes["broker"].xlen(recipes["STREAM"]) == 3
    assert await post(replica_b, RECEIVED) == (200, "duplicate: already handled")

    handled: list[str] = []
    finished = asyncio.Event()

    async def handle(event: webhooks.WebhookEvent) -> None:
        handled.append(webhooks.duplicate_key(event))
        if len(handled) == 3:
            finished.set()

    await work_until(recipes, "worker-1", handle, finished)
    assert sorted(handled) == sorted(
        webhooks.duplicate_key(webhooks.parse(body)) for body in (RECEIVED, FINALIZED, CLICK)
    )
    pending = await recipes["broker"].xpending(recipes["STREAM"], "telnyx-workers")
    assert pending["pending"] == 0


async def test_a_worker_that_dies_mid_event_gets_it_again(
    recipes: dict[str, Any], serve: Callable[[webhooks.WebhookReceiver], Awaitable[str]]
) -> None:
    """At least once: an entry taken but not acknowledged is handled when the worker restarts."""
    url = await serve(recipes["receiver"])
    for body in (RECEIVED, FINALIZED):
        assert (await post(url, body))[0] == 200
    handled: list[str | None] = []
    finished = asyncio.Event()

    async def crashes_once(event: webhooks.WebhookEvent) -> None:
        if not handled:
            handled.append(None)
            raise RuntimeError("worker died")
        handled.append(getattr(event, "id", None))
        if len(handled) == 3:
            finished.set()

    worker = asyncio.create_task(recipes["work"]("worker-1", crashes_once, finished))
    with pytest.raises(RuntimeError, match="worker died"):
        await asyncio.wait_for(worker, 30)
    await work_until(recipes, "worker-1", crashes_once, finished)
    assert handled[1:] == [
        "bf6307bd-884d-4c1f-b6ea-c62b8c495d3c",
        "4ee8c3a6-4995-4309-a3c6-38e3db9ea4be",
    ]
    pending = await recipes["broker"].xpending(recipes["STREAM"], "telnyx-workers")
    assert pending["pending"] == 0
