"""One sending process sharing a RedisRateBudget.

``python budget_process.py turns URL RATE SENDS``: takes ``SENDS`` turns from the shared
account budget and prints the time (epoch seconds) of each, one per line.

``python budget_process.py send_many URL BASE_URL API_KEY FIRST COUNT``: ``send_many`` of
``COUNT`` rows (numbered from ``FIRST``) from one sender at ``per_sender_rate=4``, through
the shared budget, to the FakeTelnyx at ``BASE_URL``; prints how many were sent.
"""

from __future__ import annotations

import asyncio
import sys
import time

from telnyx_messaging import AsyncClient
from telnyx_messaging.redis import RedisRateBudget


async def turns(url: str, rate: float, sends: int) -> None:
    async with await RedisRateBudget.connect(url, rate=rate) as budget:
        for _ in range(sends):
            await budget.wait_turn()
            print(f"{time.time():.6f}", flush=True)


async def send_many(url: str, base_url: str, api_key: str, first: int, count: int) -> None:
    rows = [
        {"to": f"+1312{n:07d}", "from_": "+18445550001", "text": f"Hi #{n}"}
        for n in range(first, first + count)
    ]
    async with (
        await RedisRateBudget.connect(url) as budget,
        AsyncClient(api_key=api_key, base_url=base_url) as client,
        client.messages.send_many(rows, per_sender_rate=4, budget=budget) as run,
    ):
        sent = [result async for result in run if result.ok]
    print(len(sent), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "turns":
        asyncio.run(turns(sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
    else:
        asyncio.run(send_many(*sys.argv[2:5], int(sys.argv[5]), int(sys.argv[6])))  # type: ignore[arg-type]
