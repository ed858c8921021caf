"""``webhooks.DeliveryTracker``: signed webhooks over loopback HTTP and FakeTelnyx polls."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from telnyx_messaging import (
    Address,
    APIConnectionError,
    AsyncClient,
    ConfigurationError,
    InvalidArgumentError,
    Message,
    NotFoundError,
    Recipient,
    WebhookParseError,
    webhooks,
)
from telnyx_messaging.testing import FakeTelnyx, Hang, WebhookSigner

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
SIGNER = WebhookSigner(seed=b"\x0b" * 32)
FINALIZED = json.loads((EXAMPLES / "message.finalized.json").read_text())
SENT = json.loads((EXAMPLES / "message.sent.json").read_text())
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
SENDER = Address(phone_number="+18445550001")
# Long enough that nothing in these tests polls unless it asks to.
NO_POLL = 3600.0


def event(
    payload: dict[str, Any],
    event_type: str,
    statuses: str | Iterable[str],
    *,
    at: int = 0,
) -> dict[str, Any]:
    """A delivery webhook body for ``payload`` with its recipients at ``statuses``."""
    template = FINALIZED if event_type == "message.finalized" else SENT
    body: dict[str, Any] = copy.deepcopy(template)
    payload = copy.deepcopy(payload)
    wanted = [statuses] * len(payload["to"]) if isinstance(statuses, str) else list(statuses)
    payload["to"] = [{**to, "status": s} for to, s in zip(payload["to"], wanted, strict=True)]
    body["data"].update(
        id=str(uuid.uuid4()),
        event_type=event_type,
        occurred_at=(T0 + timedelta(seconds=at)).isoformat(),
        payload=payload,
    )
    return body


def example_payload() -> dict[str, Any]:
    """The spec example's message (one recipient) under a new id."""
    payload: dict[str, Any] = copy.deepcopy(FINALIZED["data"]["payload"])
    payload["id"] = str(uuid.uuid4())
    return payload


Deliver = Callable[[dict[str, Any]], Awaitable[int]]


@pytest.fixture
async def tracker(client: AsyncClient) -> AsyncIterator[webhooks.DeliveryTracker]:
    async with webhooks.DeliveryTracker(client, quiet_period=NO_POLL) as t:
        yield t


@pytest.fixture
async def deliver(tracker: webhooks.DeliveryTracker) -> AsyncIterator[Deliver]:
    """POST signed webhooks to an aiohttp app whose handler feeds ``tracker``."""
    app = web.Application()
    handler = webhooks.aiohttp_handler(tracker.feed, public_key=SIGNER.public_key)
    app.router.add_post("/telnyx", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/telnyx"
    async with aiohttp.ClientSession() as session:

        async def post(body: dict[str, Any]) -> int:
            data, headers = SIGNER.sign(body)
            async with session.post(url, data=data, headers=headers) as response:
                return response.status

        yield post
    await runner.cleanup()


async def send(client: AsyncClient, fake: FakeTelnyx) -> tuple[Message, dict[str, Any]]:
    """Send one SMS through FakeTelnyx; the Message and the fake's stored JSON for it."""
    msg = await client.messages.send(
        to="+13125550002", from_="+18445550001", text="Hi", webhook_url="https://x.test/hook"
    )
    assert msg.id is not None
    return msg, fake.messages[msg.id]


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition``, event-loop tick by tick, with a generous bound."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what} {sdk_tasks()}")


def sdk_tasks() -> list[str]:
    """Running tasks whose coroutine is the SDK's client side (the fake server's are left out)."""
    package = Path(webhooks.__file__).parent
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        where = Path(code.co_filename) if code is not None else Path()
        if where.is_relative_to(package) and not where.is_relative_to(package / "testing"):
            found.append(code.co_name if code is not None else "?")
    return found


# --- webhooks answer


async def test_delivered_webhook_answers_the_wait(
    client: AsyncClient, fake: FakeTelnyx, tracker: webhooks.DeliveryTracker, deliver: Deliver
) -> None:
    """message.sent then message.finalized over HTTP: the wait returns the delivered outcome."""
    msg, stored = await send(client, fake)
    waiting = asyncio.create_task(tracker.wait(msg, timeout=60))
    assert await deliver(event(stored, "message.sent", "sent", at=1)) == 200
    await asyncio.sleep(0)
    assert not waiting.done()
    assert await deliver(event(stored, "message.finalized", "delivered", at=2)) == 200
    outcome = await waiting
    assert outcome.final
    assert outcome.delivered
    assert outcome.source == "webhook"
    assert outcome.payload is outcome.message
    assert outcome.payload.to[0].status == "delivered"
    assert outcome.statuses == {"+13125550002": "delivered"}
    assert outcome.event is not None
    assert outcome.event.event_type == "message.finalized"
    assert outcome.id == msg.id


