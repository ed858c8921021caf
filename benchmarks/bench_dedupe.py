"""The duplicate guard at 5,000 webhooks a second: bounded memory, and nothing handled twice.

A simulated clock runs ``MemoryDuplicateGuard`` through ``--seconds`` seconds of a steady
``--rate`` of new events (claimed, then completed), plus ``--replays`` a second of events
handled within the last ``min_age`` seconds (a replay the signature's timestamp check lets
through, or a Telnyx duplicate). Two guards run the same stream:

- the defaults (``max_events=100_000``): sized for 333 new events a second, so at 5,000 the
  guard refuses (503, Telnyx retries) what it has no room for instead of forgetting a key;
- a guard sized for the rate (``max_events`` = rate x ``min_age``, plus 1%).

For each it prints the most keys held, the traced memory at that point (tracemalloc, so the
bytes the guard itself allocated), bytes per key, the share of new events refused as
``guard_full``, and how many replays were handled again (must be 0).

    python benchmarks/bench_dedupe.py [--rate 5000] [--seconds 400] [--replays 50]
"""

from __future__ import annotations

import argparse
import random
import tracemalloc
import uuid

from telnyx_messaging import webhooks


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(max_events: int, rate: int, seconds: int, replays: int) -> dict[str, float]:
    clock = Clock()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    guard = webhooks.MemoryDuplicateGuard(max_events=max_events, clock=clock)
    recent: list[list[str]] = []  # per second, the keys handled then (for replays)
    offered = refused = replayed_again = peak_keys = 0
    peak_bytes = 0
    rng = random.Random(7)
    for second in range(seconds):
        handled: list[str] = []
        for i in range(rate):
            clock.now = second + i / rate
            key = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            offered += 1
            try:
                guard.claim(key)
            except webhooks.DuplicateGuardFullError:
                refused += 1
                continue
            guard.complete(key)
            handled.append(key)
        recent.append(handled)
        window = recent[-299:]  # handled less than min_age (300 s) ago
        for _ in range(replays):
            pool = rng.choice(window)
            if pool and guard.claim(rng.choice(pool)) == "new":
                replayed_again += 1
        if len(guard) >= peak_keys:
            peak_keys = len(guard)
            peak_bytes = tracemalloc.get_traced_memory()[0] - base
        if len(recent) > 300:
            recent[-301] = []  # only the window is kept by the benchmark itself
    tracemalloc.stop()
    return {
        "peak_keys": peak_keys,
        "peak_mb": peak_bytes / 1e6,
        "bytes_per_key": peak_bytes / max(peak_keys, 1),
        "refused_share": refused / offered,
        "replayed_again": replayed_again,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=400)
    parser.add_argument("--replays", type=int, default=50)
    args, _ = parser.parse_known_args()
    sized = int(args.rate * 300 * 1.01)  # rate x min_age, and 1% for the clock's edges
    print(
        f"MemoryDuplicateGuard, {args.rate} new webhooks/s for {args.seconds} s (simulated), "
        f"{args.replays} replays/s from the last 300 s; memory by tracemalloc"
    )
    print(
        f"{'guard':<28}{'most keys':>11}{'memory':>10}{'bytes/key':>11}"
        f"{'refused (503)':>15}{'handled twice':>15}"
    )
    for name, max_events in (
        ("defaults (100,000 keys)", 100_000),
        (f"sized ({sized:,} keys)", sized),
    ):
        r = run(max_events, args.rate, args.seconds, args.replays)
        print(
            f"{name:<28}{r['peak_keys']:>11,.0f}{r['peak_mb']:>8.0f}MB{r['bytes_per_key']:>11.0f}"
            f"{r['refused_share']:>14.1%}{r['replayed_again']:>15.0f}"
        )


if __name__ == "__main__":
    main()
