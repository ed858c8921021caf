"""Receiving webhooks: when to answer Telnyx, what to do with duplicates, what to count.

One :class:`WebhookReceiver` holds everything a webhook endpoint decides, whatever serves it:
limits on the request, verification, parsing, the duplicate guard, when to acknowledge,
and the metrics hook. The framework adapters (aiohttp here, ASGI in ``_asgi.py``, WSGI in
``_wsgi.py``) only read the request and write the answer it returns, so every adapter
answers the same request with the same status.

Telnyx wants a 2xx within about 2 seconds, else it delivers again (three tries per URL,
then the failover URL); it may also deliver an event twice, late or out of order
(https://developers.telnyx.com/docs/messaging/messages/receiving-webhooks). The three ways
to acknowledge trade speed against what a crash can lose; ``docs/webhooks.md`` has the table.

Statuses: 2xx when the event is handled, queued or a known duplicate; 4xx for a request
that is wrong (it will not get better if resent); 5xx only for our own trouble (a failed
callback, a full queue, a duplicate still in progress), which asks Telnyx to try again.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from attrs import frozen

from telnyx_messaging._errors import (
    ConfigurationError,
    InvalidArgumentError,
    WebhookParseError,
    WebhookVerificationError,
)
from telnyx_messaging.webhooks._dedupe import (
    Claim,
    DuplicateGuard,
    MemoryDuplicateGuard,
    duplicate_key,
)
from telnyx_messaging.webhooks._events import parse
from telnyx_messaging.webhooks._signature import (
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    HeadersLike,
    PublicKeyInput,
    _header,
    check_arguments,
    load_public_keys,
    verify_headers,
)

if TYPE_CHECKING:
    from aiohttp import web

    from telnyx_messaging.webhooks._events import WebhookEvent

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "Acknowledge",
    "Answer",
    "VerifiedWebhook",
    "WebhookMetric",
    "WebhookReceiver",
]

log = logging.getLogger("telnyx_messaging")

#: The largest request body accepted, in bytes (after any gzip/deflate is undone). A Telnyx
#: webhook is a few kilobytes; anything near this is not one.
DEFAULT_MAX_BODY_SIZE = 256 * 1024
#: How long Telnyx waits for an answer before it counts a delivery as failed.
TELNYX_ACK_WINDOW = 2.0

Acknowledge: TypeAlias = Literal["after_callback", "on_receipt"]
"""When the receiver answers Telnyx: after ``on_event`` returned, or as soon as the event is
verified and queued (``on_event`` then runs in the background)."""
MetricName: TypeAlias = Literal["verified", "refused", "duplicate", "failed", "answered"]

_NOT_GIVEN: Any = object()
_ENCODINGS = ("", "identity", "gzip", "deflate")
_ACKNOWLEDGE = ("after_callback", "on_receipt")
_RETRY_LATER = (("Retry-After", "1"),)


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
      ``malformed_header``, ``stale``, ``signature_mismatch``, ``bad_body``, ``unreadable``
      (verified but not a webhook), ``overloaded`` (queue full), ``guard_unavailable`` (the
      duplicate guard raised) or ``closed`` (shutting down);
    - ``"duplicate"``: a delivery of an event already handled (``reason="done"``) or being
      handled (``reason="processing"``), so not handled again;
    - ``"failed"``: ``on_event`` or ``handoff`` raised; ``reason`` is the exception's class
      name, ``seconds`` how long it ran;
    - ``"answered"``: an answer was decided; ``status`` is the HTTP status and ``seconds``
      the time to acknowledge, from the start of the request to the answer.

    .. versionadded:: 0.2.0
    """

    name: MetricName
    reason: str | None = None
    status: int | None = None
    seconds: float | None = None
    event_type: str | None = None
    key: str | None = None


class _Refused(Exception):  # noqa: N818 - internal signal carrying an answer, not an error
    def __init__(self, code: str, answer: Answer) -> None:
        super().__init__(answer.text)
        self.code = code
        self.answer = answer


def _event_type(event: Any) -> str | None:
    return getattr(event, "event_type", None) or getattr(event, "record_type", None)


