"""The webhook gate: what a receiver decides for each request, as one object the adapters drive.

The gate does no I/O of its own (h11's shape): an adapter reads the request and writes the
answer, and in between asks the gate, in this order::

    answer = gate.head(method, content_length, content_encoding, where)  # before reading
    opened = gate.open(raw_body, headers, content_encoding, where)        # verify and parse
    answer = await gate.dispatch(opened, where)   # or gate.dispatch_sync(...) under WSGI
    answer = gate.answered(answer, started)       # report the time to acknowledge

Each returns an :class:`Answer` the moment the request is refused. ``dispatch`` is itself the
three steps a webhook goes through (:meth:`~WebhookGate.claim` the event from the duplicate
guard, :meth:`~WebhookGate.handle` it, :meth:`~WebhookGate.settle` the guard), kept as
separate calls so that tracing can wrap each.

Statuses: 2xx when the event is handled, queued or a known duplicate; 4xx for a request
that is wrong (it will not get better if resent); 5xx only for our own trouble (a failed
callback, a full queue, a duplicate still in progress, shutting down), which asks Telnyx to
try again.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from attrs import frozen

from telnyx_messaging._errors import (
    ConfigurationError,
    WebhookParseError,
    WebhookVerificationError,
)
from telnyx_messaging.webhooks._dedupe import (
    Claim,
    DuplicateGuard,
    DuplicateGuardFullError,
    duplicate_key,
)
from telnyx_messaging.webhooks._events import parse
from telnyx_messaging.webhooks._signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    HeadersLike,
    PublicKeys,
    _header,
    verify_headers,
)

if TYPE_CHECKING:
    from telnyx_messaging.webhooks._events import WebhookEvent

__all__ = [
    "TELNYX_ACK_WINDOW",
    "Acknowledge",
    "Answer",
    "MetricName",
    "VerifiedWebhook",
    "WebhookGate",
    "WebhookMetric",
]

log = logging.getLogger("telnyx_messaging")

#: How long Telnyx waits for an answer before it counts a delivery as failed.
TELNYX_ACK_WINDOW = 2.0

Acknowledge: TypeAlias = Literal["after_callback", "on_receipt"]
"""When the receiver answers Telnyx: after ``on_event`` returned, or as soon as the event is
verified and queued (``on_event`` then runs in the background)."""
MetricName: TypeAlias = Literal["verified", "refused", "duplicate", "failed", "answered", "lost"]

_ENCODINGS = ("", "identity", "gzip", "deflate")
_RETRY_LATER = (("Retry-After", "1"),)
_CLOSE = (("Connection", "close"),)
#: At most one log line per this many seconds for clients that went away mid-body.
DISCONNECT_LOG_INTERVAL = 60.0


@frozen
class Answer:
    """What to send back: a status, a short plain-text reason, and any extra headers."""

    status: int
    text: str = ""
    headers: tuple[tuple[str, str], ...] = ()


@frozen(kw_only=True)
class VerifiedWebhook:
    """A webhook that passed verification, as a ``handoff`` callable receives it.

    ``body`` is the request body exactly as signed and ``headers`` the two signature headers,
    so a worker can store the bytes and read them later with ``webhooks.parse(body)``, or
    verify them again with ``webhooks.unwrap(body, headers, public_key=..., tolerance=None)``.
    ``key`` identifies the event across deliveries (see
    :func:`~telnyx_messaging.webhooks.duplicate_key`) and ``event`` is the parsed event.

    .. versionadded:: 0.2.0
    """

    body: bytes
    headers: Mapping[str, str]
    key: str
    event: WebhookEvent


@frozen(kw_only=True)
class WebhookMetric:
    """One thing a receiver did, for a ``metrics=`` hook to count or time.

    ``name`` is one of:

    - ``"verified"``: a webhook passed verification and parsed (``event_type``, ``key``);
    - ``"refused"``: a request was refused; ``reason`` is a short code: ``too_large``,
      ``bad_encoding``, ``bad_length``, ``length_required``, ``method``, ``missing_header``,
      ``malformed_header``, ``repeated_header`` (two different signatures or timestamps),
      ``stale``, ``signature_mismatch``, ``bad_body``, ``unreadable``
      (verified but not a webhook), ``overloaded`` (queue full), ``guard_full`` (the
      duplicate guard cannot remember one more event), ``guard_unavailable`` (the duplicate
      guard raised), ``closed`` (shutting down), ``body_timeout`` (the body took longer than
      ``body_timeout``) or ``disconnected`` (the client went away mid-body);
    - ``"duplicate"``: a delivery of an event already handled (``reason="done"``) or being
      handled (``reason="processing"``), so not handled again;
    - ``"failed"``: ``on_event`` or ``handoff`` raised; ``reason`` is the exception's class
      name, ``seconds`` how long it ran;
    - ``"answered"``: an answer was decided; ``status`` is the HTTP status and ``seconds``
      the time to acknowledge, from the start of the request to the answer;
    - ``"lost"``: an event acknowledged in ``on_receipt`` mode was not handled because the
      receiver closed first (``reason`` says where it was; it is also logged at ERROR).

    .. versionadded:: 0.2.0
    """

    name: MetricName
    reason: str | None = None
    status: int | None = None
    seconds: float | None = None
    event_type: str | None = None
    key: str | None = None


def event_type(event: Any) -> str | None:
    """The event's type for logs and metrics (``record_type`` for events without one)."""
    return getattr(event, "event_type", None) or getattr(event, "record_type", None)


