"""One sending process sharing a RedisRateBudget: ``python budget_process.py URL RATE SENDS``.

Takes ``SENDS`` turns from the shared account budget and prints the time (epoch seconds) of
each, one per line.
"""

from __future__ import annotations

import asyncio
import sys
import time

from telnyx_messaging.redis import RedisRateBudget


async def main(url: str, rate: float, sends: int) -> None:
    async with await RedisRateBudget.connect(url, rate=rate) as budget:
        for _ in range(sends):
            await budget.wait_turn()
            print(f"{time.time():.6f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
