"""Await a message's final delivery status: join delivery webhooks to sends, poll when none come.

::

    tracker = webhooks.DeliveryTracker(client)
    app.router.add_post("/telnyx", webhooks.aiohttp_handler(tracker.feed, public_key=KEY))
    msg = await client.messages.send(to=..., from_=..., text=..., webhook_url=URL)
    outcome = await tracker.wait(msg, timeout=120)
    outcome.payload.to[0].status  # "delivered", "delivery_failed", ...

How it stays correct and small (docs/tracking.md has the long form):

- Bookkeeping is plain, synchronous code over ``_Track`` objects: per recipient, the furthest
  status seen (``scheduled < queued < sending < sent < final``, ties broken by ``occurred_at``),
  so a duplicate or late ``message.sent`` never moves a message backwards.
- Ids nobody waits on yet sit in one ``OrderedDict`` bounded in count and age, so a webhook
  that beats the send's HTTP answer is still there for the ``wait`` that follows.
- No background task, ever: each ``wait`` sleeps on its own future and, after the quiet
  period, polls ``messages.retrieve`` itself. Cancelling it or closing the tracker leaves
  nothing running.

Asyncio only: this module imports neither the client nor aiohttp.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any, Literal, Protocol, TypeAlias

from attrs import evolve, frozen

from telnyx_messaging import _telemetry
from telnyx_messaging._errors import APIError, ConfigurationError, InvalidArgumentError, TelnyxError
from telnyx_messaging._models import Message, Recipient
from telnyx_messaging._retryable import is_retryable
from telnyx_messaging.webhooks._events import (
    DeliveryUpdate,
    InboundMessage,
    ReplacedLinkClick,
    UnknownEvent,
    WebhookEvent,
    parse,
)

__all__ = ["DeliveryOutcome", "DeliveryTimeoutError", "DeliveryTracker"]

log = logging.getLogger("telnyx_messaging")

#: Which report produced an outcome: a delivery webhook, a poll of ``messages.retrieve``, or
#: the :class:`~telnyx_messaging.Message` passed to ``wait`` (usually the send's own answer).
DeliverySource: TypeAlias = Literal["webhook", "poll", "message"]

# Recipient statuses in the order a message moves through them (the spec's
# OutboundMessagePayloadCancelled enum). Every other known value is final.
_PROGRESS = {"scheduled": 0, "queued": 1, "sending": 2, "sent": 3}
_FINAL = frozenset(
    {
        "cancelled",
        "expired",
        "sending_failed",
        "delivery_unconfirmed",
        "delivered",
        "delivery_failed",
    }
)
_FINAL_RANK = 5
# A status this SDK does not know yet ranks after "sent" but is not final, unless Telnyx
# reports it in message.finalized: its own word that the message is done.
_UNKNOWN_RANK = 4
_NO_STATUS_RANK = -1
_FINALIZED = "message.finalized"
# GET /messages/{id} answers for messages up to 10 days old (Telnyx API reference).
_RETRIEVE_WINDOW = timedelta(days=10)


def _rank(status: str, *, finalized: bool) -> int:
    if not status:  # an empty status says nothing
        return _NO_STATUS_RANK
    rank = _PROGRESS.get(status)
    if rank is not None:
        return rank
    if status in _FINAL or finalized:
        return _FINAL_RANK
    return _UNKNOWN_RANK


def _timestamp(moment: datetime | None) -> float:
    if moment is None:
        return -math.inf
    if moment.tzinfo is None:  # Telnyx sends offsets; a bare time is read as UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class _Retrieves(Protocol):
    def retrieve(self, id: str, /) -> Awaitable[Message]: ...


class HasMessages(Protocol):
    """Anything with ``.messages.retrieve(id)``, such as an ``AsyncClient``."""

    # A cached_property, as on AsyncClient: pyright does not match a cached_property
    # against a protocol's plain property (mypy takes either).
    @cached_property
    def messages(self) -> _Retrieves: ...


#: A coroutine function that fetches a message by id, like ``client.messages.retrieve``.
RetrieveMessage: TypeAlias = Callable[[str], Awaitable[Message]]


@frozen(kw_only=True)
class DeliveryOutcome:
    """Where a sent message stands: per recipient, the furthest status Telnyx reported.

    ``message`` (also ``payload``, as on :class:`~telnyx_messaging.webhooks.DeliveryUpdate`)
    is the latest report with each recipient at its furthest status: for a group MMS or a
    message to several numbers, ``message.to[i].status`` is the outcome for each.
    ``final`` is true once every recipient has a final status (``delivered``,
    ``delivery_failed``, ``sending_failed``, ``delivery_unconfirmed``, ``expired``,
    ``cancelled``). ``source`` says which report answered: ``"webhook"``, ``"poll"``
    (``messages.retrieve``) or ``"message"`` (the ``Message`` you passed to ``wait``, usually
    the send's own answer). ``event`` is the webhook that last moved it on, ``None`` otherwise.

    .. versionadded:: 0.2.0
    """

    id: str
    message: Message
    final: bool
    source: DeliverySource
    event: DeliveryUpdate | None = None

    @property
    def payload(self) -> Message:
        """The same as ``message``, so code written for ``DeliveryUpdate`` reads the same."""
        return self.message

    @property
    def statuses(self) -> dict[str, str]:
        """Each recipient's status, by phone number: ``{"+13125550002": "delivered"}``."""
        return {recipient.phone_number: recipient.status for recipient in self.message.to}

    @property
    def delivered(self) -> bool:
        """Whether every recipient's status is ``delivered``."""
        return bool(self.message.to) and all(a.status == "delivered" for a in self.message.to)


class DeliveryTimeoutError(TelnyxError, TimeoutError):
    """``wait`` ran out of time before the message reached a final status.

    Also a ``TimeoutError``. ``message_id`` is the message waited for; ``last`` is the last
    :class:`DeliveryOutcome` known (``None`` if nothing was heard): often ``sent``, with the
    carrier's receipt still to come.

    .. versionadded:: 0.2.0
    """

    def __init__(self, message_id: str, timeout: float, last: DeliveryOutcome | None) -> None:
        heard = ", ".join(sorted(set(last.statuses.values()))) if last else None
        super().__init__(
            f"message {message_id} reached no final status within {timeout:g} s "
            f"(last known status: {heard or 'nothing heard yet'}); wait again, or pass "
            "a longer timeout"
        )
        self.message_id = message_id
        self.last = last


class _Track:
    """Everything known about one message id. Plain bookkeeping: no I/O, no awaiting."""

    __slots__ = (
        "event",
        "final",
        "heard_at",
        "id",
        "message",
        "next_poll",
        "poll_interval",
        "recipients",
        "source",
        "touched_at",
        "waiters",
    )

    def __init__(self, message_id: str, now: float) -> None:
        self.id = message_id
        self.message: Message | None = None
        # phone number -> (rank, occurred_at as a timestamp, the recipient as last reported)
        self.recipients: dict[str, tuple[int, float, Recipient]] = {}
        self.event: DeliveryUpdate | None = None
        self.source: DeliverySource = "message"
        self.final: DeliveryOutcome | None = None
        self.heard_at = now  # last webhook for this id, or when the first wait began
        self.touched_at = now  # for the age bound while kept
        self.next_poll = -math.inf  # shared by every wait on this id: one poll at a time
        self.poll_interval = 0.0  # the next gap between polls; 0 until the first
        self.waiters: list[asyncio.Future[DeliveryOutcome]] = []

    def apply(
        self, message: Message, *, source: DeliverySource, event: DeliveryUpdate | None
    ) -> bool:
        """Merge one report in; True if it moved any recipient on. Final tracks never move."""
        if self.final is not None:
            return False
        finalized = event is not None and event.event_type == _FINALIZED
        occurred = _timestamp(event.occurred_at if event is not None else None)
        moved = False
        for recipient in message.to:
            rank = _rank(recipient.status, finalized=finalized)
            old = self.recipients.get(recipient.phone_number)
            if old is None or rank > old[0] or (rank == old[0] and occurred > old[1]):
                self.recipients[recipient.phone_number] = (rank, occurred, recipient)
                moved = True
        if not moved:
            return False
        self.message, self.source, self.event = message, source, event
        if all(rank == _FINAL_RANK for rank, _, _ in self.recipients.values()):
            self.final = self._outcome(final=True)
            _telemetry.delivery_final(self.final)
            # Only ever completed here, once: a final track takes no more reports.
            for waiter in self.waiters:
                waiter.set_result(self.final)
        return True

    def outcome(self) -> DeliveryOutcome:
        return self.final or self._outcome(final=False)

    def _outcome(self, *, final: bool) -> DeliveryOutcome:
        assert self.message is not None  # only called once a report arrived
        recipients = tuple(recipient for _, _, recipient in self.recipients.values())
        return DeliveryOutcome(
            id=self.id,
            message=evolve(self.message, to=recipients),
            final=final,
            source=self.source,
            event=self.event,
        )

    def retrievable(self, now: datetime) -> bool:
        """Whether GET /messages/{id} may still answer: within 10 days of its creation."""
        received = self.message.received_at if self.message is not None else None
        return received is None or _timestamp(received) > (now - _RETRIEVE_WINDOW).timestamp()


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidArgumentError(f"{name} must be a number of seconds above 0, got {value!r}")
    return float(value)


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{name} must be an int of at least 1, got {value!r}")
    return value


def _retriever(
    source: HasMessages | RetrieveMessage | None,
) -> RetrieveMessage | None:
    if source is None or callable(source):
        return source
    messages = getattr(source, "messages", None)
    retrieve = getattr(messages, "retrieve", None)
    if not callable(retrieve):
        raise InvalidArgumentError(
            "DeliveryTracker needs the client (anything with .messages.retrieve), a retrieve "
            f"coroutine function, or None to rely on webhooks alone; got {type(source).__name__}"
        )
    return retrieve  # type: ignore[no-any-return]  # checked callable just above


class DeliveryTracker:
    """Await the final delivery status of messages you send: webhooks first, polling after.

    ::

        tracker = webhooks.DeliveryTracker(client)
        app.router.add_post("/telnyx", webhooks.aiohttp_handler(tracker.feed, public_key=KEY))
        msg = await client.messages.send(to=..., from_=..., text=..., webhook_url=URL)
        outcome = await tracker.wait(msg, timeout=120)
        outcome.payload.to[0].status  # "delivered", "delivery_failed", ...

    Hand every delivery webhook to :meth:`feed`; :meth:`wait` returns once the message is
    final, however the events and the send's answer interleave. Webhooks for ids nobody
    waits on yet are kept (at most ``max_kept`` ids, each for ``keep_for`` seconds), so one
    that arrives before the send's HTTP answer is not lost.

    ``source`` is the client (anything with ``.messages.retrieve``) or a retrieve coroutine
    function: when no webhook for a message has come for ``quiet_period`` seconds, ``wait``
    polls it, ``poll_interval`` seconds apart at first and doubling up to
    ``max_poll_interval``, while the API still serves the message (10 days). With
    ``source=None`` or ``quiet_period=None`` only webhooks answer.

    The tracker starts no task: close it (``async with`` or :meth:`close`) and every pending
    ``wait`` raises ``ConfigurationError``. Use it from one event loop. Behind several
    replicas, a webhook reaches only one of them: see ``docs/tracking.md``.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        source: HasMessages | RetrieveMessage | None = None,
        *,
        quiet_period: float | None = 30.0,
        poll_interval: float = 5.0,
        max_poll_interval: float = 300.0,
        max_kept: int = 5_000,
        keep_for: float = 600.0,
    ) -> None:
        self._retrieve = _retriever(source)
        self._quiet_period = (
            None if quiet_period is None else _positive("quiet_period", quiet_period)
        )
        self._poll_interval = _positive("poll_interval", poll_interval)
        self._max_poll_interval = max(
            self._poll_interval, _positive("max_poll_interval", max_poll_interval)
        )
        self._max_kept = _count("max_kept", max_kept)
        self._keep_for = _positive("keep_for", keep_for)
        # Ids someone waits on: never evicted, as many as there are pending waits.
        self._watched: dict[str, _Track] = {}
        # Ids nobody waits on, least recently touched first: bounded in count and age.
        self._kept: OrderedDict[str, _Track] = OrderedDict()
        self._closed = False

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<DeliveryTracker{state} waiting={len(self._watched)} kept={len(self._kept)}>"

    async def __aenter__(self) -> DeliveryTracker:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    async def close(self) -> None:
        """Forget everything and end every pending :meth:`wait` with ``ConfigurationError``.

        Idempotent. Webhooks fed afterwards are ignored.
        """
        self._closed = True
        for track in self._watched.values():
            for waiter in track.waiters:
                waiter.cancel()  # the wait sees the tracker closed and says so
        self._watched.clear()
        self._kept.clear()

    # --- feeding

    def feed(self, event: WebhookEvent | Mapping[str, Any] | bytes | str) -> None:
        """Take in one delivery webhook: pass it straight to ``aiohttp_handler``.

        ``event`` is a parsed event (what ``webhooks.unwrap`` returns), or a body as bytes,
        text or decoded JSON, e.g. one another replica verified and put on your message bus.
        Bodies are parsed, never verified: feed only what was verified where it arrived.
        Events other than ``message.sent`` and ``message.finalized`` are ignored, as is
        everything once the tracker is closed. Raises ``WebhookParseError`` for a body that
        is not a webhook. Synchronous and quick, so the webhook is answered at once.
        """
        if not isinstance(event, (DeliveryUpdate, InboundMessage, ReplacedLinkClick, UnknownEvent)):
            event = parse(event)
        if self._closed or not isinstance(event, DeliveryUpdate):
            return
        message = event.payload
        now = time.monotonic()
        track = self._watched.get(message.id)
        if track is None:
            track = self._keep(message.id, now)
        track.heard_at = now
        track.apply(message, source="webhook", event=event)

    def outcome(self, message: Message | str) -> DeliveryOutcome | None:
        """What is known now about a message, final or not; ``None`` if nothing (any more).

        Never waits and never polls: for reports, and for ``send_many`` results.
        """
        message_id = _message_id(message)
        track = self._watched.get(message_id) or self._kept.get(message_id)
        if track is None or track.message is None:
            return None
        return track.outcome()

    # --- waiting

    async def wait(
        self, message: Message | str, *, timeout: float | None = None
    ) -> DeliveryOutcome:
        """Wait until every recipient of ``message`` has a final status, and return it.

        ``message`` is what the send returned (its recipients and age then count from the
        start) or its id. Any number of waits on one message all get the same outcome.
        Returns at once when the message is already final. Raises
        :class:`DeliveryTimeoutError` after ``timeout`` seconds (``None``: no limit),
        ``ConfigurationError`` when the tracker closes meanwhile, and the polling error
        when a poll fails in a way retrying will not fix (e.g. ``NotFoundError``); polls
        that fail on the network or with a retryable status are simply tried again later.
        """
        message_id = _message_id(message)
        if timeout is not None:
            timeout = _positive("timeout", timeout)
        self._check_open()
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        track = self._watch(message_id, now)
        waiter: asyncio.Future[DeliveryOutcome] = loop.create_future()
        track.waiters.append(waiter)
        try:
            if isinstance(message, Message):
                track.apply(message, source="message", event=None)
            return await _telemetry.traced_wait(
                message_id, self._until_final(track, waiter, now, timeout)
            )
        finally:
            track.waiters.remove(waiter)
            if not track.waiters:
                self._release(track, time.monotonic())

    async def _until_final(
        self,
        track: _Track,
        waiter: asyncio.Future[DeliveryOutcome],
        started: float,
        timeout: float | None,
    ) -> DeliveryOutcome:
        deadline = math.inf if timeout is None else started + timeout
        while True:
            self._check_open()
            if track.final is not None:
                return track.final
            now = time.monotonic()
            if now >= deadline:
                last = track.outcome() if track.message is not None else None
                raise DeliveryTimeoutError(track.id, timeout or 0.0, last)
            poll_at = math.inf
            if self._retrieve is not None and self._quiet_period is not None:
                if track.retrievable(datetime.now(timezone.utc)):
                    poll_at = max(track.heard_at + self._quiet_period, track.next_poll)
                if poll_at <= now:
                    # Booked on the track before polling, so other waits on this message
                    # sleep instead of polling too. Full jitter: waits that went quiet
                    # together do not poll together.
                    interval = track.poll_interval or self._poll_interval
                    track.next_poll = now + random.uniform(interval / 2, interval)  # noqa: S311
                    track.poll_interval = min(interval * 2, self._max_poll_interval)
                    await self._poll(self._retrieve, track, waiter, deadline - now)
                    continue
            wake = min(deadline, poll_at)
            await asyncio.wait((waiter,), timeout=None if wake == math.inf else wake - now)

    async def _poll(
        self,
        retrieve: RetrieveMessage,
        track: _Track,
        waiter: asyncio.Future[DeliveryOutcome],
        budget: float,
    ) -> None:
        """One ``messages.retrieve``, abandoned as soon as a webhook answers or time is up."""
        poll = asyncio.ensure_future(retrieve(track.id))
        try:
            await asyncio.wait(
                (poll, waiter),
                timeout=None if budget == math.inf else budget,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            if not poll.done():
                poll.cancel()
                await asyncio.wait((poll,))
        if poll.cancelled():
            return
        error = poll.exception()
        if error is None:
            self._check_open()  # closed while the answer came back: say so, not the answer
            track.apply(poll.result(), source="poll", event=None)
        elif waiter.done() or (isinstance(error, APIError) and is_retryable(error)):
            # Retried at the next interval; or moot, a webhook (or close) ended the wait.
            log.debug("delivery poll of message %s failed: %s", track.id, error)
        else:
            raise error

    # --- the two stores

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigurationError(
                "this DeliveryTracker is closed; create a new one (or keep using it inside "
                "its 'async with' block)"
            )

    def _keep(self, message_id: str, now: float) -> _Track:
        track = self._kept.get(message_id)
        if track is None:
            track = self._kept[message_id] = _Track(message_id, now)
        else:
            self._kept.move_to_end(message_id)
        track.touched_at = now
        self._evict(now)
        return track

    def _watch(self, message_id: str, now: float) -> _Track:
        track = self._watched.get(message_id)
        if track is None:
            # A kept track keeps its heard_at: the quiet period counts from its last webhook.
            track = self._kept.pop(message_id, None) or _Track(message_id, now)
            self._watched[message_id] = track
        return track

    def _release(self, track: _Track, now: float) -> None:
        """The last wait on ``track`` ended: keep what is known for later waits, bounded."""
        if self._watched.pop(track.id, None) is None:
            return  # closed meanwhile
        if track.message is not None:
            track.touched_at = now
            self._kept[track.id] = track
            self._evict(now)

    def _evict(self, now: float) -> None:
        kept = self._kept
        while len(kept) > self._max_kept:
            kept.popitem(last=False)
        while kept and now - next(iter(kept.values())).touched_at > self._keep_for:
            kept.popitem(last=False)


def _message_id(message: Message | str) -> str:
    message_id = message.id if isinstance(message, Message) else message
    if not isinstance(message_id, str) or not message_id.strip():
        raise InvalidArgumentError(
            f"pass the Message a send returned, or its id (a non-empty string); got {message_id!r}"
        )
    return message_id
