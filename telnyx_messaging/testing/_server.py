"""`FakeTelnyx`: the facade over the fake's parts, and its aiohttp edge.

The parts: `FakeState` (the data), `Clock` (its time), `Pipeline` (auth, rate limits, spec
checks, idempotency, then the handlers in ``_handlers/``), `Lifecycle` (what happens to a
message after the answer) and `WebhookDeliverer` (signed POSTs with Telnyx's retries). Only
this module touches aiohttp's server, to read requests and to misbehave on purpose.

Like the rest of ``testing/``, it imports nothing from the SDK's client side (no ``_client``,
``_transport``, ``_resources``, ``_http``, ``_models``): the fake is an independent oracle.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from telnyx_messaging._errors import InvalidArgumentError
from telnyx_messaging.testing._clock import Clock
from telnyx_messaging.testing._control import CONTROL_PREFIX, handle_control
from telnyx_messaging.testing._delivery import LOOPBACK_HOSTS, DeliveryAttempt, WebhookDeliverer
from telnyx_messaging.testing._faults import Disconnect, Fault, Hang, QueuedFault, Respond, Truncate
from telnyx_messaging.testing._handlers import Context
from telnyx_messaging.testing._lifecycle import Lifecycle
from telnyx_messaging.testing._openapi import is_address, load_spec
from telnyx_messaging.testing._payloads import FAILURES
from telnyx_messaging.testing._pipeline import Pipeline
from telnyx_messaging.testing._ratelimit import RateLimiter, RateLimits
from telnyx_messaging.testing._seed import PROFILE_IDS
from telnyx_messaging.testing._signer import WebhookSigner
from telnyx_messaging.testing._state import FakeState, MessagingProfile
from telnyx_messaging.testing._wire import FakeAnswer, FakeApiError, RecordedRequest

__all__ = ["FakeTelnyx"]


def _record(request: web.BaseRequest, body: bytes) -> RecordedRequest:
    raw_path = request.rel_url.raw_path
    try:
        parsed = json.loads(body) if body else None
    except ValueError:  # JSONDecodeError and undecodable bytes alike
        parsed = None
    return RecordedRequest(
        method=request.method,
        path=raw_path.removeprefix("/v2") if raw_path.startswith("/v2/") else raw_path,
        query=tuple(request.rel_url.query.items()),
        headers=CIMultiDictProxy(CIMultiDict(request.headers)),
        body=body,
        json=parsed,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )


def _send_answer(answer: FakeAnswer) -> web.Response:
    return web.Response(status=answer.status, body=answer.body, headers=dict(answer.headers))


def _respond(fault: Respond) -> web.Response:
    body = fault.body if fault.body is not None else b""
    if fault.body is None and fault.json is not None:
        body = json.dumps(fault.json).encode()
    # Set as a header, not content_type=, which refuses parameters such as charset.
    headers = {"Content-Type": fault.content_type, **fault.headers}
    return web.Response(status=fault.status, body=body, headers=headers)


def _drop(request: web.BaseRequest) -> web.Response:
    """Close the connection; aiohttp then fails to write the returned dummy and gives up."""
    if request.transport is not None:
        request.transport.close()
    return web.Response()


async def _truncate(request: web.BaseRequest, answer: FakeAnswer) -> web.StreamResponse:
    response = web.StreamResponse(status=answer.status, headers=dict(answer.headers))
    response.content_length = len(answer.body)
    await response.prepare(request)
    await response.write(answer.body[: len(answer.body) // 2])
    _drop(request)
    return response


async def _interrupted(event: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds``; True if ``event`` was set first."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except asyncio.TimeoutError:
        return False
    return True


class FakeTelnyx:
    """A fake Telnyx Messaging API v2 on loopback that behaves like Telnyx end to end.

    ::

        async with FakeTelnyx(webhook_url="http://127.0.0.1:8080/telnyx") as fake:
            client = AsyncClient(api_key=fake.api_key, base_url=fake.base_url)
            msg = await client.messages.send(to="+13125550002", from_="+18445550001", text="Hi")
            await fake.deliveries_settled()
            assert [d.event_type for d in fake.deliveries] == ["message.sent", "message.finalized"]

    It serves the 17 operations of the packaged OpenAPI spec: it checks the bearer key,
    checks every request against the spec (422 / 400 with Telnyx's error body), stores every
    message in `messages`, replays the stored answer for a repeated ``Idempotency-Key`` (422
    when the repeat's body differs, as Telnyx does) and
    serves seeded, deterministic phone numbers and opt-outs. After a send it delivers
    ``message.sent`` and ``message.finalized`` webhooks, signed with its own key
    (`public_key`), to the message's ``webhook_url`` or its messaging profile's, with
    Telnyx's retries and failover; `receive` and `click_link` deliver inbound messages and
    link clicks. Scheduled sends go out at ``send_at`` on the fake's clock, which `advance`
    moves. `rate_limits` switches on Telnyx's 429s, and an inbound ``STOP`` opts its sender
    out as Telnyx does (409, error 40300, until ``START``). Every request lands in `requests` and
    every webhook attempt in `deliveries`; queue misbehaviour with `fail_next` or decide it
    per request with `fault_hook`.

    Webhooks go only to ``allowed_webhook_hosts`` (this machine by default), so a test that
    sets ``webhook_url="https://example.com/..."`` never reaches the network.

    .. versionchanged:: 0.2.0
       Webhook delivery, `receive`, `click_link`, the clock, rate limits and spec checks.
    """

    def __init__(
        self,
        *,
        api_key: str = "KEY_fake_test_key",
        host: str = "127.0.0.1",
        port: int = 0,
        phone_numbers: int = 30,
        optouts: int = 45,
        mobile_phone_numbers: int = 12,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        rate_limits: RateLimits | None = None,
        signer: WebhookSigner | None = None,
        allowed_webhook_hosts: Collection[str] = LOOPBACK_HOSTS,
        send_seconds: float = 0.0,
        delivery_seconds: float = 0.0,
        webhook_timeout: float = 2.0,
        webhook_retry_wait: float = 0.0,
    ) -> None:
        self.api_key = api_key
        self._host = host
        self._port = port
        self._runner: web.BaseRunner | None = None
        self._base_url: str | None = None
        # Set by close() so that pending Hang faults end at once instead of
        # holding the shutdown for their full duration.
        self._closing = asyncio.Event()
        self._faults: list[QueuedFault] = []
        # Kept to build the same starting state again on reset().
        self._seeding = {
            "phone_numbers": phone_numbers,
            "mobile_phone_numbers": mobile_phone_numbers,
            "optouts": optouts,
        }
        self._default_webhooks = (webhook_url, webhook_failover_url)
        self._timing = {"send_seconds": send_seconds, "delivery_seconds": delivery_seconds}
        self._signer = signer if signer is not None else WebhookSigner()
        self._clock = Clock()
        self._deliverer = WebhookDeliverer(
            self._signer,
            self._clock,
            allowed_hosts=allowed_webhook_hosts,
            timeout=webhook_timeout,
            retry_wait=webhook_retry_wait,
        )
        self._limiter = RateLimiter(rate_limits or RateLimits(), self._clock)
        self._state, self._lifecycle, self._pipeline = self._fresh_parts()
        #: Every request received, in arrival order, faulted ones included.
        self.requests: list[RecordedRequest] = []
        #: Consulted for each request no queued fault matched; return a fault or None.
        self.fault_hook: Callable[[RecordedRequest], Fault | None] | None = None

    def _fresh_parts(self) -> tuple[FakeState, Lifecycle, Pipeline]:
        """The data as seeded, and the parts that work on it."""
        state = FakeState.seeded(**self._seeding)
        default = state.profiles[self.default_profile_id]
        default.webhook_url, default.webhook_failover_url = self._default_webhooks
        lifecycle = Lifecycle(state, self._clock, self._deliverer, **self._timing)
        context = Context(state, self._clock, lifecycle)
        pipeline = Pipeline(load_spec(), context, self._limiter, lambda: self.api_key)
        return state, lifecycle, pipeline

    async def reset(self) -> None:
        """Forget what happened, keep how the fake is set up: between tests on one fake.

        Forgets messages, requests, webhook attempts, stored idempotent answers, queued
        faults, rate-limit windows, and what requests changed (opt-outs from ``STOP``,
        number settings, bulk updates); cancels pending sends and webhooks. Keeps the keys,
        the clock (time does not go back), the rate limits themselves, `fault_hook`,
        `messaging_profiles` and `failing_numbers`.

        .. versionadded:: 0.2.0
        """
        await self._lifecycle.close()
        kept = self._state
        # The same limits, with no window or sender queue filled by earlier traffic.
        self._limiter = RateLimiter(self._limiter.limits, self._clock)
        self._state, self._lifecycle, self._pipeline = self._fresh_parts()
        self._state.profiles = kept.profiles
        self._state.failing_numbers = kept.failing_numbers
        self._deliverer.attempts.clear()
        self.requests.clear()
        self._faults.clear()

    # --- serving

    async def start(self) -> None:
        """Start serving on ``host:port`` (an ephemeral port by default); no-op if started."""
        if self._runner is not None:
            return
        # A low-level server, no router: every request reaches _handle, so every answer is
        # Telnyx's JSON (aiohttp's router answers a text/plain 404 for a path it cannot match,
        # such as an id holding a %0A). A short shutdown grace: nothing is worth finishing.
        runner = web.ServerRunner(
            web.Server(self._handle_any, access_log=None), shutdown_timeout=1.0
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()  # e.g. the port is taken: leave nothing half-open
            raise
        # A fresh event per run: an asyncio.Event binds to the loop that first waits on it.
        self._closing = asyncio.Event()
        self._runner = runner
        port = runner.addresses[0][1]
        self._base_url = f"http://{self._host}:{port}/v2"

    async def close(self) -> None:
        """Stop serving, drop open connections and pending webhooks; safe to call twice."""
        runner, self._runner, self._base_url = self._runner, None, None
        await self._lifecycle.close()
        self._clock.cancel_all()
        await self._deliverer.close()
        if runner is not None:
            self._closing.set()
            await runner.cleanup()

    async def __aenter__(self) -> FakeTelnyx:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v2``, the value for the client's ``base_url``."""
        if self._base_url is None:
            raise RuntimeError("FakeTelnyx is not serving: call start() or use 'async with'.")
        return self._base_url

    # --- the data it serves

    @property
    def messages(self) -> dict[str, dict[str, Any]]:
        """Every message created or received, by id, as ``GET /messages/{id}`` answers it now."""
        return self._state.messages

    @property
    def phone_number_settings(self) -> list[dict[str, Any]]:
        """The seeded GET /phone_numbers/messaging items; PATCH and bulk updates change them."""
        return self._state.phone_number_settings

    @property
    def mobile_phone_number_settings(self) -> list[dict[str, Any]]:
        """The seeded GET /mobile_phone_numbers/messaging items."""
        return self._state.mobile_phone_number_settings

    @property
    def optout_items(self) -> list[dict[str, Any]]:
        """The seeded GET /messaging_optouts items, newest first."""
        return self._state.optout_items

    @property
    def bulk_updates(self) -> dict[str, dict[str, Any]]:
        """Bulk profile updates by order id."""
        return self._state.bulk_updates

    @property
    def seen_idempotency_keys(self) -> frozenset[str]:
        """Keys whose answer is stored: repeating one replays it and creates nothing."""
        return frozenset(self._state.replies)

    # --- webhooks

    @property
    def public_key(self) -> str:
        """The base64 Ed25519 key that verifies the fake's webhooks (give it to your app).

        .. versionadded:: 0.2.0
        """
        return self._signer.public_key

    @property
    def default_profile_id(self) -> str:
        """The messaging profile sends use when they name none (and the fake's numbers' own).

        .. versionadded:: 0.2.0
        """
        return PROFILE_IDS[0]

    @property
    def messaging_profiles(self) -> dict[str, MessagingProfile]:
        """Webhook settings by messaging profile id; add or change profiles freely.

        .. versionadded:: 0.2.0
        """
        return self._state.profiles

    @property
    def failing_numbers(self) -> dict[str, str]:
        """Recipients whose messages fail, with the status they fail with (`fail_delivery`).

        .. versionadded:: 0.2.0
        """
        return self._state.failing_numbers

    @property
    def deliveries(self) -> list[DeliveryAttempt]:
        """Every webhook attempt, in order: what was posted where, and how it went.

        .. versionadded:: 0.2.0
        """
        return self._deliverer.attempts

    def fail_delivery(self, *numbers: str, status: str = "delivery_failed") -> None:
        """Make messages to ``numbers`` end ``delivery_failed`` (or ``sending_failed``).

        A ``delivery_failed`` message is sent (``message.sent``), then finalized as failed
        with error 40008; a ``sending_failed`` one goes straight to ``message.finalized``
        with error 40001.

        .. versionadded:: 0.2.0
        """
        if status not in FAILURES:
            raise InvalidArgumentError(f"status must be one of {sorted(FAILURES)}, not {status!r}")
        for number in numbers:
            self._state.failing_numbers[number] = status

    def receive(
        self,
        *,
        from_: str,
        to: str,
        text: str | None = None,
        media_urls: Sequence[str] = (),
        subject: str | None = None,
    ) -> dict[str, Any]:
        """Someone at ``from_`` texts ``to`` (one of your numbers): deliver ``message.received``.

        The webhook goes to the messaging profile of ``to`` (the default profile if the fake
        does not know the number). Returns the message payload; the message is also served by
        ``GET /messages/{id}``. Needs the running event loop; await `deliveries_settled` to
        wait for the webhook.

        .. versionadded:: 0.2.0
        """
        for name, value in (("from_", from_), ("to", to)):
            if not isinstance(value, str) or not is_address(value):
                raise InvalidArgumentError(
                    f"{name} must be a +E.164 number or a short code, like '+13125550002'; "
                    f"got {value!r}"
                )
        if not text and not media_urls:
            raise InvalidArgumentError("receive() needs text or media_urls")
        return self._lifecycle.receive(
            from_=from_, to=to, text=text, media_urls=list(media_urls), subject=subject
        )

    def click_link(self, message_id: str, url: str) -> dict[str, Any]:
        """The recipient of a sent message clicks ``url`` in it: deliver the link click.

        Goes to the message's webhook URLs, like its delivery updates. Returns the body's
        ``data``.

        .. versionadded:: 0.2.0
        """
        message = self._state.messages.get(message_id)
        if message is None or message.get("direction") != "outbound":
            raise InvalidArgumentError(f"no outbound message {message_id!r} to click a link in")
        return self._lifecycle.click(message, url)

    async def deliveries_settled(self, timeout: float | None = None) -> None:
        """Wait until every status change and webhook due by the fake's current time is done.

        Work timed for later on the fake's clock is not waited for: a scheduled send, the
        ``sent`` to ``finalized`` step of ``delivery_seconds``, a webhook retry's
        ``webhook_retry_wait``. `advance` past it, then await this again to see its webhooks.
        With ``timeout`` (seconds), raise `TimeoutError` rather than wait longer. Raises the
        first exception that ended the fake's own background work (a bug in the fake).

        .. versionadded:: 0.2.0
        """
        # One loop turn first: a send answered a moment ago may not have started its work.
        await asyncio.sleep(0)
        try:
            await asyncio.wait_for(self._lifecycle.settled(), timeout)
        except asyncio.TimeoutError:
            # asyncio's own class until Python 3.11: raise the builtin in every version.
            raise TimeoutError(f"webhooks still under way after {timeout} s") from None

    # --- time and rate limits

    def now(self) -> datetime:
        """The fake's time: real UTC time plus every `advance` so far.

        .. versionadded:: 0.2.0
        """
        return self._clock.now()

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward: scheduled sends, webhook retries and rate-limit
        windows due by then happen now. Await `deliveries_settled` to see their webhooks.

        Webhooks are still signed with the real time, so receivers' tolerance checks pass.

        .. versionadded:: 0.2.0
        """
        self._clock.advance(seconds)

    @property
    def rate_limits(self) -> RateLimits:
        """The rate limits in force; assign a `RateLimits` to change them mid-test.

        .. versionadded:: 0.2.0
        """
        return self._limiter.limits

    @rate_limits.setter
    def rate_limits(self, limits: RateLimits) -> None:
        if not isinstance(limits, RateLimits):
            raise InvalidArgumentError(f"rate_limits must be a RateLimits, not {limits!r}")
        self._limiter.limits = limits

    # --- faults

    def fail_next(self, *faults: Fault, method: str | None = None, path: str | None = None) -> None:
        """Queue ``faults``: each following request that matches takes the next one.

        ``method`` and ``path`` narrow which requests match; ``path`` is compared
        with `RecordedRequest.path` (no ``/v2`` prefix, e.g. ``"/messages"``).
        """
        upper = method.upper() if method is not None else None
        self._faults.extend(QueuedFault(fault, upper, path) for fault in faults)

    def _fault_for(self, request: RecordedRequest) -> Fault | None:
        for index, queued in enumerate(self._faults):
            if queued.matches(request):
                del self._faults[index]
                return queued.fault
        return self.fault_hook(request) if self.fault_hook is not None else None

    # --- the aiohttp edge

    async def _handle_any(self, request: web.BaseRequest) -> web.StreamResponse:
        try:
            return await self._handle(request)
        except Exception as exc:
            logging.getLogger(__name__).exception("FakeTelnyx failed on a request")
            error = FakeApiError(
                500, "10007", "Unexpected error", f"The fake failed: {type(exc).__name__}: {exc}"
            )
            return _send_answer(error.answer)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        # Read the whole body first: a client still sending when the connection
        # drops would see a write error instead of the disconnect under test.
        recorded = _record(request, await request.read())
        if request.rel_url.raw_path.startswith(CONTROL_PREFIX):
            # Not API traffic: not recorded, faulted or rate-limited.
            return _send_answer(await handle_control(self, recorded))
        self.requests.append(recorded)
        fault = self._fault_for(recorded)
        if isinstance(fault, Respond):
            return _respond(fault)
        if isinstance(fault, Disconnect) and not fault.after_processing:
            return _drop(request)
        if isinstance(fault, Hang) and await _interrupted(self._closing, fault.seconds):
            return _drop(request)
        under_v2 = request.rel_url.raw_path.startswith("/v2/")
        # Every Telnyx answer carries a request id, the one support asks for.
        answer = self._pipeline.process(recorded, under_v2=under_v2).with_headers(
            {"x-request-id": str(uuid.uuid4())}
        )
        if isinstance(fault, Disconnect):
            return _drop(request)
        if isinstance(fault, Truncate):
            return await _truncate(request, answer)
        return _send_answer(answer)
