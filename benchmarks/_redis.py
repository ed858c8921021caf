"""Shared by the Redis benchmarks: a throwaway redis-server, replica processes, signed webhooks.

``python _redis.py replica REDIS_URL MODE [HANDLE_SECONDS]`` runs one webhook receiver replica
(prints its port, stops on SIGTERM): MODE ``count`` appends each handled event's key and pid to
the Redis list ``handled``; ``relay`` hands each event to a ``RedisDeliveryRelay``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).parent
EXAMPLE = HERE.parent / "tests" / "spec" / "webhook-examples" / "message.finalized.json"
SEED = b"\x33" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server on a free loopback port, no persistence; yields its URL, then stops it."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(  # noqa: S603 - the system's redis-server
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                directory,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=20)


def start_replica(
    url: str, mode: str, handle_seconds: float = 0.0
) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(  # noqa: S603 - this script, this interpreter
        [sys.executable, __file__, "replica", url, mode, str(handle_seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def stop_replicas(replicas: list[tuple[subprocess.Popen[str], int]]) -> None:
    for process, _ in replicas:
        process.terminate()
    for process, _ in replicas:
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def delivery_webhook(message_id: str, event_id: str) -> bytes:
    body = json.loads(EXAMPLE.read_bytes())
    body["data"]["id"] = event_id
    body["data"]["payload"]["id"] = message_id
    return json.dumps(body).encode()


def signer():  # type: ignore[no-untyped-def]  # imported late: the replica imports it too
    from telnyx_messaging.testing import WebhookSigner

    return WebhookSigner(seed=SEED)


async def _replica(url: str, mode: str, handle_seconds: float) -> None:
    from aiohttp import web

    from telnyx_messaging import webhooks
    from telnyx_messaging.redis import RedisDeliveryRelay, RedisDuplicateGuard, connect

    guard = await RedisDuplicateGuard.connect(url)
    log = await connect(url)
    relay = await RedisDeliveryRelay.connect(webhooks.DeliveryTracker(), url)
    await relay.start()

    async def count(event: webhooks.WebhookEvent) -> None:
        if handle_seconds:
            await asyncio.sleep(handle_seconds)
        await log.rpush("handled", f"{webhooks.duplicate_key(event)} {os.getpid()}")

    receiver = webhooks.WebhookReceiver(
        on_event=relay.publish if mode == "relay" else count,
        public_key=signer().public_key,
        duplicates=guard,
    )
    app = web.Application()
    receiver.add_aiohttp_route(app, "/webhooks")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(runner.addresses[0][1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()
    await relay.aclose()
    await guard.aclose()
    await log.aclose()


if __name__ == "__main__" and sys.argv[1:2] == ["replica"]:
    asyncio.run(_replica(sys.argv[2], sys.argv[3], float(sys.argv[4])))
