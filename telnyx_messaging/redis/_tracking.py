"""Delivery tracking across replicas: a webhook verified by one replica is heard by every tracker.

The replica that receives a delivery webhook verifies it (its ``WebhookReceiver``) and hands it
to :meth:`RedisDeliveryRelay.publish`, which in one transaction

- keeps the body in a short-lived per-message hash (``telnyx:delivery:<message id>``, one field
  per event, expiring after ``keep_for``), so a ``wait`` that starts after the webhook came
  still finds it, on any replica, even one started later;
- publishes it on a pub/sub channel, which every replica's listener feeds to its tracker at
  once: a wait on replica A resolves within milliseconds of the webhook reaching replica B.

Pub/sub is at most once (a replica that is reconnecting misses what was published
meanwhile), so after every (re)subscription the listener reads the hashes of the messages its
waits are on. The bodies are parsed, never verified again: the channel is trusted because it
is the user's own Redis, written only by their replicas after verification.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from typing import Any

import redis
import redis.asyncio

from telnyx_messaging._errors import ConfigurationError, InvalidArgumentError, WebhookParseError
from telnyx_messaging._models import Message
from telnyx_messaging.redis._connection import connect
from telnyx_messaging.webhooks import DeliveryUpdate, WebhookEvent, duplicate_key
from telnyx_messaging.webhooks._tracking import DeliveryOutcome, DeliveryTracker

__all__ = ["RedisDeliveryRelay"]

log = logging.getLogger("telnyx_messaging")

DEFAULT_CHANNEL = "telnyx:deliveries"
DEFAULT_PREFIX = "telnyx:delivery:"
# Seconds the listener blocks for a note before looping (to notice close); a note that
# arrives meanwhile is returned at once.
_LISTEN_SLICE = 1.0
_MAX_BACKOFF = 5.0


class RedisDeliveryRelay:
    """Every replica's :class:`~telnyx_messaging.webhooks.DeliveryTracker` hears every replica's
    delivery webhooks, through Redis.

    ::

        tracker = webhooks.DeliveryTracker(client)
        async with await RedisDeliveryRelay.connect(tracker) as relay:  # $TELNYX_REDIS_URL
            receiver = webhooks.WebhookReceiver(on_event=relay.publish, public_key=KEY)
            ...
            outcome = await relay.wait(message, timeout=120)

    Give verified events to :meth:`publish` (``on_event=relay.publish``, or call it from your
    own ``on_event``): it feeds the local tracker and publishes delivery updates to the other
    replicas; other events are ignored. :meth:`wait` is the tracker's ``wait`` that first reads
    what Redis kept for the message (``keep_for`` seconds, default 600). The listener runs from
    :meth:`start` (or ``async with``) to :meth:`aclose`, reconnecting when Redis comes back.

    Only publish events that passed verification: other replicas trust this channel.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        tracker: DeliveryTracker,
        *,
        channel: str = DEFAULT_CHANNEL,
        prefix: str = DEFAULT_PREFIX,
        keep_for: float = 600.0,
    ) -> None:
        if not isinstance(tracker, DeliveryTracker):
            raise InvalidArgumentError(
                f"tracker must be a webhooks.DeliveryTracker, got {type(tracker).__name__}"
            )
        for name, value in (("channel", channel), ("prefix", prefix)):
            if not isinstance(value, str) or not value:
                raise InvalidArgumentError(f"{name} must be a non-empty string, got {value!r}")
        if (
            isinstance(keep_for, bool)
            or not isinstance(keep_for, (int, float))
            or not 1 <= keep_for < float("inf")
        ):
            raise InvalidArgumentError(f"keep_for must be seconds >= 1, got {keep_for!r}")
        self._client = client
        self._tracker = tracker
        self.channel = channel
        self.prefix = prefix
        self.keep_for = float(keep_for)
        self._owns_client = False
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        # message id -> how many waits on it are running here (read again after a reconnect)
        self._waiting: Counter[str] = Counter()

    def __repr__(self) -> str:
        state = "listening" if self._listener is not None else "not started"
        return f"<RedisDeliveryRelay channel={self.channel!r} {state}>"

    @classmethod
    async def connect(
        cls,
        tracker: DeliveryTracker,
        url: str | None = None,
        *,
        channel: str = DEFAULT_CHANNEL,
        prefix: str = DEFAULT_PREFIX,
        keep_for: float = 600.0,
    ) -> RedisDeliveryRelay:
        """A relay on a new client for ``url`` (default ``$TELNYX_REDIS_URL``), closed by
        :meth:`aclose`. An unreachable Redis raises ``ConfigurationError`` here."""
        client = await connect(url)
        try:
            relay = cls(client, tracker, channel=channel, prefix=prefix, keep_for=keep_for)
        except InvalidArgumentError:
            await client.aclose()
            raise
        relay._owns_client = True
        return relay

    # --- the receiving replica

    async def publish(self, event: WebhookEvent) -> None:
        """Feed a verified event to the local tracker, and to every replica's through Redis.

        Raises the Redis error when Redis cannot be reached, so a receiver answers 500 and
        Telnyx delivers the webhook again.
        """
        if not isinstance(event, DeliveryUpdate):
            return
        self._tracker.feed(event)
        body = json.dumps(event.raw, separators=(",", ":"))
        key = self.prefix + event.payload.id
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hset(key, duplicate_key(event), body)
            pipe.pexpire(key, int(self.keep_for * 1000))
            pipe.publish(self.channel, body)
            await pipe.execute()

    # --- every replica

    async def wait(
        self, message: Message | str, *, timeout: float | None = None
    ) -> DeliveryOutcome:
        """:meth:`DeliveryTracker.wait <telnyx_messaging.webhooks.DeliveryTracker.wait>`, after
        reading what any replica received for the message before now.

        Needs :meth:`start` (or ``async with``) first; if Redis cannot be read, it still waits
        on the listener and the tracker's polling.
        """
        if self._listener is None:
            raise ConfigurationError(
                "start the RedisDeliveryRelay first: 'async with relay:' or 'await relay.start()'"
            )
        message_id = message.id if isinstance(message, Message) else message
        if not isinstance(message_id, str) or not message_id.strip():  # the tracker says why
            return await self._tracker.wait(message, timeout=timeout)
        self._waiting[message_id] += 1
        try:
            await self._catch_up((message_id,))
            return await self._tracker.wait(message, timeout=timeout)
        finally:
            self._waiting[message_id] -= 1
            if not self._waiting[message_id]:
                del self._waiting[message_id]

    async def start(self) -> None:
        """Subscribe, and feed the tracker from the channel until :meth:`aclose`.

        Returns once subscribed, so a webhook published afterwards is heard. Idempotent.
        """
        if self._listener is None:
            self._subscribed.clear()
            self._listener = asyncio.get_running_loop().create_task(
                self._listen(), name="telnyx-delivery-relay"
            )
        subscribed = asyncio.ensure_future(self._subscribed.wait())
        await asyncio.wait((subscribed, self._listener), return_when=asyncio.FIRST_COMPLETED)
        if not subscribed.done():  # pragma: no cover - the listener only ends when cancelled
            subscribed.cancel()

    async def aclose(self) -> None:
        """Stop listening, and close the client if :meth:`connect` made it. Idempotent."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        if self._owns_client:
            self._owns_client = False
            await self._client.aclose()

    async def __aenter__(self) -> RedisDeliveryRelay:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- inside

    def _feed(self, body: Any) -> None:
        try:
            self._tracker.feed(body)
        except WebhookParseError as exc:
            log.warning("ignored a note on %s that is not a webhook: %s", self.channel, exc)

    async def _catch_up(self, message_ids: Any) -> None:
        """Feed the tracker what Redis kept for ``message_ids``."""
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for message_id in message_ids:
                    pipe.hvals(self.prefix + message_id)
                kept = await pipe.execute()
        except (redis.RedisError, OSError) as exc:
            log.warning(
                "could not read kept delivery webhooks from Redis (%s); waiting on the channel "
                "and polling",
                type(exc).__name__,
            )
            return
        for bodies in kept:
            for body in bodies:
                self._feed(body)

    async def _listen(self) -> None:
        backoff = 0.1
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    if backoff > 0.1:
                        log.warning("delivery relay: Redis is back; listening on %s", self.channel)
                    backoff = 0.1
                    self._subscribed.set()
                    # Anything published while we were not subscribed is in the hashes.
                    await self._catch_up(list(self._waiting))
                    while True:
                        note = await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=_LISTEN_SLICE
                        )
                        if note is not None and note.get("type") == "message":
                            self._feed(note["data"])
            except (redis.RedisError, OSError) as exc:
                if backoff == 0.1:
                    log.warning(
                        "delivery relay lost Redis (%s); reconnecting (waits poll meanwhile)",
                        type(exc).__name__,
                    )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
