"""Instructions per send, counted by valgrind's callgrind: a repeatable view of client cost.

CPU-time ratios move by several percent between runs on a shared machine. Instruction counts
do not: the same interpreter, code and inputs give the same count whatever else the machine
is doing. This script runs N sends of each client under callgrind twice (a short and a long
batch against the same loopback server) and divides the difference by the extra sends, which
cancels start-up, imports and warm-up. Kernel work (syscalls) is not counted, so the ratio it
prints is higher than the CPU-time ratio of bench_send.py, where the floor's share of kernel
time dilutes every client's own overhead.

    python benchmarks/count_instructions.py        # needs `valgrind` (apt-get install valgrind)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from bench_send import KEY, PAYLOAD, batch, free_port  # noqa: E402


async def _run(client: str, port: int, sends: int) -> None:
    import aiohttp

    from telnyx_messaging import AsyncClient

    base = f"http://127.0.0.1:{port}/v2"
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
    ours = AsyncClient(api_key=KEY, base_url=base)
    headers = {
        "Authorization": f"Bearer {KEY}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }

    async def floor() -> object:
        async with session.post(base + "/messages", data=json.dumps(PAYLOAD), headers=headers) as r:
            return json.loads(await r.read())

    async def telnyx_messaging() -> object:
        return await ours.messages.send(
            to="+13125550002", from_="+18445550001", text="Hello, World!"
        )

    send = floor if client == "floor" else telnyx_messaging
    try:
        await batch(send, 200, 100)  # warm-up, the same in both batches
        await batch(send, sends, 100)
    finally:
        await ours.close()
        await session.close()


def _count(client: str, port: int, sends: int) -> int:
    done = subprocess.run(  # noqa: S603 - valgrind on this very script
        [
            shutil.which("valgrind") or "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            client,
            str(port),
            str(sends),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=2000, help="extra sends in the long batch")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.child:
        client, port, sends = args.child
        asyncio.run(_run(client, int(port), int(sends)))
        return
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: skipping (apt-get install valgrind)")
        return
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(HERE / "_server.py"), str(port)], stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        per_send = {}
        for client in ("floor", "telnyx-messaging"):
            short = _count(client, port, 200)
            long = _count(client, port, 200 + args.sends)
            per_send[client] = (long - short) / args.sends
    finally:
        server.terminate()
        server.wait()
    floor = per_send["floor"]
    print(f"\ninstructions per send (callgrind, {args.sends} sends at concurrency 100)")
    for client, count in per_send.items():
        print(f"{client:<20}{count / 1000:>10.0f}K{count / floor:>8.2f}x")


if __name__ == "__main__":
    main()