async def test_failed_delivery_is_final_with_its_errors(
    client: AsyncClient, fake: FakeTelnyx, tracker: webhooks.DeliveryTracker, deliver: Deliver
) -> None:
    """delivery_failed ends the wait, not delivered, with the errors Telnyx reported."""
    msg, stored = await send(client, fake)
    waiting = asyncio.create_task(tracker.wait(msg.id or "", timeout=60))
    failed = event(stored, "message.finalized", "delivery_failed", at=2)
    failed["data"]["payload"]["errors"] = [{"code": "40300", "title": "Blocked as spam"}]
    await deliver(failed)
    outcome = await waiting
    assert outcome.final
    assert not outcome.delivered
    assert outcome.payload.to[0].status == "delivery_failed"
    assert outcome.message.errors[0].code == "40300"


async def test_webhook_before_the_send_answer_is_kept_for_the_wait(
    client: AsyncClient, fake: FakeTelnyx, tracker: webhooks.DeliveryTracker, deliver: Deliver
) -> None:
    """A finalized webhook that lands before anyone waits answers the later wait at once."""
    msg, stored = await send(client, fake)
    await deliver(event(stored, "message.finalized", "delivered", at=2))
    assert (known := tracker.outcome(msg)) is not None
    assert known.final
    # The queued Message from the send answer must not move it back.
    outcome = await tracker.wait(msg, timeout=0.001)
    assert outcome.payload.to[0].status == "delivered"
    assert outcome.source == "webhook"
    # A second wait, after the first ended, still finds it.
    assert (await tracker.wait(msg.id or "", timeout=0.001)) is outcome


async def test_duplicates_and_late_sent_never_move_a_message_back(
    client: AsyncClient, fake: FakeTelnyx, tracker: webhooks.DeliveryTracker, deliver: Deliver
) -> None:
    """Retried and out-of-order deliveries leave the furthest status in place."""
    msg, stored = await send(client, fake)
    sent = event(stored, "message.sent", "sent", at=1)
    await deliver(sent)
    await deliver(sent)  # Telnyx retried it
    tracker.feed(sent)  # and again from a bus, past any receiver's duplicate guard
    await deliver(event(stored, "message.sent", "queued", at=0))  # an older one, late
    assert (known := tracker.outcome(msg)) is not None
    assert known.statuses == {"+13125550002": "sent"}
    assert not known.final
    finalized = event(stored, "message.finalized", "delivered", at=3)
    await deliver(finalized)
    await deliver(event(stored, "message.sent", "sent", at=1))  # message.sent after finalized
    await deliver(event(stored, "message.finalized", "delivery_failed", at=4))
    await deliver(finalized)
    tracker.feed(finalized)
    outcome = await tracker.wait(msg, timeout=0.001)
    assert outcome.payload.to[0].status == "delivered"
    assert outcome.event is not None
    assert outcome.event.id == finalized["data"]["id"]


async def test_a_later_report_of_the_same_stage_wins_an_earlier_one() -> None:
    """Between two reports at one stage, occurred_at decides, whatever the arrival order."""
    tracker = webhooks.DeliveryTracker()
    payload = example_payload()
    later = event(payload, "message.sent", "sent", at=5)
    later["data"]["payload"]["to"][0]["carrier"] = "LATER"
    earlier = event(payload, "message.sent", "sent", at=1)
    earlier["data"]["payload"]["to"][0]["carrier"] = "EARLIER"
    # A time without an offset is read as UTC: still earlier than `later`.
    earlier["data"]["occurred_at"] = "2026-11-27T12:00:01"
    tracker.feed(earlier)
    tracker.feed(later)
    tracker.feed(earlier)
    assert (known := tracker.outcome(payload["id"])) is not None
    assert known.payload.to[0].carrier == "LATER"