def _signed_headers(headers: HeadersLike) -> dict[str, str]:
    """The two signature headers, each once, whatever the server did with repeats.

    aiohttp keeps every copy (``getall``), ASGI servers pass each line, and WSGI servers
    join repeats with commas (PEP 3333, as RFC 9110 5.3 allows). Neither value can hold a
    comma (base64, digits), so every adapter ends here with the same answer: one value, or
    the same value repeated, passes on; two different values are refused.
    """
    signed: dict[str, str] = {}
    getall = getattr(headers, "getall", None)
    for name in (SIGNATURE_HEADER, TIMESTAMP_HEADER):
        if callable(getall):
            values = [str(value) for value in getall(name, ())]
        else:
            value = _header(headers, name)
            values = [] if value is None else [value]
        if not values:
            continue
        parts = {part.strip() for value in values for part in value.split(",")}
        if len(parts) > 1:
            raise WebhookVerificationError(
                f"the {name} header was sent more than once with different values: send it "
                "once, as Telnyx does",
                code="repeated_header",
            )
        signed[name] = parts.pop()
    return signed


def _is_async(function: Any) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - a callable object's method
    )


class WebhookGate:
    """One receiver's decisions for each request, driven by an adapter through public calls.

    Built by :class:`~telnyx_messaging.webhooks.WebhookReceiver` (``receiver.gate``), which
    checks the options; an adapter only calls :meth:`head`, :meth:`open`, :meth:`dispatch`
    (or :meth:`dispatch_sync`) and :meth:`answered`, plus, for what only the I/O sees,
    :meth:`too_large`, :meth:`slow_body`, :meth:`disconnected` and :meth:`refuse`.

    ``function`` is the user's ``on_event`` (called with the event) or, with ``handoff``,
    the user's ``handoff`` (called with the :class:`VerifiedWebhook`). ``enqueue`` puts a
    verified webhook on the receiver's queue (``on_receipt`` mode) and returns ``False``
    when the queue is full.
    """

    def __init__(
        self,
        *,
        keys: PublicKeys,
        tolerance: float | None,
        max_body_size: int,
        guard: DuplicateGuard | None,
        function: Callable[[Any], Awaitable[object] | object],
        handoff: bool,
        acknowledge: Acknowledge,
        metrics: Callable[[WebhookMetric], object] | None,
        enqueue: Callable[[VerifiedWebhook], bool],
        queue_size: int,
        body_timeout: float,
    ) -> None:
        self._keys = keys
        self._tolerance = tolerance
        self.max_body_size = max_body_size
        self._guard = guard
        self._function = function
        self._handoff = handoff
        self._what = "hand-off" if handoff else "callback"
        self.acknowledge: Acknowledge = acknowledge
        self._metrics = metrics
        self._metrics_broken = False
        self._enqueue = enqueue
        self._queue_size = queue_size
        self.body_timeout = body_timeout
        self._disconnects = 0
        self._next_disconnect_log = -math.inf
        self.closed = False
        self._in_flight: set[asyncio.Future[Answer]] = set()

    # -- reporting ------------------------------------------------------------------------

    def emit(self, name: MetricName, **fields: Any) -> None:
        """Report one :class:`WebhookMetric`; a hook that raises is logged once, then ignored."""
        if self._metrics is None:
            return
        try:
            self._metrics(WebhookMetric(name=name, **fields))
        except Exception as exc:  # noqa: BLE001 - a broken hook must not break receiving
            if not self._metrics_broken:
                self._metrics_broken = True
                log.warning("webhook metrics hook raised %s; ignoring it", type(exc).__name__)

    def refuse(self, code: str, status: int, reason: str, where: str = "") -> Answer:
        """Count and log (one line) a refused request, and say what to answer."""
        # One line, whatever the reason quotes (a parse error can span several).
        line = " ".join(reason.split())
        log.warning("refused a webhook%s (%d %s): %s", where and f" to {where}", status, code, line)
        self.emit("refused", reason=code)
        headers = _RETRY_LATER if status == 503 else ()
        return Answer(status, reason, headers)

    def answered(self, answer: Answer, started: float) -> Answer:
        """Report the time to acknowledge (``started``: ``time.perf_counter()``); return it."""
        self.emit("answered", status=answer.status, seconds=time.perf_counter() - started)
        return answer

    # -- before the body: the request line and headers ---------------------------------------

    def head(
        self,
        method: str,
        content_length: str | None,
        content_encoding: str | None = None,
        where: str = "",
    ) -> Answer | None:
        """A refusal for what the request line and headers already show, else ``None``.

        Only POST; a declared length within the cap; no Content-Encoding but gzip/deflate
        (what aiohttp undoes itself, and :meth:`open` undoes for ASGI and WSGI).
        """
        if method != "POST":
            answer = self.refuse("method", 405, f"{method[:16]!r} is not allowed: POST", where)
            return Answer(405, answer.text, (("Allow", "POST"),))
        encoding = (content_encoding or "").strip().lower()
        if encoding not in _ENCODINGS:
            return self.refuse(
                "bad_encoding",
                415,
                f"Content-Encoding {encoding[:24]!r} is not supported: send the body as is, "
                "or gzip/deflate",
                where,
            )
        if not content_length:
            return None
        text = content_length.strip()
        if not (text.isascii() and text.isdigit()):
            return self.refuse(
                "bad_length", 400, f"Content-Length {content_length[:24]!r} is not a number", where
            )
        if int(text) > self.max_body_size:
            return self.too_large(where)
        return None

    def slow_body(self, where: str = "") -> Answer:
        """Count, log and answer a body that did not arrive within ``body_timeout`` (408).

        The answer asks to close the connection: what is left of the body must never be
        read as the next request, and the descriptor goes back to the server at once.
        """
        answer = self.refuse(
            "body_timeout",
            408,
            f"the body did not arrive within {self.body_timeout:g}s; a Telnyx webhook is a few "
            "kilobytes sent at once",
            where,
        )
        return Answer(408, answer.text, _CLOSE)

    def disconnected(self, where: str = "") -> Answer:
        """Count a client that went away before its whole body arrived; log it now and then.

        A flood of these is a slow-client attack or a flaky network, not one bad request each,
        so it is logged at most once every :data:`DISCONNECT_LOG_INTERVAL` seconds, with how
        many there were. The answer is for adapters that must answer something: nobody reads it.
        """
        self.emit("refused", reason="disconnected")
        self._disconnects += 1
        now = time.monotonic()
        if now >= self._next_disconnect_log:
            log.warning(
                "%d webhook request%s%s ended before the whole body arrived: the client "
                "disconnected (next report in %gs at the earliest)",
                self._disconnects,
                "" if self._disconnects == 1 else "s",
                where and f" to {where}",
                DISCONNECT_LOG_INTERVAL,
            )
            self._disconnects = 0
            self._next_disconnect_log = now + DISCONNECT_LOG_INTERVAL
        return Answer(400, "the body ended before its Content-Length", _CLOSE)

    def too_large(self, where: str = "") -> Answer:
        """Count, log and answer a body over ``max_body_size``."""
        return self.refuse(
            "too_large",
            413,
            f"body is larger than {self.max_body_size} bytes; a Telnyx webhook is a few kilobytes",
            where,
        )

    # -- the body: decode, verify, parse -------------------------------------------------------

    def open(
        self,
        raw: bytes,
        headers: HeadersLike,
        content_encoding: str | None = None,
        where: str = "",
    ) -> Answer | VerifiedWebhook:
        """Undo gzip/deflate within the cap, verify, parse: the webhook, or how to refuse it.

        ``raw`` is the body as read (at most ``max_body_size + 1`` bytes); pass
        ``content_encoding`` only when the server left it encoded (ASGI, WSGI).
        """
        body = self._decode(raw, content_encoding, where)
        if isinstance(body, Answer):
            return body
        try:
            signed = _signed_headers(headers)
            verify_headers(body, signed, self._keys, tolerance=self._tolerance)
        except WebhookVerificationError as exc:
            return self.refuse(exc.code, 401, exc.reason, where)
        try:
            event = parse(body)
        except WebhookParseError as exc:
            return self.refuse("unreadable", 400, exc.reason, where)
        key = duplicate_key(event)
        self.emit("verified", event_type=event_type(event), key=key)
        return VerifiedWebhook(body=body, headers=signed, key=key, event=event)

    def _decode(self, raw: bytes, content_encoding: str | None, where: str) -> bytes | Answer:
        if len(raw) > self.max_body_size:
            return self.too_large(where)
        encoding = (content_encoding or "").strip().lower()
        if encoding in ("", "identity"):
            return raw
        # After head(), so this is gzip or deflate. wbits 31 reads a gzip wrapper, 15 a zlib
        # one; "deflate" in the wild is either zlib or raw deflate (-15).
        attempts = (31,) if encoding == "gzip" else (15, -15)
        for wbits in attempts:
            inflater = zlib.decompressobj(wbits)
            try:
                body = inflater.decompress(raw, self.max_body_size + 1)
            except zlib.error:
                continue
            if len(body) > self.max_body_size:
                return self.too_large(where)
            if inflater.eof and not inflater.unused_data:
                return body
        return self.refuse(
            "bad_encoding",
            400,
            f"body is not valid {encoding} data, as its Content-Encoding says",
            where,
        )

    # -- after verification: the guard, the callback, the outcome ----------------------------

    async def dispatch(self, webhook: Answer | VerifiedWebhook, where: str = "") -> Answer:
        """Claim the event, then handle it (``after_callback``) or queue it (``on_receipt``).

        Runs to its end even when the server cancels the request (aiohttp cancels handlers
        whose client went away, as Telnyx does after its ~2 s window): the callback's outcome
        reaches the guard, so the retry finds the event done rather than running it again.
        """
        if isinstance(webhook, Answer):
            return webhook
        if self.closed:
            return self._closing(where)
        task = asyncio.ensure_future(self._dispatch(webhook, where))
        self._in_flight.add(task)
        task.add_done_callback(self._landed)
        return await asyncio.shield(task)

    async def _dispatch(self, webhook: VerifiedWebhook, where: str) -> Answer:
        duplicate = await self.claim(webhook, where)
        if duplicate is not None:
            return duplicate
        if self.closed:  # closing began while the guard answered: Telnyx must retry
            await self.settle(webhook.key, done=False)
            return self._closing(where)
        if self.acknowledge == "on_receipt":
            # No await between the check above and the queue: what is queued is drained.
            if self._enqueue(webhook):
                return Answer(200)
            await self.settle(webhook.key, done=False)
            return self.refuse(
                "overloaded",
                503,
                f"the webhook queue is full ({self._queue_size} events); retry later",
                where,
            )
        return self._handled(await self.handle(webhook))

    def _landed(self, task: asyncio.Future[Answer]) -> None:
        self._in_flight.discard(task)
        # Seen here, for when the request that awaited it was cancelled.
        _ = task.cancelled() or task.exception()

    @property
    def running(self) -> int:
        """Requests past verification and not answered yet (claiming, handling, queueing)."""
        return len(self._in_flight)

    def close(self) -> None:
        """Refuse every request from now on (503, so Telnyx retries elsewhere or later)."""
        self.closed = True

    async def idle(self) -> None:
        """Wait until no request is past verification (claiming, handling or queueing)."""
        loop = asyncio.get_running_loop()
        while here := {task for task in self._in_flight if task.get_loop() is loop}:
            await asyncio.wait(here)

    def _closing(self, where: str) -> Answer:
        return self.refuse("closed", 503, "shutting down; retry later", where)

    def dispatch_sync(self, webhook: Answer | VerifiedWebhook, where: str = "") -> Answer:
        """:meth:`dispatch` for a sync (WSGI) server: everything is called, nothing awaited."""
        if isinstance(webhook, Answer):
            return webhook
        if self.closed:
            return self._closing(where)
        duplicate = self.claim_sync(webhook, where)
        if duplicate is not None:
            return duplicate
        return self._handled(self.handle_sync(webhook))

    async def claim(self, webhook: VerifiedWebhook, where: str = "") -> Answer | None:
        """Ask the duplicate guard: ``None`` if the event is now ours, else the answer."""
        if self._guard is None:
            return None
        try:
            claim = self._guard.claim(webhook.key)
            if inspect.isawaitable(claim):
                claim = await claim
        except DuplicateGuardFullError as exc:
            return self._guard_full(exc, where)
        except Exception as exc:  # noqa: BLE001 - a guard that is down is our trouble
            return self._guard_down(exc, where)
        return self._claimed(claim, webhook)

    def claim_sync(self, webhook: VerifiedWebhook, where: str = "") -> Answer | None:
        """:meth:`claim` with a guard whose methods are plain (WSGI)."""
        if self._guard is None:
            return None
        try:
            claim: Any = self._guard.claim(webhook.key)
        except DuplicateGuardFullError as exc:
            return self._guard_full(exc, where)
        except Exception as exc:  # noqa: BLE001 - a guard that is down is our trouble
            return self._guard_down(exc, where)
        return self._claimed(claim, webhook)

    def _claimed(self, claim: Claim, webhook: VerifiedWebhook) -> Answer | None:
        if claim == "new":
            return None
        self.emit("duplicate", reason=claim, event_type=event_type(webhook.event), key=webhook.key)
        if claim == "done":
            return Answer(200, "duplicate: already handled")
        # Still running elsewhere: if that fails, this retry must not have been acknowledged.
        return Answer(503, "duplicate: still being handled; retry later", _RETRY_LATER)

    @staticmethod
    def _handled(ok: bool) -> Answer:
        return Answer(200) if ok else Answer(500, "webhook processing failed")

    async def handle(self, webhook: VerifiedWebhook) -> bool:
        """Run the user's function on a claimed event and settle the guard; ``True`` if it ran.

        A cancellation (the server gave up on the request, or is stopping) releases the event,
        so a redelivery is processed rather than found "processing" for an hour.
        """
        started = time.perf_counter()
        slow = asyncio.get_running_loop().call_later(
            TELNYX_ACK_WINDOW,
            lambda: self._slow(webhook, time.perf_counter() - started, "is still running after"),
        )
        try:
            result = self._call(webhook)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # noqa: BLE001 - any failure means: let Telnyx retry
            self._failed(webhook, exc, started)
            await self.settle(webhook.key, done=False)
            return False
        except asyncio.CancelledError:
            await self.settle(webhook.key, done=False)
            raise
        finally:
            slow.cancel()
        await self.settle(webhook.key, done=True)
        return True

    def handle_sync(self, webhook: VerifiedWebhook) -> bool:
        """:meth:`handle` for a plain function and guard (WSGI)."""
        started = time.perf_counter()
        try:
            result = self._call(webhook)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()  # never awaited: say so instead of a RuntimeWarning
                raise ConfigurationError("on_event/handoff returned an awaitable under WSGI")
        except Exception as exc:  # noqa: BLE001 - any failure means: let Telnyx retry
            self._failed(webhook, exc, started)
            self.settle_sync(webhook.key, done=False)
            return False
        seconds = time.perf_counter() - started
        if seconds > TELNYX_ACK_WINDOW:
            self._slow(webhook, seconds)
        self.settle_sync(webhook.key, done=True)
        return True

    async def settle(self, key: str, *, done: bool) -> None:
        """Tell the guard the event was handled (``done``) or must be handled again."""
        guard = self._guard
        if guard is None:
            return
        try:
            result = guard.complete(key) if done else guard.release(key)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # noqa: BLE001 - the answer stands; say what it costs
            self._guard_failed(exc, key, done=done)

    def settle_sync(self, key: str, *, done: bool) -> None:
        """:meth:`settle` with a guard whose methods are plain (WSGI)."""
        guard = self._guard
        if guard is None:
            return
        try:
            if done:
                guard.complete(key)
            else:
                guard.release(key)
        except Exception as exc:  # noqa: BLE001 - the answer stands; say what it costs
            self._guard_failed(exc, key, done=done)

    def _call(self, webhook: VerifiedWebhook) -> Awaitable[object] | object:
        return self._function(webhook if self._handoff else webhook.event)

    def require_sync(self) -> None:
        """Refuse, at start-up, a set-up a sync (WSGI) server cannot run."""
        if self.acknowledge == "on_receipt":
            raise ConfigurationError(
                "acknowledge='on_receipt' needs an event loop to run on_event in the "
                "background (aiohttp, or an ASGI server); under WSGI use handoff= with a "
                "durable queue (Celery, RQ, SQS...) to answer fast"
            )
        if _is_async(self._function):
            raise ConfigurationError(
                "a WSGI server cannot await an async on_event/handoff: pass a plain function"
            )
        guard = self._guard
        if guard is not None and any(
            _is_async(getattr(guard, name)) for name in ("claim", "complete", "release")
        ):
            raise ConfigurationError(
                "a WSGI server cannot await an async duplicate guard: give it plain methods"
            )

    # -- what went wrong, said once ----------------------------------------------------------

    def _guard_full(self, exc: DuplicateGuardFullError, where: str) -> Answer:
        return self.refuse("guard_full", 503, f"{exc}; retry later", where)

    def _guard_down(self, exc: Exception, where: str) -> Answer:
        return self.refuse(
            "guard_unavailable",
            503,
            f"the duplicate guard failed ({type(exc).__name__}); retry later",
            where,
        )

    def _guard_failed(self, exc: Exception, key: str, *, done: bool) -> None:
        if done:
            cost = "a redelivery of it will be handled again"
        else:
            cost = "its redeliveries are refused until the guard forgets it"
        log.error(
            "the duplicate guard could not %s event %s (%s): %s",
            "complete" if done else "release",
            key,
            type(exc).__name__,
            cost,
        )

    def _failed(self, webhook: VerifiedWebhook, exc: Exception, started: float) -> None:
        # Only the type and id: message text is never logged.
        log.error(
            "webhook %s failed on %s %s (%s)",
            self._what,
            event_type(webhook.event),
            webhook.key,
            type(exc).__name__,
            exc_info=exc,
        )
        self.emit(
            "failed",
            reason=type(exc).__name__,
            seconds=time.perf_counter() - started,
            event_type=event_type(webhook.event),
            key=webhook.key,
        )

    def _slow(self, webhook: VerifiedWebhook, seconds: float, verb: str = "took") -> None:
        log.warning(
            "webhook %s for %s %s %s %.1fs, beyond Telnyx's ~%gs window: Telnyx will deliver "
            "it again; use acknowledge='on_receipt' or handoff= for slow work",
            self._what,
            event_type(webhook.event),
            webhook.key,
            verb,
            seconds,
            TELNYX_ACK_WINDOW,
        )
