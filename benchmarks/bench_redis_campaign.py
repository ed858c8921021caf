"""Campaigns and pacing on Redis: four workers, one campaign, one budget; and Redis's cost per send.

1. Four worker processes share one ``RedisCampaign`` of 3,000 rows and one 50/s
   ``RedisRateBudget``, sending to a FakeTelnyx (in this process, which records the time each
   send arrives). Worker 1 is SIGKILLed once 1,500 messages exist; the others take over its
   rows after the lease (5 s here, to keep the run short). Reports the busiest one-second
   window of arrivals (any window, not just aligned ones), failed rows, and whether each
   message was created once.
2. Cost per send, each pair in turns within one run (median of rounds):
   - a turn: ``RedisRateBudget.take`` against the in-process ``MemoryBudget.take`` that
     ``send_many`` books each budget with (the ``PacingBudget`` seam), and ``wait_turn`` (two
     buckets, one round trip), with rates high enough that none waits;
   - a whole row: ``send_many`` (in-process journal-less run) against ``RedisCampaign.work``
     (one worker), unpaced, 1,000 rows to a FakeTelnyx, wall time per row.

    python benchmarks/bench_redis_campaign.py [--rows 3000] [--rate 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid

from _redis import redis_server

from telnyx_messaging import AsyncClient, MemoryBudget
from telnyx_messaging.redis import RedisCampaign, RedisRateBudget
from telnyx_messaging.testing import FakeTelnyx

WORKERS = 4
LEASE = 5.0


def campaign_rows(count: int) -> list[dict[str, str]]:
    return [
        {"to": f"+1312{n:07d}", "from_": f"+1844555{n % 40:04d}", "text": f"Spring sale #{n}"}
        for n in range(count)
    ]


async def worker(url: str, base_url: str, api_key: str, name: str, rows: int, rate: float) -> None:
    async with (
        AsyncClient(api_key=api_key, base_url=base_url) as client,
        await RedisCampaign.connect("bench", url) as campaign,
        await RedisRateBudget.connect(url, rate=rate) as budget,
    ):
        await campaign.load(campaign_rows(rows))
        turns: list[float] = []
        take_turn = budget.wait_turn

        async def timed_turn(sender: str | None = None, kind: str | None = None) -> None:
            await take_turn(sender, kind)
            turns.append(time.time())  # the moment this worker may send

        budget.wait_turn = timed_turn  # type: ignore[method-assign]
        report = await campaign.work(client, budget=budget, worker=name, concurrency=4, lease=LEASE)
        mine = sum(row.worker == name for row in report.rows)
        print(json.dumps({"worker": name, "rows": mine, "turns": turns}), flush=True)


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def shared_campaign(url: str, rows: int, rate: float) -> dict[str, object]:
    arrivals: list[float] = []
    async with FakeTelnyx() as fake:

        def record(request):  # type: ignore[no-untyped-def]
            if request.method == "POST":
                arrivals.append(time.monotonic())
            return

        fake.fault_hook = record
        processes = [
            subprocess.Popen(  # noqa: S603, ASYNC220 - this script; started once, before the run
                [
                    sys.executable,
                    __file__,
                    "worker",
                    url,
                    fake.base_url,
                    fake.api_key,
                    f"worker-{i}",
                    str(rows),
                    str(rate),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(WORKERS)
        ]
        started = time.monotonic()
        killed_at = None
        while any(p.poll() is None for p in processes):
            await asyncio.sleep(0.05)
            if killed_at is None and len(fake.messages) >= rows // 2:
                processes[1].send_signal(signal.SIGKILL)
                killed_at = len(fake.messages)
            if time.monotonic() - started > 600:
                for p in processes:
                    p.kill()
                raise SystemExit("FAILED: the campaign did not finish within 10 minutes")
        seconds = time.monotonic() - started
        outputs = [json.loads(p.stdout.read() or "null") for p in processes if p.stdout]
        async with await RedisCampaign.connect("bench", url) as campaign:
            report = await campaign.report()
        created_once = len(fake.messages) == rows and len(fake.seen_idempotency_keys) == rows
    return {
        "rows": rows,
        "budget per second": rate,
        "workers (one SIGKILLed)": WORKERS,
        "killed when messages existed": killed_at,
        "rows per surviving worker": {o["worker"]: o["rows"] for o in outputs if o},
        "busiest one-second window of turns (surviving workers, at the senders)": busiest_second(
            [t for o in outputs if o for t in o["turns"]]
        ),
        "sends that reached the fake (replays included)": len(arrivals),
        "busiest one-second window of arrivals (at the fake)": busiest_second(arrivals),
        "limit with 5% margin": rate * 1.05,
        "sent / failed / pending": (report.sent, report.failed, report.pending),
        "each message created once": created_once,
        "seconds": round(seconds, 1),
    }


async def cost_per_turn(url: str, rounds: int, turns: int = 2000) -> dict[str, float]:
    memory = MemoryBudget()
    budget = await RedisRateBudget.connect(url, rate=1e6, per_sender_rate=1e6)

    async def memory_take(sender: str) -> None:
        await memory.take(f"sender:{sender}", 1e9)

    async def redis_take(sender: str) -> None:
        await budget.take(f"sender:{sender}", 1e9)

    contenders = {
        "MemoryBudget.take (in-process)": memory_take,
        "RedisRateBudget.take": redis_take,
        "RedisRateBudget.wait_turn (sender + account)": budget.wait_turn,
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, turn in contenders.items():
            w, c = time.perf_counter(), time.process_time()
            for i in range(turns):
                await turn(f"+1844555{i % 40:04d}")
            results[name].append(
                ((time.perf_counter() - w) / turns, (time.process_time() - c) / turns)
            )
    await budget.aclose()
    out = {}
    for name, samples in results.items():
        out[f"{name}: wall us"] = round(statistics.median(s[0] for s in samples) * 1e6, 1)
        out[f"{name}: CPU us"] = round(statistics.median(s[1] for s in samples) * 1e6, 1)
    out["take: wall ratio Redis / in-process"] = round(
        out["RedisRateBudget.take: wall us"] / out["MemoryBudget.take (in-process): wall us"], 1
    )
    return out


async def cost_per_row(url: str, rounds: int, rows: int = 1000) -> dict[str, float]:
    times: dict[str, list[float]] = {"send_many": [], "RedisCampaign.work": []}
    async with (
        FakeTelnyx() as fake,
        AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
    ):
        for _ in range(rounds):
            data = campaign_rows(rows)
            started = time.perf_counter()
            async with client.messages.send_many(data, concurrency=8, pacing="unpaced") as run:
                async for _result in run:
                    pass
            times["send_many"].append((time.perf_counter() - started) / rows)
            async with await RedisCampaign.connect(f"cost-{uuid.uuid4().hex}", url) as campaign:
                started = time.perf_counter()
                await campaign.load(data)
                await campaign.work(client, concurrency=8)
                times["RedisCampaign.work"].append((time.perf_counter() - started) / rows)
    local, shared = (
        statistics.median(times["send_many"]),
        statistics.median(times["RedisCampaign.work"]),
    )
    return {
        "send_many: wall us/row": round(local * 1e6, 1),
        "RedisCampaign (load + work): wall us/row": round(shared * 1e6, 1),
        "ratio": round(shared / local, 2),
    }


def main() -> None:
    if sys.argv[1:2] == ["worker"]:
        url, base_url, api_key, name, rows, rate = sys.argv[2:8]
        asyncio.run(worker(url, base_url, api_key, name, int(rows), float(rate)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args, _ = parser.parse_known_args()
    os.environ.pop("TELNYX_REDIS_URL", None)
    with redis_server() as url:
        shared = asyncio.run(shared_campaign(url, args.rows, args.rate))
        print("1. four workers, one campaign, one budget, one worker SIGKILLed half-way")
        for name, value in shared.items():
            print(f"   {name}: {value}")
        turn = asyncio.run(cost_per_turn(url, args.rounds))
        print("2a. cost of a turn (rates high enough that nobody waits)")
        for name, value in turn.items():
            print(f"   {name}: {value}")
        row = asyncio.run(cost_per_row(url, args.rounds))
        print("2b. cost of a whole row, unpaced, to an in-process FakeTelnyx")
        for name, value in row.items():
            print(f"   {name}: {value}")
    ok = (
        shared["busiest one-second window of arrivals (at the fake)"] <= args.rate * 1.05  # type: ignore[operator]
        and shared["sent / failed / pending"] == (args.rows, 0, 0)
        and shared["each message created once"]
    )
    if not ok:
        raise SystemExit("FAILED: see above")


if __name__ == "__main__":
    main()
