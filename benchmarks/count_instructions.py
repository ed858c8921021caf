"""Instructions per send, counted by valgrind's callgrind: a repeatable view of client cost.

CPU-time ratios move by several percent between runs on a shared machine. Instruction counts
do not: the same interpreter, code and inputs give the same count whatever else the machine
is doing. This script runs N sends of each client under callgrind twice (a short and a long
batch against the same loopback server) and divides the difference by the extra sends, which
cancels start-up, imports and warm-up. Kernel work (syscalls) is not counted, so the ratio it
prints is higher than the CPU-time ratio of bench_send.py, where the floor's share of kernel
time dilutes every client's own overhead.

    python benchmarks/count_instructions.py        # needs `valgrind` (apt-get install valgrind)
    python benchmarks/count_instructions.py --telemetry   # + telemetry on (needs [otel,tests])

With ``--telemetry`` it also counts our client with OpenTelemetry switched on: with the API's
default no-op provider (no SDK configured: what a service that installed the extra but exports
nothing pays), and with the SDK recording every span and metric into its in-memory exporter
and reader (what recording costs, before any network exporter).

    python benchmarks/count_instructions.py --in-process --telemetry

With ``--in-process`` our client answers itself through a ``MockTransport`` (the loopback
server's very answer; no socket, no aiohttp, no floor): what is left is the client's own code,
for telling our instructions apart from the network path's and the garbage collector's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from bench_send import KEY, PAYLOAD, batch, free_port  # noqa: E402


def _telemetry(client: str) -> object:
    """The ``telemetry=`` argument for each way of running our client."""
    if client == "telemetry-noop":
        return True  # on, with OpenTelemetry's global (no-op) providers
    if client == "telemetry-in-memory":
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        from telnyx_messaging.telemetry import Telemetry

        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
        meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
        return Telemetry(tracer_provider=tracer_provider, meter_provider=meter_provider)
    return None


def _answering_in_process() -> object:
    """A transport answering every send as the loopback server does (``--in-process``)."""
    from _server import answer_body

    from telnyx_messaging import MockTransport

    body = answer_body()
    headers = {"Content-Type": "application/json"}
    return MockTransport(lambda request: request.respond(body=body, headers=headers))


async def _run(client: str, port: int, sends: int) -> None:
    import aiohttp

    from telnyx_messaging import AsyncClient

    base = f"http://127.0.0.1:{port}/v2"
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
    transport: Any = _answering_in_process() if port == 0 else None  # port 0: --in-process
    ours = AsyncClient(
        api_key=KEY, base_url=base, telemetry=_telemetry(client), transport=transport
    )
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
    parser.add_argument(
        "--telemetry", action="store_true", help="also count sends with telemetry switched on"
    )
    parser.add_argument(
        "--only", nargs="+", help="count only these (floor, telnyx-messaging, telemetry-...)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per client, in turns; the median is shown"
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="our client over a MockTransport: no network, no floor",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.child:
        client, port, sends = args.child
        asyncio.run(_run(client, int(port), int(sends)))
        return
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: skipping (apt-get install valgrind)")
        return
    port = 0 if args.in_process else free_port()
    server = None
    if not args.in_process:
        server = subprocess.Popen(  # noqa: S603 - our own script
            [sys.executable, str(HERE / "_server.py"), str(port)], stdout=subprocess.PIPE
        )
    try:
        if server is not None:
            assert server.stdout is not None
            server.stdout.readline()
        clients = ["telnyx-messaging"] if args.in_process else ["floor", "telnyx-messaging"]
        if args.telemetry:
            clients += ["telemetry-noop", "telemetry-in-memory"]
        counts: dict[str, list[float]] = {}
        for _ in range(args.repeat):  # clients take turns, so a busy spell hits them alike
            for client in args.only or clients:
                short = _count(client, port, 200)
                long = _count(client, port, 200 + args.sends)
                counts.setdefault(client, []).append((long - short) / args.sends)
        per_send = {client: statistics.median(c) for client, c in counts.items()}
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    floor = per_send.get("floor")
    ours = per_send.get("telnyx-messaging")
    print(
        f"\ninstructions per send (callgrind, {args.sends} sends at concurrency 100, "
        f"median of {args.repeat}{', in-process' if args.in_process else ''})"
    )
    for client, count in per_send.items():
        line = f"{client:<22}{count / 1000:>10.1f}K"
        if floor is not None:
            line += f"{count / floor:>8.2f}x floor"
        if ours is not None and client.startswith("telemetry"):
            line += f"{count / ours:>8.3f}x ours"
        print(line)


if __name__ == "__main__":
    main()
