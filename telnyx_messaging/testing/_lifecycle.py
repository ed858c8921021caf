"""What happens to a message after the API answered: sending, delivery, and their webhooks.

A send answers ``queued`` (or ``scheduled``); then, on the fake's clock, the message is sent
(``message.sent``) and, ``delivery_seconds`` later, finalized (``message.finalized``:
``delivered``, or the failure configured for its number). Inbound messages and link clicks
only deliver their webhook. Work runs in tasks the fake tracks, so `Lifecycle.settled` can
wait for all of it and `Lifecycle.close` can stop it cleanly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

from telnyx_messaging.testing._clock import Clock, Timer
from telnyx_messaging.testing._delivery import WebhookDeliverer
from telnyx_messaging.testing._payloads import (
    FAILURES,
    event,
    inbound_message,
    link_click,
    with_status,
)
from telnyx_messaging.testing._state import FakeState
from telnyx_messaging.testing._wire import iso, parse_datetime

__all__ = ["Lifecycle"]


class Lifecycle:
    """Moves messages through their statuses and delivers their webhooks."""

    def __init__(
        self,
        state: FakeState,
        clock: Clock,
        deliverer: WebhookDeliverer,
        *,
        send_seconds: float,
        delivery_seconds: float,
    ) -> None:
        self._state = state
        self._clock = clock
        self._deliverer = deliverer
        self._send_seconds = send_seconds
        self._delivery_seconds = delivery_seconds
        self._tasks: set[asyncio.Task[Any]] = set()
        self._scheduled: dict[str, Timer] = {}  # scheduled sends: cancellable
        self._queued: dict[str, Timer] = {}  # accepted sends waiting send_seconds
        # Request-only choices a message's webhooks depend on (not part of its JSON).
        self._use_profile_webhooks: dict[str, bool] = {}
        #: Exceptions that ended a task (a bug in the fake); `settled` raises the first.
        self.failures: list[BaseException] = []

    # --- starting work

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.failures.append(task.exception())  # type: ignore[arg-type]

    def accepted(self, message: Mapping[str, Any], *, use_profile_webhooks: bool = True) -> None:
        """A send was answered: send it now, or at its ``send_at``."""
        message_id = message["id"]
        self._use_profile_webhooks[message_id] = use_profile_webhooks
        send_at = message.get("send_at")
        if send_at is None:
            if self._send_seconds <= 0:
                self._spawn(self._run(message_id))
            else:
                self._queued[message_id] = self._clock.call_later(
                    self._send_seconds, lambda: self._send_queued(message_id)
                )
            return
        due = parse_datetime(send_at)
        delay = 0.0 if due is None else due.timestamp() - self._clock.time()
        self._scheduled[message_id] = self._clock.call_later(
            delay, lambda: self._send_scheduled(message_id)
        )

    def _send_scheduled(self, message_id: str) -> None:
        del self._scheduled[message_id]
        message = self._state.messages[message_id]
        statuses = {to["phone_number"]: "queued" for to in message["to"]}
        self._state.messages[message_id] = with_status(message, statuses)
        self._spawn(self._run(message_id))

    def _send_queued(self, message_id: str) -> None:
        del self._queued[message_id]
        self._spawn(self._run(message_id))

    def cancel(self, message_id: str) -> bool:
        """Stop a scheduled send; False if it is not waiting to be sent (any more)."""
        timer = self._scheduled.pop(message_id, None)
        if timer is None:
            return False
        timer.cancel()
        return True

    # --- outbound

    def urls(self, message: Mapping[str, Any], *, use_profile_webhooks: bool = True) -> list[str]:
        """Where a message's webhooks go, in Telnyx's order, without blanks or repeats."""
        candidates = [message.get("webhook_url"), message.get("webhook_failover_url")]
        if use_profile_webhooks:
            profile = self._state.profile(message["messaging_profile_id"])
            candidates += [profile.webhook_url, profile.webhook_failover_url]
        urls: list[str] = []
        for url in candidates:
            if url and url not in urls:
                urls.append(url)
        return urls

    async def _run(self, message_id: str) -> None:
        message = self._state.messages[message_id]
        failing = {
            to["phone_number"]: self._state.failing_numbers.get(to["phone_number"], "delivered")
            for to in message["to"]
        }
        now = iso(self._clock.now())
        sent = {
            number: "sending_failed" if status == "sending_failed" else "sent"
            for number, status in failing.items()
        }
        message = with_status(message, sent, sent_at=now if "sent" in sent.values() else None)
        self._state.messages[message_id] = message
        if "sent" in sent.values():
            await self._deliver_message_event("message.sent", message)
            await self._clock.sleep(self._delivery_seconds)
        errors = [FAILURES[s] for s in dict.fromkeys(failing.values()) if s in FAILURES]
        message = with_status(
            self._state.messages[message_id],
            failing,
            completed_at=iso(self._clock.now()),
            errors=errors,
        )
        self._state.messages[message_id] = message
        await self._deliver_message_event("message.finalized", message)

    async def _deliver_message_event(self, event_type: str, message: Mapping[str, Any]) -> None:
        use_profile = self._use_profile_webhooks.get(message["id"], True)
        urls = self.urls(message, use_profile_webhooks=use_profile)
        if urls:
            await self._deliverer.deliver(
                event(event_type, message, now=self._clock.now()),
                event_type=event_type,
                message_id=message["id"],
                urls=urls,
            )

    # --- inbound and link clicks

    def receive(
        self,
        *,
        from_: str,
        to: str,
        text: str | None,
        media_urls: Sequence[str],
        subject: str | None,
    ) -> dict[str, Any]:
        """Store an inbound message and deliver ``message.received`` to its profile's URLs."""
        profile_id = self._state.profile_of_number(to)
        profile = self._state.profile(profile_id)
        message = inbound_message(
            from_=from_,
            to=to,
            text=text,
            media_urls=media_urls,
            subject=subject,
            profile_id=profile_id,
            webhook_url=profile.webhook_url,
            webhook_failover_url=profile.webhook_failover_url,
            now=self._clock.now(),
        )
        self._state.messages[message["id"]] = message
        self._state.apply_keyword(
            text or "", profile_id=profile_id, number=to, sender=from_, now=message["received_at"]
        )
        self._spawn(self._deliver_inbound(message))
        return message

    async def _deliver_inbound(self, message: Mapping[str, Any]) -> None:
        urls = [url for url in (message["webhook_url"], message["webhook_failover_url"]) if url]
        if urls:
            await self._deliverer.deliver(
                event("message.received", message, now=self._clock.now()),
                event_type="message.received",
                message_id=message["id"],
                urls=list(dict.fromkeys(urls)),
            )

    def click(self, message: Mapping[str, Any], url: str) -> dict[str, Any]:
        """Deliver a link click on ``message`` to the message's webhook URLs."""
        click = link_click(message, url, now=self._clock.now())
        use_profile = self._use_profile_webhooks.get(message["id"], True)
        urls = self.urls(message, use_profile_webhooks=use_profile)
        if urls:
            self._spawn(
                self._deliverer.deliver(
                    click,
                    event_type="link_clicked",
                    message_id=message["id"],
                    urls=urls,
                    with_meta=False,
                )
            )
        return click

    # --- waiting and stopping

    async def settled(self) -> None:
        """Return once no delivery or status change due by now is under way (new ones included).

        A task asleep on the clock until a later moment (``delivery_seconds``, a webhook
        retry's wait) counts as settled: waiting for it would mean waiting for real time
        to reach it, when a test means to `Clock.advance` past it.
        """
        while busy := self._clock.busy(self._tasks):
            self._clock.parked.clear()
            parked = asyncio.ensure_future(self._clock.parked.wait())
            try:
                await asyncio.wait([*busy, parked], return_when=asyncio.FIRST_COMPLETED)
            finally:
                parked.cancel()
        if self.failures:
            raise self.failures[0]

    async def close(self) -> None:
        """Stop every pending send and delivery."""
        for timer in [*self._scheduled.values(), *self._queued.values()]:
            timer.cancel()
        self._scheduled.clear()
        self._queued.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
