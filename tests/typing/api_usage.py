"""Code written the way users write it, type-checked with mypy --strict (nox -s typecheck).

It is never run; it fails the type check if a public signature or return type regresses.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import telnyx_messaging
from telnyx_messaging import (
    APIStatusError,
    AsyncClient,
    Message,
    OptOut,
    Page,
    PhoneNumberMessagingSettings,
    RateLimitError,
    Timeout,
    capture_responses,
    webhooks,
)


async def send_and_track(client: AsyncClient) -> tuple[str | None, Decimal | None]:
    msg: Message = await client.messages.send(
        to="+13125550002",
        from_="+18445550001",
        text="Hello",
        send_at=datetime.now(timezone.utc) + timedelta(hours=1),
        idempotency_key="order-42",
    )
    # What makes a message (id, sender, each recipient's number and status) is never Optional.
    status: str = msg.to[0].status
    sender: str = msg.from_.phone_number
    assert sender.startswith("+")
    amount = msg.cost.amount if msg.cost else None
    return status, amount


async def lists(client: AsyncClient) -> list[str]:
    page: Page[OptOut] = await client.messaging_optouts.list(page_size=50)
    numbers = [o.to or "" for o in page.data]
    if page.has_next_page():
        more = await page.next_page()
        numbers += [o.to or "" for o in more.data]
    async for settings in client.phone_numbers.messaging.list(filter_type="longcode"):
        one: PhoneNumberMessagingSettings = settings
        numbers.append(one.phone_number or "")
    return numbers


async def errors(client: AsyncClient) -> float | None:
    quick = client.with_options(timeout=Timeout(total=5, per_attempt=2), max_retries=0)
    try:
        with capture_responses() as seen:
            await quick.messages.retrieve("abc")
        assert seen[-1].status == 200
    except RateLimitError as exc:
        return exc.retry_after
    except APIStatusError as exc:
        return float(exc.status) if exc.codes else None
    return None


async def fan_out(client: AsyncClient) -> tuple[list[str], float | None]:
    from telnyx_messaging import BulkStats, SendResult

    def show(stats: BulkStats) -> None:
        print(stats.done, stats.eta, stats.paused_seconds)

    rows = ({"to": f"+1312555{n:04d}", "from_": "+18445550001", "text": "Hi"} for n in range(9))
    ids: list[str] = []
    async with client.messages.send_many(
        rows, concurrency=10, rate=50, per_sender_rate=1, journal="campaign.db", on_progress=show
    ) as run:
        async for result in run:
            one: SendResult = result
            if one.ok and one.message_id is not None:
                ids.append(one.message_id)
    leftover: list[int] = run.not_started + run.unfinished
    return ids, run.stats.eta if leftover else None


async def campaign_report(
    client: AsyncClient, tracker: telnyx_messaging.webhooks.DeliveryTracker
) -> dict[str, str]:
    rows = [{"to": "+13125550001", "from_": "+18445550001", "text": "Hi"}]
    report: dict[str, str] = {}
    async with client.messages.send_many(rows, await_delivery=tracker, delivery_timeout=60) as run:
        async for result in run:
            delivered: bool | None = result.delivered
            if result.delivery is not None and delivered is not None:
                report.update(result.delivery.statuses)
            elif result.delivery_error is not None:
                report[str(result.index)] = str(result.delivery_error)
    waiting: int = run.stats.awaiting_delivery + run.stats.delivered
    return report if waiting >= 0 else {}


# -- the transport seam and lazily resolved names (issue 8) -----------------------------


def mock_client() -> telnyx_messaging.AsyncClient:
    def handler(request: telnyx_messaging.Request) -> telnyx_messaging.Response:
        return request.respond(200, json={"data": {"id": "msg-1"}})

    transport: telnyx_messaging.AsyncTransport = telnyx_messaging.MockTransport(handler)
    return telnyx_messaging.AsyncClient(api_key="KEY", transport=transport)


def webhook_event(body: bytes, headers: dict[str, str]) -> object:
    # The submodule is an attribute of the package, for type checkers as at run time.
    return telnyx_messaging.webhooks.unwrap(body, headers, public_key="KEY")


# -- failures that say what is known, quiet retries (issues 13 and 7) --------------------


async def resend_when_unknown(client: AsyncClient) -> str | None:
    key = telnyx_messaging.new_idempotency_key()
    retries: list[float] = []

    def count(error: telnyx_messaging.APIError, wait: float) -> None:
        retries.append(wait)

    counted = AsyncClient(on_retry=count, max_response_size=1 << 20)
    try:
        await counted.messages.send(
            to="+13125550002", from_="+18445550001", text="Hi", idempotency_key=key
        )
    except telnyx_messaging.APIError as exc:
        history: tuple[telnyx_messaging.Attempt, ...] = exc.history
        statuses: list[int | None] = [a.status for a in history]
        if exc.outcome_unknown and exc.idempotency_key is not None and statuses:
            return exc.idempotency_key
        return exc.request_id
    with telnyx_messaging.set_instant_retries():
        pass
    return None


# -- receiving webhooks (as docs/webhooks.md builds receivers) --------------------------------


class SharedGuard:
    """A user's own duplicate guard, async as a Redis one is."""

    async def claim(self, key: str) -> webhooks.Claim:
        return "new"

    async def complete(self, key: str) -> None:
        return None

    async def release(self, key: str) -> None:
        return None


