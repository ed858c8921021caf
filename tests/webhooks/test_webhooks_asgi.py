"""The ASGI adapter inside Starlette, over Starlette's own TestClient."""

from __future__ import annotations

import asyncio
import gzip
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from telnyx_messaging import webhooks
from telnyx_messaging.testing._signer import WebhookSigner

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
SIGNER = WebhookSigner(seed=b"\x06" * 32)
BODY = (EXAMPLES / "message.finalized.json").read_bytes()


def app_for(receiver: webhooks.WebhookReceiver) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with receiver:
            yield

    return Starlette(
        routes=[Route("/webhooks/telnyx", receiver.asgi_app(), methods=["POST"])],
        lifespan=lifespan,
    )


@pytest.fixture
def seen() -> list[webhooks.WebhookEvent]:
    return []


@pytest.fixture
def client(seen: list[webhooks.WebhookEvent]) -> Iterator[TestClient]:
    receiver = webhooks.WebhookReceiver(
        on_event=seen.append, public_key=SIGNER.public_key, max_body_size=4096
    )
    with TestClient(app_for(receiver)) as test_client:
        yield test_client


def post(client: TestClient, body: bytes, headers: dict[str, str] | None = None) -> Any:
    sent = SIGNER.headers(body) if headers is None else headers
    return client.post("/webhooks/telnyx", content=body, headers=sent)


def test_a_valid_webhook_is_handled(client: TestClient, seen: list[Any]) -> None:
    """A signed webhook reaches on_event as its typed event and gets 200."""
    response = post(client, BODY)
    assert response.status_code == 200
    [event] = seen
    assert isinstance(event, webhooks.DeliveryUpdate)


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        pytest.param(
            BODY.replace(b"delivered", b"sent"), lambda: SIGNER.headers(BODY), 401, id="tampered"
        ),
        pytest.param(BODY, lambda: SIGNER.headers(BODY, timestamp=1_600_000_000), 401, id="stale"),
        pytest.param(BODY, {}, 401, id="unsigned"),
        pytest.param(b"\x00\xff junk", {"telnyx-timestamp": "x"}, 401, id="junk"),
        pytest.param(b"[1, 2]", lambda: SIGNER.headers(b"[1, 2]"), 400, id="signed-junk"),
        pytest.param(b"x" * 5000, lambda: SIGNER.headers(b"x" * 5000), 413, id="oversized"),
        pytest.param(b"garbage", {"Content-Encoding": "gzip"}, 400, id="bad-gzip"),
        pytest.param(BODY, {"Content-Encoding": "br"}, 415, id="brotli"),
        pytest.param(BODY, {"Content-Length": "ten"}, 400, id="bad-length"),
    ],
)
def test_bad_requests_get_4xx_and_never_reach_the_callback(
    client: TestClient,
    seen: list[Any],
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    headers: dict[str, str],
    status: int,
) -> None:
    """Tampered, stale, junk, oversized or wrongly encoded: a 4xx, one warning, no callback."""
    # Signed now, not at collection: a late test in a long run would be past the tolerance.
    headers = headers() if callable(headers) else headers
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        response = post(client, body, headers)
    assert response.status_code == status
    assert response.text
    assert seen == []
    assert len(caplog.records) == 1


def test_a_gzipped_signed_webhook_is_accepted(client: TestClient, seen: list[Any]) -> None:
    """ASGI servers pass gzip through; the adapter undoes it before verifying."""
    headers = {**SIGNER.headers(BODY), "Content-Encoding": "gzip"}
    assert post(client, gzip.compress(BODY), headers).status_code == 200
    assert len(seen) == 1


def test_other_methods_get_405(client: TestClient) -> None:
    """Starlette's route answers 405 to a GET; the adapter itself does too when mounted bare."""
    assert client.get("/webhooks/telnyx").status_code == 405
    receiver = webhooks.WebhookReceiver(on_event=print, public_key=SIGNER.public_key)
    bare = TestClient(receiver.asgi_app())
    response = bare.get("/")
    assert (response.status_code, response.headers["allow"]) == (405, "POST")


def test_duplicates_are_suppressed(client: TestClient, seen: list[Any]) -> None:
    """The same event delivered twice is handled once; both deliveries get 200."""
    assert post(client, BODY).status_code == 200
    assert post(client, BODY).status_code == 200
    assert len(seen) == 1


def test_on_receipt_drains_at_shutdown() -> None:
    """In the lifespan, leaving `async with receiver` handles every queued event first."""
    done: list[str | None] = []

    async def slow(event: webhooks.WebhookEvent) -> None:
        await asyncio.sleep(0.3)
        done.append(event.id)

    receiver = webhooks.WebhookReceiver(
        on_event=slow, public_key=SIGNER.public_key, acknowledge="on_receipt"
    )
    with TestClient(app_for(receiver)) as client:
        assert post(client, BODY).status_code == 200
    assert done == ["4ee8c3a6-4995-4309-a3c6-38e3db9ea4be"]


def test_served_alone_it_runs_its_own_lifespan() -> None:
    """As the whole ASGI app, it drains its queue on the server's lifespan shutdown."""
    done: list[object] = []

    async def handle(event: webhooks.WebhookEvent) -> None:
        await asyncio.sleep(0.1)
        done.append(event)

    receiver = webhooks.WebhookReceiver(
        on_event=handle, public_key=SIGNER.public_key, acknowledge="on_receipt"
    )
    with TestClient(receiver.asgi_app()) as client:
        assert post(client, BODY).status_code == 200
    assert len(done) == 1


def test_a_receiver_outlives_a_closed_event_loop(seen: list[Any]) -> None:
    """Workers started on a loop that has since closed are started again on the next one."""
    receiver = webhooks.WebhookReceiver(
        on_event=seen.append, public_key=SIGNER.public_key, acknowledge="on_receipt"
    )
    body = BODY.replace(b"4ee8c3a6", b"00000001")
    for _ in range(2):  # a TestClient without `with` runs each request on a fresh loop
        assert post(TestClient(receiver.asgi_app()), body).status_code == 200
        body = BODY.replace(b"4ee8c3a6", b"00000002")
    with TestClient(receiver.asgi_app()) as client:
        assert post(client, BODY).status_code == 200
    assert {e.id for e in seen} >= {"4ee8c3a6-4995-4309-a3c6-38e3db9ea4be"}


async def test_a_client_that_goes_away_gets_no_answer() -> None:
    """A disconnect while the body is read ends the request quietly, with nothing sent."""
    receiver = webhooks.WebhookReceiver(on_event=print, public_key=SIGNER.public_key)
    app = receiver.asgi_app()
    sent: list[Any] = []
    messages = iter([{"type": "http.request", "body": b"{", "more_body": True}])

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    await app(scope, receive, send)
    await app({"type": "websocket"}, receive, send)
    assert sent == []
