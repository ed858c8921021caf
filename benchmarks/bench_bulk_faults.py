"""Wall time of a fan-out under transient faults: send_many against Semaphore + gather.

The server (this script with ``--serve``, in another process) answers each send after a fixed
latency, and fails the first attempt of 4.5% of sends with a 503 (no Retry-After, so the
client backs off 0.5-1 s). With ``Semaphore`` + ``gather`` each backoff sleep holds a slot;
``send_many`` puts a row waiting to retry back in line and sends the next one meanwhile. Both
make the same number of requests, with the same keys on retries.

    python benchmarks/bench_bulk_faults.py [--sends 2000] [--concurrency 20] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

from telnyx_messaging import AsyncClient

KEY = "KEY_benchmark"
FAULT_PER_MILLE = 45


def serve(port: int, latency: float) -> None:
    from aiohttp import web

    spec = Path(__file__).parent.parent / "tests" / "spec" / "telnyx-messaging-openapi.json"
    example = json.loads(spec.read_text())["components"]["schemas"]["OutboundMessage"]["example"]
    body = json.dumps({"data": example["payload"]}).encode()
    failed: set[str] = set()

    async def send(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(latency)
        key = request.headers.get("Idempotency-Key", "")
        if zlib.crc32(key.encode()) % 1000 < FAULT_PER_MILLE and key not in failed:
            failed.add(key)
            return web.json_response({"errors": [{"code": "10007"}]}, status=503)
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v2/messages", send)
    print("ready", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def rows(count: int) -> list[dict[str, Any]]:
    return [{"to": f"+1312{n:07d}", "from_": "+18445550001", "text": "Hello"} for n in range(count)]


async def gathered(client: AsyncClient, sends: int, concurrency: int) -> int:
    gate = asyncio.Semaphore(concurrency)

    async def one(row: dict[str, Any]) -> Any:
        async with gate:
            return await client.messages.send(**row)

    results = await asyncio.gather(*(one(r) for r in rows(sends)), return_exceptions=True)
    return sum(not isinstance(r, BaseException) for r in results)


async def bulk(client: AsyncClient, sends: int, concurrency: int) -> int:
    async with client.messages.send_many(
        rows(sends), concurrency=concurrency, pacing="unpaced"
    ) as run:
        return sum([result.ok async for result in run])


async def measure(base_url: str, args: argparse.Namespace) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"Semaphore + gather": [], "send_many": []}
    async with AsyncClient(api_key=KEY, base_url=base_url, max_retries=4) as client:
        for _ in range(args.rounds):
            for name, fan_out in (("Semaphore + gather", gathered), ("send_many", bulk)):
                started = time.monotonic()
                sent = await fan_out(client, args.sends, args.concurrency)
                times[name].append(time.monotonic() - started)
                assert sent == args.sends, (name, sent)
    return times


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]), float(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=3)
    args, _ = parser.parse_known_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = subprocess.Popen(  # noqa: S603 - this script
        [sys.executable, __file__, "--serve", str(port), str(args.latency)],
        stdout=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        time.sleep(0.5)
        times = asyncio.run(measure(f"http://127.0.0.1:{port}/v2", args))
    finally:
        server.terminate()
        server.wait()
    ideal = args.sends / args.concurrency * args.latency
    print(
        f"\n{args.sends} sends, concurrency {args.concurrency}, {args.latency * 1000:.0f} ms "
        f"latency, {FAULT_PER_MILLE / 10}% of first attempts 503 (no faults: ~{ideal:.1f} s)"
    )
    for name, values in times.items():
        rounds = " ".join(f"{v:.1f}" for v in values)
        print(f"{name:<20} {statistics.median(values):6.1f} s   rounds: {rounds}")


if __name__ == "__main__":
    main()