def receivers(public_key: str) -> list[webhooks.WebhookReceiver]:
    async def on_event(event: webhooks.WebhookEvent) -> None:
        if isinstance(event, webhooks.InboundMessage):
            print(event.payload.text)

    async def enqueue(webhook: webhooks.VerifiedWebhook) -> None:
        body: bytes = webhook.body
        print(len(body), webhook.key)

    def record(metric: webhooks.WebhookMetric) -> None:
        seconds: float | None = metric.seconds
        print(metric.name, metric.reason, metric.status, seconds)

    guard: webhooks.DuplicateGuard = SharedGuard()
    return [
        webhooks.WebhookReceiver(on_event=on_event, public_key=public_key),
        webhooks.WebhookReceiver(
            on_event=on_event,
            public_key=public_key,
            acknowledge="on_receipt",
            queue_size=100,
            workers=2,
            metrics=record,
        ),
        webhooks.WebhookReceiver(handoff=enqueue, public_key=public_key, duplicates=guard),
        webhooks.WebhookReceiver(
            on_event=print, public_key=public_key, duplicates=webhooks.MemoryDuplicateGuard()
        ),
    ]


# -- delivery tracking (docs/tracking.md) --------------------------------------------------


async def track_delivery(client: AsyncClient, body: bytes) -> tuple[bool, dict[str, str]]:
    async with webhooks.DeliveryTracker(client, quiet_period=30, poll_interval=5) as tracker:
        tracker.feed(body)  # what the webhook endpoint received, as bytes, str or parsed
        msg = await client.messages.send(to="+13125550002", from_="+18445550001", text="Hi")
        known: webhooks.DeliveryOutcome | None = tracker.outcome(msg)
        if known is not None and known.final:
            return known.delivered, known.statuses
        try:
            outcome: webhooks.DeliveryOutcome = await tracker.wait(msg, timeout=60)
        except webhooks.DeliveryTimeoutError as exc:
            last: webhooks.DeliveryOutcome | None = exc.last
            waited_for: str = exc.message_id
            return False, last.statuses if last is not None else {waited_for: "unknown"}
    message: Message = outcome.message
    event: webhooks.DeliveryUpdate | None = outcome.event
    source: str = outcome.source
    assert message.id == outcome.id
    assert source in ("webhook", "poll")
    assert event is None or event.payload is not None
    return outcome.delivered, outcome.statuses


async def track_without_a_client(message_id: str) -> bool:
    async def retrieve(id: str) -> Message:
        raise NotImplementedError(id)

    tracker = webhooks.DeliveryTracker(retrieve, quiet_period=None)
    try:
        return (await tracker.wait(message_id)).delivered
    finally:
        await tracker.close()


def observed() -> list[AsyncClient]:
    from telnyx_messaging import telemetry

    options: telemetry.Telemetry = telemetry.enable(record_phone_numbers=False)
    telemetry.disable()
    return [
        AsyncClient(telemetry=True),
        AsyncClient(telemetry=options),
        AsyncClient(telemetry=telemetry.Telemetry(record_message_text=True)),
        AsyncClient(telemetry=False),
    ]
