"""Delivery tracking across replicas: a wait on process A, the webhook posted to process B.

Process B is a receiver replica (``_redis.py replica ... relay``): it verifies each webhook and
hands it to a ``RedisDeliveryRelay``. This process is replica A: a ``DeliveryTracker`` with
polling off (so only the relay can answer) and its own relay. For each message, A starts
``relay.wait(id)``, then posts the signed ``message.finalized`` webhook to B over loopback HTTP;
the latency is from the moment the POST starts to the moment A's wait returns (it includes B's
verification and its HTTP answer). One message at a time, so each number is one clean path.
Also: waits that start only after the webhook was received (found in the per-message record).

    python benchmarks/bench_redis_tracking.py [--messages 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import aiohttp
from _redis import delivery_webhook, redis_server, signer, start_replica, stop_replicas

from telnyx_messaging import webhooks
from telnyx_messaging.redis import RedisDeliveryRelay

TARGET_P99 = 0.100


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(url: str, messages: int) -> dict[str, float]:
    replicas = [start_replica(url, "relay")]
    post_url = f"http://127.0.0.1:{replicas[0][1]}/webhooks"
    sign = signer()
    tracker = webhooks.DeliveryTracker()  # no client: webhooks alone answer
    latencies, late = [], []
    try:
        async with (
            await RedisDeliveryRelay.connect(tracker, url) as relay,
            aiohttp.ClientSession() as session,
        ):
            for i in range(messages + 50):  # the first 50 warm up
                message_id = str(uuid.uuid4())
                body = delivery_webhook(message_id, str(uuid.uuid4()))
                waiting = asyncio.ensure_future(relay.wait(message_id, timeout=10))
                await asyncio.sleep(0)  # the wait is registered
                started = time.perf_counter()
                async with session.post(post_url, data=body, headers=sign.headers(body)) as r:
                    assert r.status == 200, r.status
                outcome = await waiting
                if i >= 50:
                    latencies.append(time.perf_counter() - started)
                assert outcome.final
                assert outcome.source == "webhook"
            # Waits that begin after B answered, on a fresh tracker that heard nothing.
            async with await RedisDeliveryRelay.connect(
                webhooks.DeliveryTracker(), url
            ) as newcomer:
                for _ in range(200):
                    message_id = str(uuid.uuid4())
                    body = delivery_webhook(message_id, str(uuid.uuid4()))
                    async with session.post(post_url, data=body, headers=sign.headers(body)) as r:
                        assert r.status == 200
                    started = time.perf_counter()
                    await newcomer.wait(message_id, timeout=10)
                    late.append(time.perf_counter() - started)
    finally:
        stop_replicas(replicas)
    return {
        "messages": messages,
        "p50 ms": round(statistics.median(latencies) * 1000, 2),
        "p99 ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max ms": round(max(latencies) * 1000, 2),
        "late waits (record): p50 ms": round(statistics.median(late) * 1000, 2),
        "late waits (record): p99 ms": round(percentile(late, 0.99) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    args, _ = parser.parse_known_args()
    with redis_server() as url:
        result = asyncio.run(measure(url, args.messages))
    print("wait on A, webhook posted to B (POST start -> A's wait returns)")
    for name, value in result.items():
        print(f"   {name}: {value}")
    verdict = "meets" if result["p99 ms"] < TARGET_P99 * 1000 else "MISSES"
    print(f"   p99 {verdict} the {TARGET_P99 * 1000:g} ms target")


if __name__ == "__main__":
    main()