async def test_a_recipient_without_a_status_is_behind_every_stage() -> None:
    """A Message whose recipient has no status yet is moved on by any report, and moves none."""
    tracker = webhooks.DeliveryTracker()
    payload = example_payload()
    number = payload["to"][0]["phone_number"]
    bare = Message(id=payload["id"], from_=SENDER, to=(Recipient(phone_number=number, status=""),))
    with pytest.raises(webhooks.DeliveryTimeoutError) as caught:
        await tracker.wait(bare, timeout=0.01)
    assert caught.value.last is not None
    assert caught.value.last.statuses == {number: ""}
    tracker.feed(event(payload, "message.sent", "scheduled"))
    with pytest.raises(webhooks.DeliveryTimeoutError) as caught:
        await tracker.wait(bare, timeout=0.01)
    assert caught.value.last is not None
    assert caught.value.last.statuses == {number: "scheduled"}


async def test_group_mms_gives_the_outcome_per_recipient(
    client: AsyncClient, fake: FakeTelnyx, tracker: webhooks.DeliveryTracker, deliver: Deliver
) -> None:
    """A message to three numbers is final only when each is, and reports each one."""
    numbers = ["+13125550002", "+13125550003", "+13125550004"]
    msg = await client.messages.send_group_mms(from_="+18445550001", to=numbers, text="Hi all")
    assert msg.id is not None
    stored = fake.messages[msg.id]
    waiting = asyncio.create_task(tracker.wait(msg, timeout=60))
    await deliver(event(stored, "message.finalized", ["delivered", "sent", "sent"], at=1))
    await asyncio.sleep(0)
    assert not waiting.done()
    assert (known := tracker.outcome(msg)) is not None
    assert known.statuses == dict(zip(numbers, ["delivered", "sent", "sent"], strict=True))
    # The second report is older for the first number: its "sent" there changes nothing.
    later = ["sent", "delivery_failed", "delivered"]
    await deliver(event(stored, "message.finalized", later, at=2))
    outcome = await waiting
    assert outcome.statuses == dict(
        zip(numbers, ["delivered", "delivery_failed", "delivered"], strict=True)
    )
    assert outcome.final
    assert not outcome.delivered


@pytest.mark.parametrize(
    ("event_type", "final"), [("message.finalized", True), ("message.sent", False)]
)
async def test_an_unknown_status_is_final_only_when_telnyx_says_finalized(
    event_type: str, final: bool
) -> None:
    """A status this SDK does not know ends the wait in message.finalized, not before."""
    tracker = webhooks.DeliveryTracker()
    payload = example_payload()
    tracker.feed(event(payload, "message.sent", "sent", at=1))
    tracker.feed(event(payload, event_type, "carrier_accepted", at=2))
    assert (known := tracker.outcome(payload["id"])) is not None
    assert known.final is final
    assert known.payload.to[0].status == "carrier_accepted"


async def test_many_concurrent_waiters_all_get_the_outcome(
    tracker: webhooks.DeliveryTracker, deliver: Deliver
) -> None:
    """Fifty waits on one message and one each on twenty others all end with their outcome."""
    shared = example_payload()
    singles = [example_payload() for _ in range(20)]
    on_shared = [asyncio.create_task(tracker.wait(shared["id"], timeout=60)) for _ in range(50)]
    on_singles = [asyncio.create_task(tracker.wait(p["id"], timeout=60)) for p in singles]
    await asyncio.sleep(0)
    await asyncio.gather(
        *(deliver(event(p, "message.finalized", "delivered")) for p in [shared, *singles])
    )
    outcomes = await asyncio.gather(*on_shared)
    assert all(o is outcomes[0] for o in outcomes)
    assert outcomes[0].id == shared["id"]
    assert [o.id for o in await asyncio.gather(*on_singles)] == [p["id"] for p in singles]
    assert repr(tracker) == f"<DeliveryTracker waiting=0 kept={len(singles) + 1}>"