def _is_async(function: Any) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - a callable object's method
    )


class WebhookReceiver:
    """A webhook endpoint's whole policy, built once and served by any framework adapter.

    Pass exactly one of:

    - ``on_event``: called with each verified, parsed event (plain or ``async``). With
      ``acknowledge="after_callback"`` (default) Telnyx gets 200 after it returns, and 500
      if it raises, so Telnyx delivers again: at least once, but a callback slower than
      Telnyx's ~2 s window causes redeliveries (logged as a warning). With
      ``acknowledge="on_receipt"`` Telnyx gets 200 as soon as the event is verified and
      queued on a bounded in-process queue (``queue_size``), which ``workers`` tasks drain
      into ``on_event``; a full queue answers 503 so Telnyx retries later. Fast, but events
      still queued are lost if the process dies: call :meth:`close` on shutdown.
    - ``handoff``: called with a :class:`VerifiedWebhook` to put on a durable queue you run
      (Redis, SQS, Celery...); 200 once it returns, 500 if it raises. At least once, and
      nothing is lost once Telnyx has its 200.

    ``duplicates`` is the :class:`~telnyx_messaging.webhooks.DuplicateGuard` (default: a
    fresh :class:`~telnyx_messaging.webhooks.MemoryDuplicateGuard`; ``None`` turns it off).
    A delivery of an event already handled is answered 200 without calling anything; one
    still being handled gets 503 (Telnyx retries, and the retry finds it done or released).
    A failed callback releases the event, so the retry is processed.

    ``max_body_size`` caps the body in bytes (413 beyond it). ``metrics`` is called with a
    :class:`WebhookMetric` for each thing the receiver does; it must be quick and must not
    raise. A missing or malformed ``public_key`` raises
    :class:`~telnyx_messaging.WebhookConfigurationError` here, not on each request.

    Serve it with :meth:`aiohttp_handler` / :meth:`add_aiohttp_route`, :meth:`asgi_app`
    (Starlette, FastAPI), :meth:`wsgi_app`, :meth:`flask_view` or :meth:`django_view`.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        *,
        public_key: PublicKeyInput,
        on_event: Callable[[WebhookEvent], Awaitable[object] | object] | None = None,
        handoff: Callable[[VerifiedWebhook], Awaitable[object] | object] | None = None,
        acknowledge: Acknowledge = "after_callback",
        duplicates: DuplicateGuard | None = _NOT_GIVEN,
        tolerance: float | None = DEFAULT_TOLERANCE,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        queue_size: int = 1000,
        workers: int = 4,
        metrics: Callable[[WebhookMetric], object] | None = None,
    ) -> None:
        self._keys = load_public_keys(public_key)
        check_arguments(tolerance, None)
        if (on_event is None) == (handoff is None):
            raise InvalidArgumentError(
                "pass exactly one of on_event= (handle each event) or handoff= (put each "
                "verified webhook on your own durable queue)"
            )
        for name, function in (("on_event", on_event), ("handoff", handoff)):
            if function is not None and not callable(function):
                raise InvalidArgumentError(f"{name} must be callable, got {function!r}")
        if acknowledge not in _ACKNOWLEDGE:
            raise InvalidArgumentError(
                f"acknowledge must be 'after_callback' or 'on_receipt', got {acknowledge!r}"
            )
        if handoff is not None and acknowledge != "after_callback":
            raise InvalidArgumentError(
                "handoff= acknowledges after your queue took the webhook; acknowledge= only "
                "applies to on_event="
            )
        for name, value, least in (
            ("max_body_size", max_body_size, 1),
            ("queue_size", queue_size, 1),
            ("workers", workers, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidArgumentError(
                    f"{name} must be a whole number >= {least}, got {value!r}"
                )
        if duplicates is _NOT_GIVEN:
            duplicates = MemoryDuplicateGuard()
        elif duplicates is not None and not all(
            callable(getattr(duplicates, name, None)) for name in ("claim", "complete", "release")
        ):
            raise InvalidArgumentError(
                "duplicates must have claim(), complete() and release() (a DuplicateGuard), "
                "or be None to turn duplicate suppression off"
            )
        if metrics is not None and not callable(metrics):
            raise InvalidArgumentError(f"metrics must be callable, got {metrics!r}")
        self._handoff = handoff
        # The one function to call, and what it takes: the event, or the whole webhook.
        self._function: Callable[[Any], Awaitable[object] | object] = handoff or on_event  # type: ignore[assignment]
        self.acknowledge: Acknowledge = acknowledge
        self._guard = duplicates
        self._tolerance = tolerance
        self.max_body_size = max_body_size
        self._queue_size = queue_size
        self._worker_count = workers
        self._metrics = metrics
        self._metrics_broken = False
        self._closed = False
        self._queue: asyncio.Queue[VerifiedWebhook] | None = None
        self._pending = 0
        self._workers: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- the pure part: limits, verification, parsing ----------------------------------------

    def _emit(self, name: MetricName, **fields: Any) -> None:
        if self._metrics is None:
            return
        try:
            self._metrics(WebhookMetric(name=name, **fields))
        except Exception as exc:  # noqa: BLE001 - a broken hook must not break receiving
            if not self._metrics_broken:
                self._metrics_broken = True
                log.warning("webhook metrics hook raised %s; ignoring it", type(exc).__name__)

    def _refuse(self, code: str, status: int, reason: str, where: str = "") -> Answer:
        """Count and log (one line) a refused request, and say what to answer."""
        # One line, whatever the reason quotes (a parse error can span several).
        line = " ".join(reason.split())
        log.warning("refused a webhook%s (%d %s): %s", where and f" to {where}", status, code, line)
        self._emit("refused", reason=code)
        headers = _RETRY_LATER if status == 503 else ()
        return Answer(status, reason, headers)

    def _finish(self, answer: Answer, started: float) -> Answer:
        """Report the time to acknowledge and return ``answer``."""
        self._emit("answered", status=answer.status, seconds=time.perf_counter() - started)
        return answer

    def _preflight(
        self,
        method: str,
        content_length: str | None,
        content_encoding: str | None = None,
        where: str = "",
    ) -> Answer | None:
        """A refusal for what the request line and headers already show, else ``None``.

        Only POST; a declared length within the cap; no Content-Encoding but gzip/deflate
        (what aiohttp undoes itself, and :meth:`_decode_body` undoes for ASGI and WSGI).
        """
        if method != "POST":
            answer = self._refuse("method", 405, f"{method[:16]!r} is not allowed: POST", where)
            return Answer(405, answer.text, (("Allow", "POST"),))
        encoding = (content_encoding or "").strip().lower()
        if encoding not in _ENCODINGS:
            return self._refuse(
                "bad_encoding",
                415,
                f"Content-Encoding {encoding[:24]!r} is not supported: send the body as is, "
                "or gzip/deflate",
                where,
            )
        return self._check_length(content_length, where)

    def _check_length(self, content_length: str | None, where: str = "") -> Answer | None:
        """A refusal for a declared body length over the cap (or unreadable), else ``None``."""
        if not content_length:
            return None
        text = content_length.strip()
        if not (text.isascii() and text.isdigit()):
            return self._refuse(
                "bad_length", 400, f"Content-Length {content_length[:24]!r} is not a number", where
            )
        if int(text) > self.max_body_size:
            return self._too_large(where)
        return None

    def _too_large(self, where: str = "") -> Answer:
        """Count, log and answer a body over ``max_body_size``."""
        return self._refuse(
            "too_large",
            413,
            f"body is larger than {self.max_body_size} bytes; a Telnyx webhook is a few kilobytes",
            where,
        )

    def _decode_body(self, raw: bytes, content_encoding: str | None, where: str = "") -> bytes:
        """Undo gzip/deflate within the size cap, or raise ``_Refused`` (after the preflight)."""
        if len(raw) > self.max_body_size:
            raise _Refused("too_large", self._too_large(where))
        encoding = (content_encoding or "").strip().lower()
        if encoding in ("", "identity"):
            return raw
        # Called after preflight, so this is gzip or deflate. wbits 31 reads a gzip wrapper,
        # 15 a zlib one; "deflate" in the wild is either zlib or raw deflate (-15).
        attempts = (31,) if encoding == "gzip" else (15, -15)
        for wbits in attempts:
            inflater = zlib.decompressobj(wbits)
            try:
                body = inflater.decompress(raw, self.max_body_size + 1)
                if len(body) > self.max_body_size:
                    raise _Refused("too_large", self._too_large(where))
                if inflater.eof and not inflater.unused_data:
                    return body
            except zlib.error:
                continue
        raise _Refused(
            "bad_encoding",
            self._refuse(
                "bad_encoding",
                400,
                f"body is not valid {encoding} data, as its Content-Encoding says",
                where,
            ),
        )

    def _admit(self, body: bytes, headers: HeadersLike, where: str) -> Answer | VerifiedWebhook:
        """Verify and parse, or say how to refuse."""
        try:
            verify_headers(body, headers, self._keys, tolerance=self._tolerance)
        except WebhookVerificationError as exc:
            return self._refuse(exc.code, 401, exc.reason, where)
        try:
            event = parse(body)
        except WebhookParseError as exc:
            return self._refuse("unreadable", 400, exc.reason, where)
        key = duplicate_key(event)
        self._emit("verified", event_type=_event_type(event), key=key)
        signed = {
            SIGNATURE_HEADER: _header(headers, SIGNATURE_HEADER) or "",
            TIMESTAMP_HEADER: _header(headers, TIMESTAMP_HEADER) or "",
        }
        return VerifiedWebhook(body=body, headers=signed, key=key, event=event)

    def _guard_down(self, exc: Exception, where: str) -> Answer:
        return self._refuse(
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

    def _call(self, webhook: VerifiedWebhook) -> Awaitable[object] | object:
        return self._function(webhook if self._handoff is not None else webhook.event)

    def _duplicate(self, claim: Claim, webhook: VerifiedWebhook) -> Answer:
        self._emit(
            "duplicate", reason=claim, event_type=_event_type(webhook.event), key=webhook.key
        )
        if claim == "done":
            return Answer(200, "duplicate: already handled")
        # Still running elsewhere: if that fails, this retry must not have been acknowledged.
        return Answer(503, "duplicate: still being handled; retry later", _RETRY_LATER)

    def _failed(self, webhook: VerifiedWebhook, exc: Exception, started: float) -> None:
        # Only the type and id: message text is never logged.
        log.error(
            "webhook %s failed on %s %s (%s)",
            "hand-off" if self._handoff is not None else "callback",
            _event_type(webhook.event),
            webhook.key,
            type(exc).__name__,
            exc_info=exc,
        )
        self._emit(
            "failed",
            reason=type(exc).__name__,
            seconds=time.perf_counter() - started,
            event_type=_event_type(webhook.event),
            key=webhook.key,
        )

    def _slow(self, webhook: VerifiedWebhook, seconds: float, verb: str = "took") -> None:
        what = "hand-off" if self._handoff is not None else "callback"
        log.warning(
            "webhook %s for %s %s %s %.1fs, beyond Telnyx's ~%gs window: Telnyx will deliver "
            "it again; use acknowledge='on_receipt' or handoff= for slow work",
            what,
            _event_type(webhook.event),
            webhook.key,
            verb,
            seconds,
            TELNYX_ACK_WINDOW,
        )

    # -- async: aiohttp and ASGI -------------------------------------------------------------

    async def _receive(
        self, body: bytes, headers: HeadersLike, *, started: float, where: str = ""
    ) -> Answer:
        """Decide the answer to one request whose body was read (an async adapter calls this)."""
        if self._closed:
            return self._finish(
                self._refuse("closed", 503, "shutting down; retry later", where), started
            )
        admitted = self._admit(body, headers, where)
        if isinstance(admitted, Answer):
            return self._finish(admitted, started)
        if self._guard is not None:
            try:
                claim = self._guard.claim(admitted.key)
                if inspect.isawaitable(claim):
                    claim = await claim
            except Exception as exc:  # noqa: BLE001 - a guard that is down is our trouble
                return self._finish(self._guard_down(exc, where), started)
            if claim != "new":
                return self._finish(self._duplicate(claim, admitted), started)
        if self.acknowledge == "on_receipt":
            return self._finish(await self._enqueue(admitted, where), started)
        ok = await self._run(admitted)
        return self._finish(
            Answer(200) if ok else Answer(500, "webhook processing failed"), started
        )

    async def _run(self, webhook: VerifiedWebhook) -> bool:
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
            await self._settle(webhook.key, done=False)
            return False
        except asyncio.CancelledError:
            # The server gave up on the request (or is stopping): not handled, so a
            # redelivery must be processed rather than found "processing" for an hour.
            await self._settle(webhook.key, done=False)
            raise
        finally:
            slow.cancel()
        await self._settle(webhook.key, done=True)
        return True

    async def _settle(self, key: str, *, done: bool) -> None:
        guard = self._guard
        if guard is None:
            return
        try:
            result = guard.complete(key) if done else guard.release(key)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # noqa: BLE001 - the answer stands; say what it costs
            self._guard_failed(exc, key, done=done)

    async def _enqueue(self, webhook: VerifiedWebhook, where: str) -> Answer:
        queue = self._start()
        try:
            queue.put_nowait(webhook)
            self._pending += 1
        except asyncio.QueueFull:
            await self._settle(webhook.key, done=False)
            return self._refuse(
                "overloaded",
                503,
                f"the webhook queue is full ({self._queue_size} events); retry later",
                where,
            )
        return Answer(200)

    def _start(self) -> asyncio.Queue[VerifiedWebhook]:
        loop = asyncio.get_running_loop()
        if self._queue is not None and self._loop is loop:
            return self._queue
        if self._loop is not None and not self._loop.is_closed():
            raise ConfigurationError(
                "this WebhookReceiver's queue belongs to another running event loop: build "
                "one receiver per event loop"
            )
        # First use, or the loop that ran the workers is gone (a test client's): start over.
        self._loop = loop
        self._pending = 0
        self._queue = queue = asyncio.Queue[VerifiedWebhook](self._queue_size)
        self._workers = [
            loop.create_task(self._work(queue), name=f"telnyx-webhook-worker-{i}")
            for i in range(self._worker_count)
        ]
        return queue

    async def _work(self, queue: asyncio.Queue[VerifiedWebhook]) -> None:
        while True:
            webhook = await queue.get()
            started = time.perf_counter()
            try:
                result = self._call(webhook)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # noqa: BLE001 - one bad event must not stop the worker
                self._failed(webhook, exc, started)
                await self._settle(webhook.key, done=False)
            except asyncio.CancelledError:
                await self._settle(webhook.key, done=False)  # stopped mid-way: not handled
                raise
            else:
                await self._settle(webhook.key, done=True)
            finally:
                self._pending -= 1
                queue.task_done()

    @property
    def pending(self) -> int:
        """Events accepted in ``on_receipt`` mode and not yet handled (queued or running)."""
        return self._pending

    async def drain(self) -> None:
        """Wait until every event accepted so far has been handled (``on_receipt`` mode).

        Deliveries keep being accepted meanwhile; :meth:`close` stops them first.
        """
        if self._queue is not None and self._loop is asyncio.get_running_loop():
            await self._queue.join()

    async def close(self, timeout: float | None = 30.0) -> None:
        """Stop accepting webhooks (503 from now on), handle what is queued, stop the workers.

        Waits up to ``timeout`` seconds (``None``: as long as it takes) for queued events;
        any still queued after that are logged as lost. Safe to call twice. The adapters
        call it on shutdown where the framework says when that is (aiohttp's ``on_cleanup``
        via :meth:`add_aiohttp_route`; ``async with receiver:`` in an ASGI lifespan).
        """
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0
        ):
            raise InvalidArgumentError(f"timeout must be seconds >= 0 or None, got {timeout!r}")
        self._closed = True
        queue, workers = self._queue, self._workers
        if queue is None or self._loop is not asyncio.get_running_loop():
            return
        try:
            await asyncio.wait_for(queue.join(), timeout)
        except asyncio.TimeoutError:
            log.error(
                "closed the webhook receiver with %d events not handled after %gs; Telnyx was "
                "already answered for them, so they are lost",
                self.pending,
                timeout,
            )
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers = []

    async def __aenter__(self) -> WebhookReceiver:
        """``async with receiver:`` in an app's lifespan closes (and drains) it on the way out."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- sync: WSGI ----------------------------------------------------------------------------

    def _check_sync(self) -> None:
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

    def _receive_sync(
        self, body: bytes, headers: HeadersLike, *, started: float, where: str = ""
    ) -> Answer:
        """Decide the answer to one request, calling everything synchronously (WSGI)."""
        if self._closed:
            return self._finish(
                self._refuse("closed", 503, "shutting down; retry later", where), started
            )
        admitted = self._admit(body, headers, where)
        if isinstance(admitted, Answer):
            return self._finish(admitted, started)
        guard = self._guard
        if guard is not None:
            try:
                claim: Any = guard.claim(admitted.key)
            except Exception as exc:  # noqa: BLE001 - a guard that is down is our trouble
                return self._finish(self._guard_down(exc, where), started)
            if claim != "new":
                return self._finish(self._duplicate(claim, admitted), started)
        began = time.perf_counter()
        try:
            result = self._call(admitted)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()  # never awaited: say so instead of a RuntimeWarning
                raise ConfigurationError("on_event/handoff returned an awaitable under WSGI")
        except Exception as exc:  # noqa: BLE001 - any failure means: let Telnyx retry
            self._failed(admitted, exc, began)
            self._settle_sync(admitted.key, done=False)
            return self._finish(Answer(500, "webhook processing failed"), started)
        seconds = time.perf_counter() - began
        if seconds > TELNYX_ACK_WINDOW:
            self._slow(admitted, seconds)
        self._settle_sync(admitted.key, done=True)
        return self._finish(Answer(200), started)

    def _settle_sync(self, key: str, *, done: bool) -> None:
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

    # -- adapters --------------------------------------------------------------------------

    def aiohttp_handler(self) -> Callable[[web.Request], Awaitable[web.Response]]:
        """An ``aiohttp.web`` handler for ``app.router.add_post(path, ...)``.

        Call :meth:`close` on shutdown, or use :meth:`add_aiohttp_route`, which does.
        """
        from telnyx_messaging.webhooks._adapters.aiohttp import aiohttp_handler

        return aiohttp_handler(self)

    def add_aiohttp_route(self, app: web.Application, path: str) -> None:
        """Route ``POST path`` of an ``aiohttp.web.Application`` here, and close on cleanup.

        aiohttp runs ``on_cleanup`` after in-flight requests finished, so every accepted
        event is handled before the process exits.
        """
        app.router.add_post(path, self.aiohttp_handler())

        async def close_webhook_receiver(_: web.Application) -> None:
            await self.close()

        app.on_cleanup.append(close_webhook_receiver)

    def asgi_app(self) -> Callable[..., Awaitable[None]]:
        """A plain ASGI app: mount it in Starlette or FastAPI (no framework import needed).

        ``Route("/webhooks/telnyx", receiver.asgi_app(), methods=["POST"])`` in Starlette,
        ``app.add_route(...)`` or ``app.mount(...)`` in FastAPI. Close it in the lifespan.
        """
        from telnyx_messaging.webhooks._adapters.asgi import ASGIWebhookApp

        return ASGIWebhookApp(self)

    def wsgi_app(self) -> Callable[..., Any]:
        """A plain WSGI app, for any WSGI server or ``DispatcherMiddleware``."""
        from telnyx_messaging.webhooks._adapters.wsgi import WSGIWebhookApp

        self._check_sync()
        return WSGIWebhookApp(self)

    def flask_view(self) -> Callable[[], Any]:
        """A Flask view: ``app.add_url_rule(path, view_func=..., methods=["POST"])``."""
        from telnyx_messaging.webhooks._adapters.wsgi import flask_view

        self._check_sync()
        return flask_view(self)

    def django_view(self) -> Callable[[Any], Any]:
        """A Django view (CSRF-exempt: the signature authenticates it), for ``path(...)``."""
        from telnyx_messaging.webhooks._adapters.wsgi import django_view

        self._check_sync()
        return django_view(self)
