"""Receiving webhooks: the runtime around the gate (queue, workers, drain, close).

One :class:`WebhookReceiver` holds everything a webhook endpoint decides, whatever serves it.
It checks the options once and builds the :class:`~telnyx_messaging.webhooks._policy.WebhookGate`
(``_policy.py``): limits on the request, verification, parsing, the duplicate guard, when to
acknowledge, and the metrics hook. The framework adapters (``_adapters/``) drive that gate and
never this class, so every adapter answers the same request with the same status. What is
left here is what runs across requests: the ``on_receipt`` queue and its workers, ``drain``
and ``close``, and the adapter factories.

Telnyx wants a 2xx within about 2 seconds, else it delivers again (three tries per URL,
then the failover URL); it may also deliver an event twice, late or out of order
(https://developers.telnyx.com/docs/messaging/messages/receiving-webhooks). The three ways
to acknowledge trade speed against what a crash can lose; ``docs/webhooks.md`` has the table.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from telnyx_messaging import _telemetry
from telnyx_messaging._errors import ConfigurationError, InvalidArgumentError
from telnyx_messaging.webhooks._dedupe import DuplicateGuard, MemoryDuplicateGuard
from telnyx_messaging.webhooks._policy import (
    Acknowledge,
    Answer,
    VerifiedWebhook,
    WebhookGate,
    WebhookMetric,
    event_type,
)
from telnyx_messaging.webhooks._signature import (
    DEFAULT_TOLERANCE,
    PublicKeyInput,
    check_arguments,
    load_public_keys,
)

if TYPE_CHECKING:
    from aiohttp import web

    from telnyx_messaging.webhooks._events import WebhookEvent

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
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
#: How long reading a request body may take, in seconds. A Telnyx webhook is a few kilobytes
#: sent at once; a client slower than this is holding a connection, not delivering.
DEFAULT_BODY_TIMEOUT = 10.0

_NOT_GIVEN: Any = object()
_ACKNOWLEDGE = ("after_callback", "on_receipt")


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

    ``max_body_size`` caps the body in bytes (413 beyond it), and ``body_timeout`` the
    seconds reading it may take (408 and the connection closed beyond it; under WSGI only
    between reads: set the server's own timeouts too, ``docs/webhooks.md`` says which).
    ``metrics`` is called with a :class:`WebhookMetric` for each thing the receiver does; it
    must be quick and must not raise. A missing or malformed ``public_key`` raises
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
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        keys = load_public_keys(public_key)
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
            # Remember each event at least as long as a replay of it passes verification.
            min_age = DEFAULT_TOLERANCE if tolerance is None else max(float(tolerance), 1.0)
            duplicates = MemoryDuplicateGuard(min_age=min_age, max_age=max(3600.0, min_age))
        elif duplicates is not None and not all(
            callable(getattr(duplicates, name, None)) for name in ("claim", "complete", "release")
        ):
            raise InvalidArgumentError(
                "duplicates must have claim(), complete() and release() (a DuplicateGuard), "
                "or be None to turn duplicate suppression off"
            )
        if metrics is not None and not callable(metrics):
            raise InvalidArgumentError(f"metrics must be callable, got {metrics!r}")
        if (
            isinstance(body_timeout, bool)
            or not isinstance(body_timeout, (int, float))
            or not (math.isfinite(body_timeout) and body_timeout > 0)
        ):
            raise InvalidArgumentError(f"body_timeout must be seconds > 0, got {body_timeout!r}")
        self.acknowledge: Acknowledge = acknowledge
        self.max_body_size = max_body_size
        self._queue_size = queue_size
        self._worker_count = workers
        self._queue: asyncio.Queue[VerifiedWebhook] | None = None
        self._pending = 0
        self._workers: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gate = WebhookGate(
            keys=keys,
            tolerance=tolerance,
            max_body_size=max_body_size,
            guard=duplicates,
            function=handoff or on_event,  # type: ignore[arg-type]  # one is set, checked above
            handoff=handoff is not None,
            acknowledge=acknowledge,
            metrics=_telemetry.observe_webhooks(metrics, acknowledge),  # itself when it is off
            enqueue=self._enqueue,
            queue_size=queue_size,
            body_timeout=float(body_timeout),
        )

    @property
    def gate(self) -> WebhookGate:
        """The per-request decisions, as the framework adapters drive them (``_policy.py``).

        .. versionadded:: 0.2.0
        """
        return self._gate

    # -- on_receipt: the queue and its workers ------------------------------------------------

    def _enqueue(self, webhook: VerifiedWebhook) -> bool:
        queue = self._start()
        try:
            queue.put_nowait(webhook)
        except asyncio.QueueFull:
            return False
        self._pending += 1
        return True

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
            try:
                # The same path as after_callback: call, then settle the guard (a
                # cancellation releases the event: stopped mid-way is not handled).
                await self._gate.handle(webhook)
            except asyncio.CancelledError:
                self._lost(webhook, "stopped while its callback ran")
                raise
            finally:
                self._pending -= 1
                queue.task_done()

    def _lost(self, webhook: VerifiedWebhook, how: str) -> None:
        log.error(
            "webhook event %s (%s) was acknowledged to Telnyx but not handled: %s when the "
            "receiver closed",
            webhook.key,
            event_type(webhook.event),
            how,
        )
        self._gate.emit("lost", reason=how, event_type=event_type(webhook.event), key=webhook.key)

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
        """Stop accepting webhooks (503 from now on), finish what was accepted, stop the workers.

        Waits up to ``timeout`` seconds (``None``: as long as it takes) for the requests
        already past verification (a request still waiting on the duplicate guard gets 503
        and its claim released) and for the queued events. An event acknowledged but not
        handled by then is logged at ERROR with its id (and a ``"lost"`` metric), and
        released from the guard. Safe to call twice. The adapters
        call it on shutdown where the framework says when that is (aiohttp's ``on_cleanup``
        via :meth:`add_aiohttp_route`; ``async with receiver:`` in an ASGI lifespan).
        """
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0
        ):
            raise InvalidArgumentError(f"timeout must be seconds >= 0 or None, got {timeout!r}")
        self._gate.close()
        try:
            # First the requests already past verification (a claim, a callback, a queue put
            # in flight), then what they queued: both within the one timeout.
            await asyncio.wait_for(self._settle_all(), timeout)
        except asyncio.TimeoutError:
            if self.pending:
                log.error(
                    "closed the webhook receiver with %d events not handled after %gs",
                    self.pending,
                    timeout,
                )
            else:  # only requests not yet answered: Telnyx delivers those again
                log.warning(
                    "closed the webhook receiver after %gs with %d requests still running; "
                    "they were not acknowledged, so Telnyx will deliver them again",
                    timeout,
                    self._gate.running,
                )
        await self._stop_workers()

    async def _settle_all(self) -> None:
        await self._gate.idle()
        if self._queue is not None and self._loop is asyncio.get_running_loop():
            await self._queue.join()

    async def _stop_workers(self) -> None:
        queue, workers = self._queue, self._workers
        if queue is None or self._loop is not asyncio.get_running_loop():
            return
        while not queue.empty():
            webhook = queue.get_nowait()
            self._pending -= 1
            queue.task_done()
            self._lost(webhook, "still queued")
            # Forgotten, so a delivery of it to another replica (or a replay) is handled.
            await self._gate.settle(webhook.key, done=False)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers = []

    async def __aenter__(self) -> WebhookReceiver:
        """``async with receiver:`` in an app's lifespan closes (and drains) it on the way out."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- adapters --------------------------------------------------------------------------

    def aiohttp_handler(self) -> Callable[[web.Request], Awaitable[web.Response]]:
        """An ``aiohttp.web`` handler for ``app.router.add_post(path, ...)``.

        Call :meth:`close` on shutdown, or use :meth:`add_aiohttp_route`, which does.
        """
        from telnyx_messaging.webhooks._adapters.aiohttp import aiohttp_handler

        return aiohttp_handler(self._gate)

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

        return ASGIWebhookApp(self._gate, self.close)

    def wsgi_app(self) -> Callable[..., Any]:
        """A plain WSGI app, for any WSGI server or ``DispatcherMiddleware``."""
        from telnyx_messaging.webhooks._adapters.wsgi import WSGIWebhookApp

        self._gate.require_sync()
        return WSGIWebhookApp(self._gate)

    def flask_view(self) -> Callable[[], Any]:
        """A Flask view: ``app.add_url_rule(path, view_func=..., methods=["POST"])``."""
        from telnyx_messaging.webhooks._adapters.wsgi import flask_view

        self._gate.require_sync()
        return flask_view(self._gate)

    def django_view(self) -> Callable[[Any], Any]:
        """A Django view (CSRF-exempt: the signature authenticates it), for ``path(...)``."""
        from telnyx_messaging.webhooks._adapters.wsgi import django_view

        self._gate.require_sync()
        return django_view(self._gate)