async def test_feed_takes_events_bodies_and_json_from_a_bus() -> None:
    """Parsed events, raw bytes or text, and decoded JSON all count; other events are ignored."""
    tracker = webhooks.DeliveryTracker()
    payloads = [example_payload() for _ in range(4)]
    bodies = [event(p, "message.finalized", "delivered") for p in payloads]
    tracker.feed(webhooks.parse(bodies[0]))
    tracker.feed(json.dumps(bodies[1]).encode())
    tracker.feed(json.dumps(bodies[2]))
    tracker.feed(bodies[3])
    assert all((o := tracker.outcome(p["id"])) and o.final for p in payloads)
    inbound = copy.deepcopy(FINALIZED)
    inbound["data"]["event_type"] = "message.received"
    tracker.feed(inbound)
    click = {
        "record_type": "link_clicked",
        "message_id": payloads[0]["id"],
        "url": "https://x.test",
    }
    tracker.feed({"data": click})
    tracker.feed({"data": {"event_type": "message.exploded"}})
    assert repr(tracker) == "<DeliveryTracker waiting=0 kept=4>"
    with pytest.raises(WebhookParseError):
        tracker.feed(b"not json")
    with pytest.raises(WebhookParseError):
        tracker.feed({"data": {"event_type": "message.sent", "payload": {"to": []}}})


# --- polling answers


async def test_polling_answers_when_no_webhook_comes(client: AsyncClient, fake: FakeTelnyx) -> None:
    """After the quiet period the wait polls GET /messages/{id}, backing off, until final."""
    tracker = webhooks.DeliveryTracker(client, quiet_period=0.01, poll_interval=0.01)
    msg, stored = await send(client, fake)
    waiting = asyncio.create_task(tracker.wait(msg, timeout=60))

    def polls() -> int:
        return sum(r.method == "GET" and r.path == f"/messages/{msg.id}" for r in fake.requests)

    await until(lambda: polls() >= 2, "two polls")
    assert not waiting.done()
    assert tracker.outcome(msg) is not None
    stored["to"][0]["status"] = "delivered"
    outcome = await waiting
    assert outcome.source == "poll"
    assert outcome.event is None
    assert outcome.payload.to[0].status == "delivered"
    await tracker.close()


