"""send_many: flat memory over a million rows, CPU per send against gather, sends per second.

Against the loopback server of ``_server.py`` in another process:

- **memory**: a fresh process sends N generated rows through ``send_many`` and reports its
  peak RSS (``ru_maxrss``); 100,000 and 1,000,000 rows should peak alike (within 10%) and
  under 150 MB.
- **CPU per send**: ``send_many`` against ``asyncio.gather`` over ``messages.send`` with a
  semaphore of the same size (and ``return_exceptions=True``, the correct form of the
  hand-written fan-out), at concurrency 10, 100 and 1000, batch by batch in turns, median of
  rounds and the paired ratio within each round.

    python benchmarks/bench_bulk.py [--rounds 5] [--sends 3000] [--rss-rows 100000 1000000]
    python benchmarks/bench_bulk.py --skip-rss          # CPU only
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
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from telnyx_messaging import AsyncClient

HERE = Path(__file__).parent
KEY = "KEY_benchmark"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rows(count: int) -> Iterator[dict[str, Any]]:
    for n in range(count):
        yield {"to": f"+1312{n:07d}", "from_": "+18445550001", "text": "Hello, World!"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(HERE / "_server.py"), str(port)], stdout=subprocess.PIPE
    )
    assert server.stdout is not None
    server.stdout.readline()  # "ready"
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}/v2"


# -- memory: one fresh process per size --------------------------------------------------------


async def rss_child(base_url: str, count: int, concurrency: int) -> dict[str, float]:
    async with AsyncClient(api_key=KEY, base_url=base_url) as client:
        started = time.monotonic()
        sent = 0
        samples = []
        async with client.messages.send_many(
            rows(count), concurrency=concurrency, pacing="unpaced"
        ) as run:
            async for result in run:
                sent += result.ok
                if result.index % 100_000 == 0:
                    samples.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        elapsed = time.monotonic() - started
    return {
        "rows": count,
        "sent": sent,
        "seconds": elapsed,
        "sends_per_s": sent / elapsed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_at_100k_steps_mb": samples,  # type: ignore[dict-item]
    }


def measure_rss(base_url: str, count: int, concurrency: int) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, __file__, "--rss-child", base_url, str(count), str(concurrency)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- CPU per send -------------------------------------------------------------------------------


async def cpu_per_send(
    base_url: str, concurrency: int, sends: int, rounds: int
) -> dict[str, list[float]]:
    """CPU seconds per send of each contender, one value per round."""
    client = AsyncClient(api_key=KEY, base_url=base_url, max_connections=max(100, concurrency))

    async def gathered(count: int) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(row: dict[str, Any]) -> Any:
            async with gate:
                return await client.messages.send(**row)

        results = await asyncio.gather(*(one(r) for r in rows(count)), return_exceptions=True)
        assert not [r for r in results if isinstance(r, BaseException)]

    async def bulk(count: int) -> None:
        async with client.messages.send_many(
            rows(count), concurrency=concurrency, pacing="unpaced"
        ) as run:
            async for result in run:
                assert result.ok

    contenders: dict[str, Callable[[int], Awaitable[None]]] = {
        "gather": gathered,
        "send_many": bulk,
    }
    timings: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for batch in contenders.values():  # warm up connections and caches
            await batch(max(300, concurrency))
        for _ in range(rounds):
            for name, batch in contenders.items():
                start = cpu()
                await batch(sends)
                timings[name].append((cpu() - start) / sends)
    finally:
        await client.close()
    return timings


async def cpu_rounds(base_url: str, args: argparse.Namespace) -> None:
    print(f"\nCPU per send, {args.sends} sends x {args.rounds} rounds (median; paired ratio)")
    print(f"{'concurrency':>11}  {'gather+semaphore':>17}  {'send_many':>10}  {'ratio':>6}  paired")
    for concurrency in args.concurrency:
        timings = await cpu_per_send(base_url, concurrency, args.sends, args.rounds)
        g, b = (statistics.median(timings[n]) for n in ("gather", "send_many"))
        paired = statistics.median(
            x / y for x, y in zip(timings["send_many"], timings["gather"], strict=True)
        )
        print(
            f"{concurrency:>11}  {g * 1e6:>15.0f}us  {b * 1e6:>8.0f}us  {b / g:>5.2f}x  "
            f"{paired:.2f}x",
            flush=True,
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--rss-child":
        base_url, count, concurrency = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(asyncio.run(rss_child(base_url, count, concurrency))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sends", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--rss-rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--rss-concurrency", type=int, default=100)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--skip-cpu", action="store_true")
    args, _ = parser.parse_known_args()

    server, base_url = start_server()
    try:
        if not args.skip_cpu:
            asyncio.run(cpu_rounds(base_url, args))
        if not args.skip_rss:
            print(f"\nsend_many memory, concurrency {args.rss_concurrency}, one process per size")
            print(f"{'rows':>10}  {'peak RSS':>9}  {'sends/s':>8}  {'seconds':>8}  RSS every 100k")
            for count in args.rss_rows:
                r = measure_rss(base_url, count, args.rss_concurrency)
                steps = " ".join(f"{m:.0f}" for m in r["rss_at_100k_steps_mb"])
                print(
                    f"{r['rows']:>10}  {r['peak_rss_mb']:>6.1f} MB  {r['sends_per_s']:>8.0f}  "
                    f"{r['seconds']:>8.1f}  {steps}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
