"""``telnyx-messaging demo``: the SDK's whole loop against an in-process fake.

A few hundred sends through ``messages.send_many``, every delivery webhook received and
verified by a receiver built with ``webhooks.aiohttp_handler``, an inbound message answered,
and a tampered webhook refused. No account, no network.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web

from telnyx_messaging import AsyncClient, SendResult, webhooks
from telnyx_messaging._cli._argtypes import _positive
from telnyx_messaging.testing import FakeTelnyx

__all__ = ["add_demo", "demo"]

SENDER = "+18445550001"  # the fake's number on its default messaging profile
CUSTOMER = "+13125559999"
#: Seconds each send waits for its final delivery status (the fake's come in milliseconds).
DELIVERY_TIMEOUT = 30.0


async def send_all(
    client: AsyncClient, texts: dict[str, str], tracker: webhooks.DeliveryTracker
) -> list[SendResult]:
    """Send ``texts`` (recipient -> text) with ``send_many``: one result per recipient, each
    carrying its final delivery outcome from ``tracker``."""
    rows = ({"to": to, "from_": SENDER, "text": text} for to, text in texts.items())
    async with client.messages.send_many(
        rows, concurrency=100, await_delivery=tracker, delivery_timeout=DELIVERY_TIMEOUT
    ) as run:
        return [result async for result in run]


class _Inbox:
    """The demo's webhook receiver: counts verified events, feeds the delivery tracker, and
    knows when lifecycles close."""

    def __init__(self) -> None:
        self.tracker = webhooks.DeliveryTracker()  # webhooks alone answer: no polling
        self.events: Counter[str] = Counter()
        self.final_status: dict[str, str] = {}
        self.sent: set[str] = set()  # ids with a message.sent
        self.inbound: list[webhooks.InboundMessage] = []
        self.changed = asyncio.Event()

    def on_event(self, event: webhooks.WebhookEvent) -> None:
        self.events[event.event_type or event.record_type or "?"] += 1
        self.tracker.feed(event)
        if isinstance(event, webhooks.DeliveryUpdate):
            if event.event_type == "message.sent":
                self.sent.add(event.payload.id)
            else:  # message.finalized
                self.final_status[event.payload.id] = event.payload.to[0].status
        elif isinstance(event, webhooks.InboundMessage):
            self.inbound.append(event)
        self.changed.set()

    def closed(self, message_id: str) -> bool:
        """Finalized, after a message.sent unless it was never sent."""
        status = self.final_status.get(message_id)
        return status == "sending_failed" or (status is not None and message_id in self.sent)

    async def wait_for(self, done: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``done()`` holds, checking after each webhook; False on timeout."""
        deadline = time.monotonic() + timeout
        while not done():
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                return done()
        return True


async def demo(count: int = 300, *, say: Callable[[str], object] = print) -> int:
    """Send ``count`` messages through a local fake and verify every webhook; 0 if all closed."""
    fake = FakeTelnyx()
    fake.fail_delivery(*(f"+1312555{n:04d}" for n in (7, 77)))
    fake.fail_delivery(f"+1312555{177:04d}", status="sending_failed")
    inbox = _Inbox()
    app = web.Application()
    app.router.add_post(
        "/telnyx", webhooks.aiohttp_handler(inbox.on_event, public_key=fake.public_key)
    )
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    # The tampered webhook below is refused with a warning; the demo prints its own line.
    quiet = logging.NullHandler()
    logging.getLogger("telnyx_messaging").addHandler(quiet)
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        hook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/telnyx"
        fake.messaging_profiles[fake.default_profile_id].webhook_url = hook_url
        async with (
            fake,
            AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
            inbox.tracker,
        ):
            return await _run(fake, client, inbox, hook_url, count, say)
    finally:
        logging.getLogger("telnyx_messaging").removeHandler(quiet)
        await runner.cleanup()


