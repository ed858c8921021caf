"""Telemetry of what comes back and of campaigns: webhooks received, delivery waits and
outcomes, and send_many's run span linking its rows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from opentelemetry.trace import SpanKind, StatusCode
from otel_exported import Exported

from telnyx_messaging import AsyncClient, webhooks
from telnyx_messaging import telemetry as telemetry_module
from telnyx_messaging._telemetry import _instruments as names
from telnyx_messaging.testing import FakeTelnyx, Respond
from telnyx_messaging.testing._signer import WebhookSigner

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
SIGNER = WebhookSigner(seed=b"\x07" * 32)
BODY = (EXAMPLES / "message.received.json").read_bytes()
TO, FROM = "+13125550002", "+18445550001"


@pytest.fixture
def switched_on(exported: Exported) -> Iterator[Exported]:
    """Telemetry on globally, reporting to the in-memory exporters (receivers and trackers
    follow the global switch)."""
    telemetry_module.enable(
        tracer_provider=exported.tracer_provider, meter_provider=exported.meter_provider
    )
    yield exported
    telemetry_module.disable()


@pytest.fixture
async def serve() -> AsyncIterator[Any]:
    runners: list[web.AppRunner] = []

    async def start(receiver: webhooks.WebhookReceiver) -> str:
        app = web.Application()
        receiver.add_aiohttp_route(app, "/telnyx")
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}/telnyx"

    yield start
    for runner in runners:
        await runner.cleanup()


async def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url, data=body, headers=SIGNER.headers(body) if headers is None else headers
        ) as response,
    ):
        return response.status


def _received(exported: Exported) -> dict[tuple[str, str | None], int]:
    return {
        (p.attributes[names.WEBHOOK_OUTCOME], p.attributes.get(names.WEBHOOK_REASON)): p.value
        for p in exported.points(names.WEBHOOKS_RECEIVED)
    }


async def test_each_webhook_is_a_span_and_a_duplicate_counts_as_one(
    switched_on: Exported, serve: Any
) -> None:
    """A webhook is a `webhooks.receive` span (verify and dedupe as events, the outcome as
    attributes); the same event delivered again is counted as a duplicate."""
    seen: list[object] = []
    metrics: list[str] = []
    receiver = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key,
        on_event=seen.append,
        metrics=lambda m: metrics.append(m.name),
    )
    url = await serve(receiver)

    assert await _post(url, BODY) == 200
    assert await _post(url, BODY) == 200
    assert await _post(url, BODY, headers={"telnyx-signature-ed25519": "x"}) == 401

    assert len(seen) == 1
    assert metrics.count("answered") == 3  # the user's own hook still gets every report
    assert _received(switched_on) == {
        ("handled", None): 1,
        ("duplicate", "done"): 1,
        ("refused", "missing_header"): 1,
    }
    spans = switched_on.named("webhooks.receive")
    assert [s.attributes[names.WEBHOOK_OUTCOME] for s in spans] == [
        "handled",
        "duplicate",
        "refused",
    ]
    handled, duplicate, refused = spans
    assert handled.kind is SpanKind.SERVER
    assert handled.attributes[names.WEBHOOK_EVENT_TYPE] == "message.received"
    assert handled.attributes[names.HTTP_RESPONSE_STATUS_CODE] == 200
    assert [e.name for e in handled.events] == ["telnyx.webhook.verified"]
    assert [e.name for e in duplicate.events] == [
        "telnyx.webhook.verified",
        "telnyx.webhook.duplicate",
    ]
    assert refused.status.status_code is StatusCode.ERROR
    assert refused.attributes[names.WEBHOOK_REASON] == "missing_header"
    for span in spans:
        assert span.start_time is not None
        assert span.end_time is not None
        assert span.start_time <= span.end_time
    reported = repr([dict(s.attributes or {}) for s in spans])
    assert "+1" not in reported  # the message's numbers stay out


async def test_a_failing_callback_is_counted_failed(switched_on: Exported, serve: Any) -> None:
    """A callback that raises makes the span an error with the exception's class as reason."""

    def broken(_event: object) -> None:
        raise RuntimeError("database down")

    url = await serve(webhooks.WebhookReceiver(public_key=SIGNER.public_key, on_event=broken))
    assert await _post(url, BODY) == 500
    assert _received(switched_on) == {("failed", "RuntimeError"): 1}
    (span,) = switched_on.named("webhooks.receive")
    assert span.status.status_code is StatusCode.ERROR


