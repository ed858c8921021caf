"""Webhooks across replicas with RedisDuplicateGuard: each event handled once, and what Redis costs.

1. Exactly once behind a load balancer: three receiver processes (``_redis.py replica``), each
   with a ``RedisDuplicateGuard`` and a callback of 20 ms that appends the event's key to a Redis
   list, behind a round-robin front (an aiohttp proxy in this process). 1,000 signed delivery
   webhooks, 30% of them delivered twice, the two deliveries sent at the same moment (the hard
   case: the second meets the first in progress). As Telnyx does, a delivery answered 503 is
   sent again after its ``Retry-After``. Reports how many times each event was handled, how many
   duplicate pairs reached two different replicas, and the answers.
2. Cost per webhook: ``WebhookReceiver`` with the default ``MemoryDuplicateGuard`` against the
   same receiver with ``RedisDuplicateGuard`` (Redis on loopback), each receiving distinct
   pre-signed events in turn, round by round: wall time and this process's CPU per webhook
   (median of rounds) and their ratios.

    python benchmarks/bench_redis_webhooks.py [--events 1000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import random
import statistics
import time
import uuid

import aiohttp
import redis
from _redis import delivery_webhook, redis_server, signer, start_replica, stop_replicas
from aiohttp import web

from telnyx_messaging import webhooks
from telnyx_messaging.redis import RedisDuplicateGuard


async def exactly_once(url: str, events: int) -> dict[str, object]:
    replicas = [start_replica(url, "count", 0.02) for _ in range(3)]
    sign = signer()
    routed: dict[str, set[int]] = collections.defaultdict(set)
    turn = itertools.count()
    try:
        async with aiohttp.ClientSession() as upstream:

            async def front(request: web.Request) -> web.Response:
                body = await request.read()
                replica = next(turn) % 3
                routed[json.loads(body)["data"]["id"]].add(replica)
                async with upstream.post(
                    f"http://127.0.0.1:{replicas[replica][1]}/webhooks",
                    data=body,
                    headers={k: v for k, v in request.headers.items() if k.startswith("telnyx-")},
                ) as answer:
                    return web.Response(
                        status=answer.status,
                        text=await answer.text(),
                        headers={"Retry-After": answer.headers.get("Retry-After", "")},
                    )

            app = web.Application()
            app.router.add_post("/webhooks", front)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            front_url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks"
            ids = [str(uuid.uuid4()) for _ in range(events)]
            twice = set(random.sample(ids, k=events * 3 // 10))
            answers: collections.Counter[int] = collections.Counter()
            gate = asyncio.Semaphore(32)

            async def deliver(event_id: str) -> None:
                body = delivery_webhook(f"msg-{event_id}", event_id)
                for _ in range(10):  # Telnyx retries; 10 tries is plenty here
                    async with session.post(front_url, data=body, headers=sign.headers(body)) as r:
                        answers[r.status] += 1
                        if r.status != 503:
                            return
                        await asyncio.sleep(float(r.headers.get("Retry-After") or 1))
                raise RuntimeError(f"{event_id} was never answered 200")

            async def event(event_id: str) -> None:
                async with gate:
                    copies = 2 if event_id in twice else 1
                    await asyncio.gather(*(deliver(event_id) for _ in range(copies)))

            started = time.perf_counter()
            async with aiohttp.ClientSession() as session:
                await asyncio.gather(*(event(i) for i in ids))
            seconds = time.perf_counter() - started
            await runner.cleanup()
    finally:
        stop_replicas(replicas)
    client = redis.Redis.from_url(url)
    handled = collections.Counter(e.decode().split()[0] for e in client.lrange("handled", 0, -1))
    pids = {e.decode().split()[1] for e in client.lrange("handled", 0, -1)}
    client.close()
    return {
        "events": events,
        "delivered twice": len(twice),
        "deliveries (with retries)": sum(answers.values()),
        "answers": dict(sorted(answers.items())),
        "pairs that reached two replicas": sum(len(routed[i]) > 1 for i in twice),
        "events handled exactly once": sum(handled[i] == 1 for i in ids),
        "events handled twice or more": sum(handled[i] > 1 for i in ids),
        "events never handled": sum(handled[i] == 0 for i in ids),
        "replicas that handled events": len(pids),
        "seconds": round(seconds, 2),
    }


async def cost_per_webhook(url: str, events: int, rounds: int) -> dict[str, float]:
    sign = signer()
    guard = await RedisDuplicateGuard.connect(url)

    async def on_event(event: webhooks.WebhookEvent) -> None:
        return None

    receivers = {
        "memory": webhooks.WebhookReceiver(on_event=on_event, public_key=sign.public_key),
        "redis": webhooks.WebhookReceiver(
            on_event=on_event, public_key=sign.public_key, duplicates=guard
        ),
    }
    wall: dict[str, list[float]] = {name: [] for name in receivers}
    cpu: dict[str, list[float]] = {name: [] for name in receivers}
    for _ in range(rounds):
        for name, receiver in receivers.items():
            batch = []
            for _ in range(events):
                body = delivery_webhook("msg", str(uuid.uuid4()))
                batch.append((body, sign.headers(body)))
            w, c = time.perf_counter(), time.process_time()
            for body, headers in batch:
                answer = await receiver._receive(body, headers, started=0.0)
                assert answer.status == 200, answer
            wall[name].append((time.perf_counter() - w) / events)
            cpu[name].append((time.process_time() - c) / events)
    await guard.aclose()
    memory_wall, redis_wall = statistics.median(wall["memory"]), statistics.median(wall["redis"])
    memory_cpu, redis_cpu = statistics.median(cpu["memory"]), statistics.median(cpu["redis"])
    return {
        "memory guard: wall us/webhook": round(memory_wall * 1e6, 1),
        "redis guard: wall us/webhook": round(redis_wall * 1e6, 1),
        "wall ratio redis/memory": round(redis_wall / memory_wall, 2),
        "memory guard: CPU us/webhook": round(memory_cpu * 1e6, 1),
        "redis guard: CPU us/webhook": round(redis_cpu * 1e6, 1),
        "CPU ratio redis/memory": round(redis_cpu / memory_cpu, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args, _ = parser.parse_known_args()
    with redis_server() as url:
        once = asyncio.run(exactly_once(url, args.events))
        print("1. three replicas behind a round-robin front")
        for name, value in once.items():
            print(f"   {name}: {value}")
        cost = asyncio.run(cost_per_webhook(url, 1000, args.rounds))
        print("2. cost per webhook (receiver with a no-op callback, loopback Redis)")
        for name, value in cost.items():
            print(f"   {name}: {value}")
    if once["events handled exactly once"] != args.events:
        raise SystemExit("FAILED: an event was not handled exactly once")


if __name__ == "__main__":
    main()
