"""One webhook receiver replica, as its own process, for the multi-process tests and benchmarks.

``python receiver_process.py REDIS_URL PUBLIC_KEY [HANDLE_SECONDS]``: serves POST /webhooks on a
free loopback port, with a :class:`RedisDuplicateGuard`; prints the port on its first line.
Each event it handles is appended to the Redis list ``handled`` (its key and this process's
pid), after ``HANDLE_SECONDS`` of pretend work. Stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from aiohttp import web

from telnyx_messaging import webhooks
from telnyx_messaging.redis import RedisDuplicateGuard, connect


async def main(url: str, public_key: str, handle_seconds: float) -> None:
    guard = await RedisDuplicateGuard.connect(url)
    log = await connect(url)

    async def on_event(event: webhooks.WebhookEvent) -> None:
        await asyncio.sleep(handle_seconds)
        await log.rpush("handled", f"{webhooks.duplicate_key(event)} {os.getpid()}")

    receiver = webhooks.WebhookReceiver(on_event=on_event, public_key=public_key, duplicates=guard)
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
    await guard.aclose()
    await log.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0))