async def test_a_queued_webhook_that_fails_later_is_counted_apart(
    switched_on: Exported, serve: Any
) -> None:
    """With on_receipt, the request is answered 200 (handled); its callback failing later is
    counted in `telnyx.webhooks.background_failures`."""

    def broken(_event: object) -> None:
        raise RuntimeError("database down")

    receiver = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key, on_event=broken, acknowledge="on_receipt"
    )
    url = await serve(receiver)
    assert await _post(url, BODY) == 200
    await receiver.drain()
    assert _received(switched_on) == {("handled", None): 1}
    (failed,) = switched_on.points(names.WEBHOOKS_BACKGROUND_FAILURES)
    assert failed.attributes == {
        names.WEBHOOK_OUTCOME: "failed",
        names.WEBHOOK_REASON: "RuntimeError",
    }
    await receiver.close()


async def test_delivery_wait_links_to_the_send_and_counts_outcomes(
    switched_on: Exported,
) -> None:
    """`DeliveryTracker.wait` is a `delivery.wait` span linked to the send's span by message
    id; the final status is counted in `telnyx.deliveries`."""
    async with (
        FakeTelnyx(send_seconds=0.05) as fake,
        AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
    ):
        tracker = webhooks.DeliveryTracker(client, quiet_period=0.1, poll_interval=0.1)
        msg = await client.messages.send(to=TO, from_=FROM, text="hi")
        outcome = await tracker.wait(msg, timeout=30)
    (send,) = switched_on.named("messages.send")
    (wait,) = switched_on.named("delivery.wait")
    assert wait.attributes[names.MESSAGE_ID] == msg.id
    assert [link.context.span_id for link in wait.links] == [send.context.span_id]
    assert wait.attributes[names.DELIVERY_STATUS] == (outcome.message.to[0].status,)
    (point,) = switched_on.points(names.DELIVERIES)
    assert point.value == 1
    assert point.attributes[names.DELIVERY_STATUS] == outcome.message.to[0].status


async def test_send_many_is_one_run_span_linked_from_each_row(switched_on: Exported) -> None:
    """A send_many run is one `messages.send_many` span; each row's send is a trace of its own
    that links to it (a million rows are not one trace of a million spans)."""
    rows = [{"to": f"+1312555{n:04d}", "from_": FROM, "text": "hi"} for n in range(5)]
    async with (
        FakeTelnyx(send_seconds=3600) as fake,
        AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
    ):
        fake.fail_next(Respond(422, json={"errors": [{"code": "40310", "title": "Invalid to"}]}))
        async with client.messages.send_many(rows, concurrency=2) as run:
            results = [result async for result in run]
    assert len(results) == 5
    (campaign,) = switched_on.named("messages.send_many")
    assert campaign.attributes[names.BULK_VIA] == "send"
    assert campaign.attributes[names.BULK_CONCURRENCY] == 2
    assert campaign.attributes[names.BULK_SENT] == 4
    assert campaign.attributes[names.BULK_FAILED] == 1
    row_spans = switched_on.named("messages.send")
    assert len(row_spans) == 5
    for row in row_spans:
        assert row.parent is None
        assert row.context.trace_id != campaign.context.trace_id
        assert [link.context.span_id for link in row.links] == [campaign.context.span_id]


async def test_webhooks_and_campaigns_cost_nothing_when_off(exported: Exported) -> None:
    """Off, the receiver keeps the user's own hook object and a run notes nothing."""
    from telnyx_messaging import _telemetry

    def hook(_metric: object) -> None:
        return None

    assert _telemetry.observe_webhooks(hook) is hook
    waiting = json.dumps  # any object: handed back as it is
    assert _telemetry.traced_wait("m", waiting) is waiting  # type: ignore[arg-type]


async def test_a_delivery_wait_that_times_out_is_an_error_span(switched_on: Exported) -> None:
    """A wait that runs out of time ends its span as an error naming the timeout."""
    tracker = webhooks.DeliveryTracker(None)
    with pytest.raises(webhooks.DeliveryTimeoutError):
        await tracker.wait("40017f9b-0000-0000-0000-000000000000", timeout=0.05)
    (wait,) = switched_on.named("delivery.wait")
    assert wait.attributes[names.ERROR_TYPE] == "DeliveryTimeoutError"
    assert wait.status.status_code is StatusCode.ERROR
    assert not wait.links  # no send of this process made it


def test_only_the_newest_sends_are_remembered_for_links() -> None:
    """The send-to-span memory keeps the newest SEND_LINKS message ids, not every one."""
    from opentelemetry.trace import INVALID_SPAN_CONTEXT

    from telnyx_messaging._telemetry import _inbound

    for n in range(_inbound.SEND_LINKS + 1):
        _inbound.remember_send(f"m-{n}", INVALID_SPAN_CONTEXT)
    assert not _inbound.send_link("m-0")
    assert _inbound.send_link(f"m-{_inbound.SEND_LINKS}")
