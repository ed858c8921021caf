"""Client CPU per send: telnyx-messaging against plain aiohttp (the floor) and the official SDK.

Sends N messages at concurrency C to a loopback aiohttp server running in another process and
reads this process's CPU time (user + sys, ``resource.getrusage``) around each batch. Clients
take turns batch by batch so machine noise hits them alike; the result is the median over the
rounds and, what matters, the ratio to the floor measured in the same run.

    python benchmarks/bench_send.py [--sends 3000] [--concurrency 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import statistics
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from telnyx_messaging import AsyncClient

HERE = Path(__file__).parent
KEY = "KEY_benchmark"
PAYLOAD = {"from": "+18445550001", "to": "+13125550002", "text": "Hello, World!"}

Sender = Callable[[], Awaitable[object]]


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def batch(send: Sender, sends: int, concurrency: int) -> float:
    """CPU seconds per send for ``sends`` calls with ``concurrency`` in flight."""
    queue = iter(range(sends))

    async def worker() -> None:
        for _ in queue:
            await send()

    start = cpu()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (cpu() - start) / sends


async def run(args: argparse.Namespace, base_url: str) -> dict[str, list[float]]:
    connector = aiohttp.TCPConnector(limit=100)
    session = aiohttp.ClientSession(connector=connector)
    headers = {
        "Authorization": f"Bearer {KEY}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    url = base_url + "/messages"

    async def floor() -> object:
        # The least any client can do: one session, json.dumps, post, json.loads.
        async with session.post(url, data=json.dumps(PAYLOAD), headers=headers) as r:
            return json.loads(await r.read())

    ours_client = AsyncClient(api_key=KEY, base_url=base_url)

    async def ours() -> object:
        return await ours_client.messages.send(
            to="+13125550002", from_="+18445550001", text="Hello, World!"
        )

    senders: dict[str, Sender] = {"plain aiohttp (floor)": floor, "telnyx-messaging": ours}
    official = None
    if not args.skip_official:
        try:
            from telnyx import AsyncTelnyx
        except ImportError:
            print("(official `telnyx` package not installed: skipping it)")
        else:
            official = AsyncTelnyx(api_key=KEY, base_url=base_url)

            async def official_send() -> object:
                return await official.messages.send(
                    to="+13125550002", from_="+18445550001", text="Hello, World!"
                )

            senders["official telnyx"] = official_send

    results: dict[str, list[float]] = {name: [] for name in senders}
    try:
        for send in senders.values():  # warm up: connections, caches, first-call imports
            await batch(send, 300, args.concurrency)
        for _ in range(args.rounds):
            for name, send in senders.items():
                results[name].append(await batch(send, args.sends, args.concurrency))
    finally:
        await ours_client.close()
        await session.close()
        if official is not None:
            await official.close()
    return results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-official", action="store_true")
    args = parser.parse_args()

    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(HERE / "_server.py"), str(port)], stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "ready"
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            import time

            time.sleep(0.05)
        results = asyncio.run(run(args, f"http://127.0.0.1:{port}/v2"))
    finally:
        server.terminate()
        server.wait()

    floors = results["plain aiohttp (floor)"]
    floor = statistics.median(floors)
    print(
        f"\nclient CPU per send, {args.sends} sends x {args.rounds} rounds, "
        f"concurrency {args.concurrency} (median of rounds)"
    )
    print(f"{'client':<24}{'CPU/send':>12}{'x floor':>10}{'paired':>9}   rounds (us)")
    for name, values in results.items():
        med = statistics.median(values)
        # Each round runs the clients back to back, so the ratio within a round is the least
        # disturbed by the machine's drift; "paired" is the median of those ratios.
        paired = statistics.median(v / f for v, f in zip(values, floors, strict=True))
        rounds = " ".join(f"{v * 1e6:.0f}" for v in values)
        print(f"{name:<24}{med * 1e6:>10.0f}us{med / floor:>9.2f}x{paired:>8.2f}x   {rounds}")


if __name__ == "__main__":
    main()
