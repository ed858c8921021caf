"""What a WebhookReceiver costs on top of verifying, and how fast Telnyx gets its answer.

- CPU per webhook: ``webhooks.unwrap`` (verify + parse) against ``WebhookReceiver.receive``
  (limits, verify, parse, duplicate guard, a no-op callback, metrics hook), each on distinct
  pre-signed events so the guard never short-circuits; rounds alternate, median of rounds.
- Time to acknowledge over loopback aiohttp with a callback that takes 3 seconds: answered on
  receipt, as the client sees it (p50 and max over the deliveries); after the callback it is
  the callback's own 3 s, by construction, so it is not measured.
- Memory per key of ``MemoryDuplicateGuard`` (tracemalloc, 100,000 UUID keys).

    python benchmarks/bench_receive.py [--events 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import tracemalloc
import uuid
from pathlib import Path

import aiohttp
from aiohttp import web

from telnyx_messaging import webhooks
from telnyx_messaging.testing import WebhookSigner

HERE = Path(__file__).parent
BODY = (HERE.parent / "tests" / "spec" / "webhook-examples" / "message.finalized.json").read_bytes()
EVENT_ID = b"4ee8c3a6-4995-4309-a3c6-38e3db9ea4be"
SIGNER = WebhookSigner(seed=b"\x11" * 32)


def signed_events(count: int) -> list[tuple[bytes, dict[str, str]]]:
    out = []
    for _ in range(count):
        body = BODY.replace(EVENT_ID, str(uuid.uuid4()).encode())
        out.append((body, SIGNER.headers(body)))
    return out


async def receive_all(
    receiver: webhooks.WebhookReceiver, batch: list[tuple[bytes, dict[str, str]]]
) -> None:
    gate = receiver.gate
    for body, headers in batch:
        gate.answered(await gate.dispatch(gate.open(body, headers)), 0.0)


def cpu_per_webhook(events: int, rounds: int) -> tuple[float, float]:
    key = SIGNER.public_key
    unwrap_times, receive_times = [], []
    for _ in range(rounds):
        batch = signed_events(events)
        start = time.process_time()
        for body, headers in batch:
            webhooks.unwrap(body, headers, public_key=key)
        unwrap_times.append((time.process_time() - start) / events)

        receiver = webhooks.WebhookReceiver(
            on_event=lambda event: None, public_key=key, metrics=lambda metric: None
        )

        start = time.process_time()
        asyncio.run(receive_all(receiver, batch))
        receive_times.append((time.process_time() - start) / events)
    return statistics.median(unwrap_times), statistics.median(receive_times)


async def ack_times(deliveries: int) -> list[float]:
    async def slow(event: webhooks.WebhookEvent) -> None:
        await asyncio.sleep(3)

    receiver = webhooks.WebhookReceiver(
        on_event=slow, public_key=SIGNER.public_key, acknowledge="on_receipt", workers=64
    )
    app = web.Application()
    receiver.add_aiohttp_route(app, "/telnyx")
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/telnyx"
    times = []
    try:
        async with aiohttp.ClientSession() as session:
            for body, headers in signed_events(deliveries):
                start = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    assert response.status == 200
                times.append(time.perf_counter() - start)
    finally:
        await runner.cleanup()  # drains: every 3 s callback finishes first
    return times


def bytes_per_key(keys: int = 100_000) -> float:
    guard = webhooks.MemoryDuplicateGuard(max_events=keys)
    names = [str(uuid.uuid4()) for _ in range(keys)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for name in names:
        guard.claim(name)
        guard.complete(name)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    # What the guard adds per key; the key string it keeps (85 bytes for a UUID) comes on top.
    return (after - before) / keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--deliveries", type=int, default=50)
    args = parser.parse_args()
    unwrap, receive = cpu_per_webhook(args.events, args.rounds)
    print(f"CPU per webhook: unwrap {unwrap * 1e6:.1f} us, receiver {receive * 1e6:.1f} us")
    print(f"  receiver / unwrap = {receive / unwrap:.2f}x")
    times = asyncio.run(ack_times(args.deliveries))
    print(
        f"time to acknowledge, 3 s callback, on receipt: p50 {statistics.median(times) * 1e3:.1f}"
        f" ms, max {max(times) * 1e3:.1f} ms over {len(times)} deliveries"
    )
    print(
        f"MemoryDuplicateGuard: {bytes_per_key():.0f} bytes per remembered key, plus the key "
        "string (100,000 keys)"
    )


if __name__ == "__main__":
    main()
