"""What the sync Client's hand-off to its loop thread costs, against AsyncClient doing the same.

Sends to a loopback server in another process (``_server.py``), one call at a time, and
reports wall time per send for each client, taking turns round by round so machine noise hits
both alike. The difference is the price of the thread hop (``run_coroutine_threadsafe`` and a
``concurrent.futures`` wait); then the same with 16 callers at once (16 threads for Client,
16 tasks for AsyncClient), where the hop overlaps with other calls.

    python benchmarks/bench_sync.py [--sends 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from telnyx_messaging import AsyncClient, Client

HERE = Path(__file__).parent
KEY = "KEY_benchmark"
SEND = {"to": "+13125550002", "from_": "+18445550001", "text": "Hello, World!"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def async_round(client: AsyncClient, sends: int, callers: int) -> float:
    queue = iter(range(sends))

    async def worker() -> None:
        for _ in queue:
            await client.messages.send(**SEND)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(callers)))
    return (time.perf_counter() - start) / sends


def sync_round(client: Client, sends: int, callers: int) -> float:
    queue = iter(range(sends))

    def worker() -> None:
        for _ in queue:  # next() on a shared iterator is safe under the GIL
            client.messages.send(**SEND)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=callers) as pool:
        for future in [pool.submit(worker) for _ in range(callers)]:
            future.result()
    return (time.perf_counter() - start) / sends


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(HERE / "_server.py"), str(port)], stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "ready"
        base_url = f"http://127.0.0.1:{port}/v2"
        loop = asyncio.new_event_loop()
        async_client = AsyncClient(api_key=KEY, base_url=base_url)
        sync_client = Client(api_key=KEY, base_url=base_url)
        for callers in (1, 16):
            timings: dict[str, list[float]] = {"AsyncClient": [], "Client": []}
            loop.run_until_complete(async_round(async_client, 200, callers))  # warm up
            sync_round(sync_client, 200, callers)
            for _ in range(args.rounds):
                timings["AsyncClient"].append(
                    loop.run_until_complete(async_round(async_client, args.sends, callers))
                )
                timings["Client"].append(sync_round(sync_client, args.sends, callers))
            a = statistics.median(timings["AsyncClient"]) * 1e6
            s = statistics.median(timings["Client"]) * 1e6
            print(
                f"{callers:>2} caller(s): AsyncClient {a:7.1f} us/send, Client {s:7.1f} us/send, "
                f"hop {s - a:+6.1f} us ({s / a:.2f}x), median of {args.rounds} x {args.sends}"
            )
        sync_client.close()
        loop.run_until_complete(async_client.close())
        loop.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
