"""``webhooks.aiohttp_handler`` behind a real loopback aiohttp server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from telnyx_messaging import InvalidArgumentError, WebhookVerificationError, webhooks
from telnyx_messaging.testing._signer import WebhookSigner

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
SIGNER = WebhookSigner(seed=b"\x03" * 32)
BODY = (EXAMPLES / "message.finalized.json").read_bytes()

Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start an app with the given handler on 127.0.0.1 and give its webhook URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Any) -> str:
        app = web.Application()
        app.router.add_post("/telnyx", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/telnyx"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def post(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    async with session.post(url, data=body, headers=headers) as response:
        return response.status, await response.text()


async def test_verified_webhook_reaches_the_callback(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    """A signed webhook is answered 200 after the callback got its typed event."""
    received: list[webhooks.WebhookEvent] = []

    async def on_event(event: webhooks.WebhookEvent) -> None:
        received.append(event)

    url = await serve(webhooks.aiohttp_handler(on_event, public_key=SIGNER.public_key))
    status, _ = await post(session, url, BODY, SIGNER.headers(BODY))
    assert status == 200
    assert len(received) == 1
    event = received[0]
    assert isinstance(event, webhooks.DeliveryUpdate)
    assert event.payload is not None
    assert event.payload.to[0].status == "delivered"


async def test_plain_functions_work_as_callbacks(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    """A non-async callback is called, not awaited."""
    received: list[webhooks.WebhookEvent] = []
    url = await serve(webhooks.aiohttp_handler(received.append, public_key=[SIGNER.public_key]))
    status, _ = await post(session, url, BODY, SIGNER.headers(BODY))
    assert status == 200
    assert len(received) == 1


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing header telnyx-signature-ed25519"),
        (lambda: WebhookSigner().headers(BODY), "signature does not match"),
        (lambda: SIGNER.headers(BODY, timestamp=1), "s old, beyond the 300s tolerance"),
        (lambda: {**SIGNER.headers(BODY), "Telnyx-Timestamp": "soon"}, "not a whole number"),
    ],
)
async def test_unverified_webhooks_get_401_without_the_callback(
    serve: Serve,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    headers: dict[str, str],
    reason: str,
) -> None:
    """A webhook that fails verification gets 401 with the reason; the callback never runs."""
    # Signed now, not at collection: a late test in a long run would be past the tolerance.
    headers = headers() if callable(headers) else headers
    called: list[object] = []
    url = await serve(webhooks.aiohttp_handler(called.append, public_key=SIGNER.public_key))
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        status, text = await post(session, url, BODY, headers)
    assert status == 401
    assert reason in text
    assert called == []
    assert any(reason in r.getMessage() for r in caplog.records)


async def test_verified_but_unreadable_body_gets_400(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    """A correctly signed body that is not a webhook is answered 400; the callback never runs."""
    called: list[object] = []
    url = await serve(webhooks.aiohttp_handler(called.append, public_key=SIGNER.public_key))
    body = b'{"no": "data"}'
    status, text = await post(session, url, body, SIGNER.headers(body))
    assert status == 400
    assert text == 'webhook body has no "data" object'
    assert called == []


async def test_failing_callback_gets_500_and_is_logged(
    serve: Serve, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A raising callback gets 500 (so Telnyx retries), logged without the message text."""

    async def on_event(event: webhooks.WebhookEvent) -> None:
        raise RuntimeError("database down")

    url = await serve(webhooks.aiohttp_handler(on_event, public_key=SIGNER.public_key))
    with caplog.at_level(logging.ERROR, logger="telnyx_messaging"):
        status, text = await post(session, url, BODY, SIGNER.headers(BODY))
    assert status == 500
    assert "database down" not in text
    [record] = [r for r in caplog.records if r.name == "telnyx_messaging"]
    assert "message.finalized" in record.getMessage()
    assert "4ee8c3a6-4995-4309-a3c6-38e3db9ea4be" in record.getMessage()
    assert "Hello there!" not in record.getMessage()
    assert record.exc_info is not None


async def test_link_click_failures_log_the_record_type(
    serve: Serve, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """An event without event_type is logged by its record_type when the callback fails."""

    def on_event(event: webhooks.WebhookEvent) -> None:
        raise ValueError("nope")

    url = await serve(webhooks.aiohttp_handler(on_event, public_key=SIGNER.public_key))
    body = (EXAMPLES / "replaced-link-click.json").read_bytes()
    with caplog.at_level(logging.ERROR, logger="telnyx_messaging"):
        status, _ = await post(session, url, body, SIGNER.headers(body))
    assert status == 500
    assert "link_clicked" in caplog.records[-1].getMessage()


@pytest.mark.parametrize("key", [None, "", "not a key"])
def test_a_bad_key_fails_when_the_app_is_built(key: Any) -> None:
    """A missing or malformed key raises at setup, not on every request."""
    with pytest.raises(WebhookVerificationError):
        webhooks.aiohttp_handler(print, public_key=key)


def test_a_bad_tolerance_fails_when_the_app_is_built() -> None:
    """A negative tolerance is the caller's bug, reported at setup."""
    with pytest.raises(InvalidArgumentError):
        webhooks.aiohttp_handler(print, public_key=SIGNER.public_key, tolerance=-5)
