"""One webhook receiver replica, as its own process, for the multi-process tests and benchmarks.

``python receiver_process.py REDIS_URL PUBLIC_KEY MODE [HANDLE_SECONDS]`` serves POST /webhooks
on a free loopback port and prints the port on its first line; it stops on SIGTERM. Both modes
share a :class:`RedisDuplicateGuard`. MODE is

- ``count``: each event handled is appended to the Redis list ``handled`` (its key and this
  process's pid), after ``HANDLE_SECONDS`` of pretend work;
- ``relay``: each event goes to a :class:`RedisDeliveryRelay` (``on_event=relay.publish``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from aiohttp import web

from telnyx_messaging import webhooks
from telnyx_messaging.redis import RedisDeliveryRelay, RedisDuplicateGuard, connect


async def main(url: str, public_key: str, mode: str, handle_seconds: float) -> None:
    guard = await RedisDuplicateGuard.connect(url)
    log = await connect(url)
    relay = await RedisDeliveryRelay.connect(webhooks.DeliveryTracker(), url)
    await relay.start()

    async def count(event: webhooks.WebhookEvent) -> None:
        await asyncio.sleep(handle_seconds)
        await log.rpush("handled", f"{webhooks.duplicate_key(event)} {os.getpid()}")

    receiver = webhooks.WebhookReceiver(
        on_event=relay.publish if mode == "relay" else count,
        public_key=public_key,
        duplicates=guard,
    )
    app = web.Application()
    receiver.add_aiohttp_route(app, "/webhooks")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()
    await relay.aclose()
    await guard.aclose()
    await log.aclose()


if __name__ == "__main__":
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], seconds))