async def _run(
    fake: FakeTelnyx,
    client: AsyncClient,
    inbox: _Inbox,
    hook_url: str,
    count: int,
    say: Callable[[str], object],
) -> int:
    say("telnyx-messaging demo: a local fake of Telnyx, no account, no network")
    say(f"  API       {fake.base_url}")
    say(f"  webhooks  {hook_url} (aiohttp_handler, verified with the fake's Ed25519 key)")
    say("  outcomes  send_many(..., await_delivery=DeliveryTracker fed by that handler)\n")

    texts = {f"+1312555{n:04d}": f"Your order #{1000 + n} has shipped" for n in range(count)}
    started = time.perf_counter()
    results = await send_all(client, texts, inbox.tracker)
    took = time.perf_counter() - started
    sent = [r.message_id for r in results if r.ok and r.message_id is not None]
    errors = [r for r in results if not r.ok]
    rate = len(results) / took
    say(
        f"Sent      {len(sent)} messages with send_many, outcomes known in {took:.2f} s "
        f"({rate:.0f} messages/s)"
    )
    for error in errors[:3]:
        say(f"  failed: row {error.index}: {error.error!r}")

    # The outcomes come from the tracker's join of webhooks to sends, per result.
    statuses = Counter(
        status
        for r in results
        if r.delivery and r.delivery.final
        for status in r.delivery.statuses.values()
    )
    unknown = [r for r in results if r.ok and r.delivered is None]
    failed = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()) if s != "delivered")
    delivered = statuses["delivered"]
    failures = sum(statuses.values()) - delivered
    say(
        f"Delivered {delivered}; failed {failures}{f' ({failed})' if failed else ''}"
        + (f"; {len(unknown)} with no final status" if unknown else "")
    )
    closed = await inbox.wait_for(lambda: all(inbox.closed(i) for i in sent), 30)
    elapsed = time.perf_counter() - started
    closed_count = sum(inbox.closed(i) for i in sent)
    say(f"Closed    {closed_count} of {len(sent)} lifecycles {elapsed:.2f} s after the first send")

    fake.receive(from_=CUSTOMER, to=SENDER, text="Where is my order?")
    await inbox.wait_for(lambda: bool(inbox.inbound), 10)
    reply_status = await _answer(client, inbox)
    say(f"Inbound   {CUSTOMER} asked 'Where is my order?'; the answer was {reply_status}")

    verified = sum(inbox.events.values())
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(inbox.events.items()))
    say(f"Webhooks  {verified} verified ({kinds})")
    say(f"Tampered  {await _tampered(fake, hook_url)}")

    ok = closed and reply_status == "delivered" and not errors and not unknown
    say("\nEvery message's lifecycle closed." if ok else "\nSome lifecycles did not close.")
    return 0 if ok else 1


async def _answer(client: AsyncClient, inbox: _Inbox) -> str:
    """Reply to the first inbound message from the number it came to; the reply's status."""
    if not inbox.inbound:
        return "not sent: no inbound message arrived"
    payload = inbox.inbound[0].payload
    reply = await client.messages.send(
        to=payload.from_.phone_number,
        from_=payload.to[0].phone_number,
        text="It left our warehouse today.",
    )
    await inbox.wait_for(lambda: inbox.closed(reply.id), 10)
    return inbox.final_status.get(reply.id, "not finalized")


async def _tampered(fake: FakeTelnyx, hook_url: str) -> str:
    """Re-post a real delivery with one changed byte: the receiver must refuse it."""
    import aiohttp  # the demo's own outside caller; the SDK's client does not do this

    original = next(d for d in fake.deliveries if d.ok and b"shipped" in d.body)
    forged = original.body.replace(b"shipped", b"shipPed", 1)
    async with (
        aiohttp.ClientSession() as http,
        http.post(hook_url, data=forged, headers=dict(original.headers)) as answer,
    ):
        reason = (await answer.text()).split(":")[0]
    return f"one byte changed, refused: {answer.status} ({reason})"


def _run_demo(args: argparse.Namespace) -> int:
    return asyncio.run(demo(args.messages))


def add_demo(commands: Any) -> None:
    """Add ``demo`` to the CLI's subcommands."""
    demo_parser = commands.add_parser(
        "demo", help="send, receive and verify webhooks against a local fake API"
    )
    demo_parser.add_argument(
        "--messages", type=_positive, default=300, help="how many messages to send (300)"
    )
    demo_parser.set_defaults(run=_run_demo)
