"""send_many at Telnyx's limits with default settings: rows failed, requests per row, wall time.

Against FakeTelnyx with Telnyx's limits switched on (429 past them, with ``Retry-After`` and
the ``x-ratelimit-*`` headers), each scenario runs ``send_many(rows)`` with no pacing option
at all and reports:

- **failed**: rows without a message (target 0);
- **requests per row**: every POST the fake received over the rows (target <= 1.15);
- **wall / ideal**: the run's wall time over rows / limit, the least any sender could take
  (target <= 1.25).

Scenarios (``--scale`` multiplies the rows):

- ``one sender``: 300 rows from one number the account meters at 20 a second (a toll-free
  number's figure) within the account's 50; the sender's type is not given.
- ``many long codes``: 8 senders at 1 a second each (the issue's case), 20 rows each.
- ``SMS+MMS``: 400 SMS and 120 MMS interleaved from 40 senders, account limits 50 SMS and
  15 MMS a second (MMS metered apart).
- ``limit halves``: one sender at 20 a second for the first half of the run, then 10.

    python benchmarks/bench_pacing.py [--scale 1.0] [--only "one sender"]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from telnyx_messaging import AsyncClient
from telnyx_messaging.testing import FakeTelnyx, RateLimits


def sms(count: int, senders: list[str], mms_every: int = 0) -> Iterator[dict[str, Any]]:
    for n in range(count):
        row: dict[str, Any] = {
            "to": f"+1312{n:07d}",
            "from_": senders[n % len(senders)],
            "text": "Hello, World!",
        }
        if mms_every and n % mms_every == 0:
            row["media_urls"] = ["https://example.com/cat.jpg"]
        yield row


async def scenario(
    name: str,
    limits: RateLimits,
    rows: list[dict[str, Any]],
    ideal: float,
    *,
    halfway: Callable[[FakeTelnyx], None] | None = None,
) -> dict[str, Any]:
    async with FakeTelnyx(rate_limits=limits) as fake:
        start = time.monotonic()
        async with (
            AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
            client.messages.send_many(rows) as run,
        ):
            done = 0
            async for _ in run:
                done += 1
                if halfway is not None and done == len(rows) // 2:
                    halfway(fake)
        wall = time.monotonic() - start
        posts = sum(1 for r in fake.requests if r.method == "POST")
        stats, pacing = run.stats, run.pacing
    return {
        "scenario": name,
        "rows": len(rows),
        "failed": stats.failed,
        "requests_per_row": round(posts / len(rows), 3),
        "refused": pacing.refused,
        "wall_s": round(wall, 2),
        "ideal_s": round(ideal, 2),
        "wall_over_ideal": round(wall / ideal, 3),
    }


def scenarios(scale: float) -> dict[str, Callable[[], Any]]:
    def n(rows: int) -> int:
        return max(10, int(rows * scale))

    one = n(300)
    longs = [f"+1312555{1000 + i:04d}" for i in range(8)]
    per_long = n(20)
    mixed_senders = [f"+1888555{1000 + i:04d}" for i in range(40)]
    mixed = list(sms(n(520), mixed_senders, mms_every=13 // 3))
    mms = sum(1 for r in mixed if "media_urls" in r)
    half = n(300)

    def lower(fake: FakeTelnyx) -> None:
        fake.rate_limits = RateLimits(account_per_second=50, per_sender_per_second=10)

    return {
        "one sender": lambda: scenario(
            "one sender (20/s)",
            RateLimits(account_per_second=50, per_sender_per_second=20),
            list(sms(one, ["+18885550100"])),
            one / 20,
        ),
        "many long codes": lambda: scenario(
            "8 long codes (1/s each)",
            RateLimits(account_per_second=50, per_sender_per_second=1),
            list(sms(per_long * 8, longs)),
            per_long,
        ),
        "SMS+MMS": lambda: scenario(
            f"SMS+MMS ({len(mixed) - mms} + {mms}, 40 senders)",
            RateLimits(account_per_second=50, mms_per_second=15),
            mixed,
            max((len(mixed) - mms) / 50, mms / 15),
        ),
        "limit halves": lambda: scenario(
            "one sender, 20/s then 10/s",
            RateLimits(account_per_second=50, per_sender_per_second=20),
            list(sms(half, ["+18885550100"])),
            half / 2 / 20 + half / 2 / 10,
            halfway=lower,
        ),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", action="append")
    args = parser.parse_args()
    for key, run in scenarios(args.scale).items():
        if args.only and key not in args.only:
            continue
        print(json.dumps(await run()), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