async def test_waits_on_one_message_share_its_polls(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Twenty waits on one quiet message make one poll per interval, not twenty."""
    tracker = webhooks.DeliveryTracker(client, quiet_period=0.01, poll_interval=NO_POLL)
    msg, stored = await send(client, fake)
    waits = [asyncio.create_task(tracker.wait(msg, timeout=60)) for _ in range(20)]

    def polls() -> int:
        return sum(r.method == "GET" for r in fake.requests)

    await until(lambda: polls() >= 1, "a poll")
    await asyncio.sleep(0.2)  # room for any wrongly doubled poll to show up
    assert polls() == 1
    tracker.feed(event(stored, "message.finalized", "delivered"))
    assert {(await w).source for w in waits} == {"webhook"}


async def test_polling_retries_network_failures_and_raises_the_rest(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """A poll that fails on the network is tried again; a 404 is raised from the wait."""
    msg, stored = await send(client, fake)
    stored["to"][0]["status"] = "delivery_failed"
    calls: list[str] = []

    async def flaky_retrieve(message_id: str) -> Message:
        calls.append(message_id)
        if len(calls) == 1:
            raise APIConnectionError("reset", method="GET", url="/messages/x")
        return await client.messages.retrieve(message_id)

    tracker = webhooks.DeliveryTracker(flaky_retrieve, quiet_period=0.01, poll_interval=0.01)
    outcome = await tracker.wait(msg.id or "", timeout=60)
    assert outcome.source == "poll"
    assert outcome.payload.to[0].status == "delivery_failed"
    assert calls == [msg.id, msg.id]

    polling = webhooks.DeliveryTracker(client, quiet_period=0.01)
    with pytest.raises(NotFoundError):
        await polling.wait("00000000-0000-0000-0000-000000000000", timeout=60)
    assert repr(polling) == "<DeliveryTracker waiting=0 kept=0>"


async def test_a_webhook_during_a_poll_answers_and_the_poll_is_dropped(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """A webhook arriving while a poll hangs ends the wait at once; no poll task is left."""
    tracker = webhooks.DeliveryTracker(client, quiet_period=0.01)
    msg, stored = await send(client, fake)
    fake.fail_next(Hang(60), method="GET")
    waiting = asyncio.create_task(tracker.wait(msg, timeout=60))
    await until(lambda: fake.requests[-1].method == "GET", "a poll in flight")
    tracker.feed(event(stored, "message.finalized", "delivered"))
    outcome = await waiting
    assert outcome.source == "webhook"
    await until(lambda: not sdk_tasks(), "the poll task gone")


async def test_polling_stops_outside_the_ten_day_window(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """A message older than 10 days is never polled; the timeout says what was last known."""
    tracker = webhooks.DeliveryTracker(client, quiet_period=0.01, poll_interval=0.01)
    old = Message(
        id=str(uuid.uuid4()),
        from_=SENDER,
        to=(Recipient(phone_number="+13125550002", status="sent"),),
        # Built by hand without an offset, which is read as UTC.
        received_at=datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=11),
    )
    with pytest.raises(webhooks.DeliveryTimeoutError) as caught:
        await tracker.wait(old, timeout=0.2)
    assert not [r for r in fake.requests if r.method == "GET"]
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.message_id == old.id
    assert caught.value.last is not None
    assert caught.value.last.statuses == {"+13125550002": "sent"}
    assert "last known status: sent" in str(caught.value)


async def test_without_a_source_only_webhooks_answer() -> None:
    """No client: the wait times out rather than poll, and says nothing was heard."""
    tracker = webhooks.DeliveryTracker(quiet_period=0.01)
    with pytest.raises(webhooks.DeliveryTimeoutError, match="nothing heard yet") as caught:
        await tracker.wait("some-id", timeout=0.05)
    assert caught.value.last is None


# --- lifetime and bounds


async def test_cancelled_waits_leave_nothing_behind(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Cancelling waits, one mid-poll, leaves no task and no watched id."""
    tracker = webhooks.DeliveryTracker(client, quiet_period=0.01)
    msg, _ = await send(client, fake)
    fake.fail_next(Hang(60), method="GET")
    polling = asyncio.create_task(tracker.wait(msg, timeout=60))
    others = [(await send(client, fake))[0] for _ in range(5)]
    idle = [asyncio.create_task(tracker.wait(m)) for m in others]
    await until(lambda: fake.requests[-1].method == "GET", "a poll in flight")
    for task in [polling, *idle]:
        task.cancel()
    results = await asyncio.gather(polling, *idle, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    await until(lambda: not sdk_tasks(), "no task left")
    # What the waits learned (the send answers, maybe polls) is kept for later waits.
    assert repr(tracker) == "<DeliveryTracker waiting=0 kept=6>"


async def test_close_ends_pending_waits_and_later_use(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """close() ends every wait with ConfigurationError, ignores later webhooks, starts nothing."""
    msg, stored = await send(client, fake)
    other, _ = await send(client, fake)
    fake.fail_next(Hang(60), method="GET")
    async with webhooks.DeliveryTracker(client, quiet_period=0.01) as tracker:
        polling = asyncio.create_task(tracker.wait(msg, timeout=60))
        idle = asyncio.create_task(tracker.wait(other.id or "", timeout=60))
        await until(lambda: fake.requests[-1].method == "GET", "a poll in flight")
    assert tracker.is_closed
    for task in (polling, idle):
        with pytest.raises(ConfigurationError, match="closed"):
            await task
    await until(lambda: not sdk_tasks(), "no task left")
    tracker.feed(event(stored, "message.finalized", "delivered"))
    assert tracker.outcome(msg) is None
    with pytest.raises(ConfigurationError):
        await tracker.wait(msg)
    await tracker.close()  # twice is fine
    assert repr(tracker) == "<DeliveryTracker closed waiting=0 kept=0>"


async def test_a_closed_client_ends_the_wait_with_its_error(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """When the client closes, the next poll raises its ConfigurationError out of the wait."""
    tracker = webhooks.DeliveryTracker(client, quiet_period=0.01)
    msg, _ = await send(client, fake)
    await client.close()
    with pytest.raises(ConfigurationError, match="AsyncClient is closed"):
        await tracker.wait(msg, timeout=60)


async def test_a_flood_of_unawaited_webhooks_stays_bounded(deliver: Deliver) -> None:
    """Thousands of ids nobody waits on keep at most max_kept; a waited id survives the flood."""
    tracker = webhooks.DeliveryTracker(max_kept=50)
    watched = example_payload()
    waiting = asyncio.create_task(tracker.wait(watched["id"], timeout=60))
    await asyncio.sleep(0)
    tracker.feed(event(watched, "message.sent", "sent"))
    flood = [example_payload() for _ in range(3000)]
    for payload in flood:
        tracker.feed(event(payload, "message.finalized", "delivered"))
    assert repr(tracker) == "<DeliveryTracker waiting=1 kept=50>"
    assert tracker.outcome(flood[0]["id"]) is None
    assert tracker.outcome(flood[-1]["id"]) is not None
    tracker.feed(event(watched, "message.finalized", "delivered", at=1))
    assert (await waiting).final
    assert repr(tracker) == "<DeliveryTracker waiting=0 kept=50>"
    assert tracker.outcome(watched["id"]) is not None  # the newest kept
    assert await deliver(event(flood[0], "message.finalized", "delivered")) == 200


async def test_kept_ids_expire_after_keep_for() -> None:
    """An unclaimed id is dropped once older than keep_for, on the next webhook."""
    tracker = webhooks.DeliveryTracker(keep_for=0.05)
    first, second = example_payload(), example_payload()
    tracker.feed(event(first, "message.finalized", "delivered"))
    await asyncio.sleep(0.1)
    tracker.feed(event(second, "message.finalized", "delivered"))
    assert tracker.outcome(first["id"]) is None
    assert tracker.outcome(second["id"]) is not None


# --- arguments


@pytest.mark.parametrize(
    "kwargs",
    [
        {"quiet_period": 0},
        {"poll_interval": -1},
        {"max_poll_interval": "5"},
        {"keep_for": True},
        {"max_kept": 0},
        {"max_kept": 1.5},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any]) -> None:
    """Settings that make no sense fail at construction, naming the setting."""
    with pytest.raises(InvalidArgumentError, match=next(iter(kwargs))):
        webhooks.DeliveryTracker(**kwargs)


def test_a_source_without_retrieve_is_refused() -> None:
    """Something that cannot fetch messages is refused with what to pass instead."""
    with pytest.raises(InvalidArgumentError, match=r"\.messages\.retrieve"):
        webhooks.DeliveryTracker(object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("message", "timeout", "match"),
    [("", None, "non-empty"), (42, None, "non-empty"), ("id", 0, "timeout")],
)
async def test_bad_wait_arguments_are_refused(message: Any, timeout: Any, match: str) -> None:
    """A wait with no id or a timeout of 0 fails before waiting."""
    tracker = webhooks.DeliveryTracker()
    with pytest.raises(InvalidArgumentError, match=match):
        await tracker.wait(message, timeout=timeout)


def test_importing_webhooks_does_not_load_tracking() -> None:
    """The tracker loads on first use, and even then loads neither aiohttp nor the client."""
    code = (
        "import sys; from telnyx_messaging import webhooks; "
        "print('telnyx_messaging.webhooks._tracking' in sys.modules); "
        "webhooks.DeliveryTracker(quiet_period=None).feed(webhooks.parse({'data': {}})); "
        "print('telnyx_messaging.webhooks._tracking' in sys.modules); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiohttp' "
        "or m.startswith('telnyx_messaging._client')))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "True", "[]"]
    with pytest.raises(AttributeError, match="NoSuchThing"):
        webhooks.NoSuchThing  # noqa: B018


async def test_a_poll_failing_as_a_webhook_answers_does_not_hide_the_answer() -> None:
    """When a webhook answers while the poll fails, the wait returns the webhook's outcome."""
    payload = example_payload()

    async def retrieve(message_id: str) -> Message:
        racing.feed(event(payload, "message.finalized", "delivered"))
        raise NotFoundError("gone", method="GET", url="/messages/x", status=404, headers={})

    racing = webhooks.DeliveryTracker(retrieve, quiet_period=0.01)
    outcome = await racing.wait(payload["id"], timeout=60)
    assert outcome.source == "webhook"


async def test_close_racing_a_finished_poll_raises_our_error() -> None:
    """A poll that brings the final status just as close() runs ends the wait as closed."""
    payload = example_payload()
    finalized = webhooks.parse(event(payload, "message.finalized", "delivered"))
    assert isinstance(finalized, webhooks.DeliveryUpdate)

    async def retrieve(message_id: str) -> Message:
        await tracker.close()  # closing while this poll's answer is on its way back
        return finalized.payload

    tracker = webhooks.DeliveryTracker(retrieve, quiet_period=0.01, poll_interval=0.01)
    with pytest.raises(ConfigurationError, match="closed"):
        await tracker.wait(payload["id"], timeout=30)
