"""Verify and read the webhooks Telnyx sends: delivery updates, inbound messages, link clicks.

::

    from telnyx_messaging import webhooks

    event = webhooks.unwrap(body, headers, public_key=KEY)  # verify, then parse
    if isinstance(event, webhooks.DeliveryUpdate):
        print(event.payload.id, event.payload.to[0].status)

``body`` is the raw request body (``bytes``, or ``str``), exactly as received: the signature
covers those bytes, not the JSON they decode to. ``headers`` is any mapping of the request's
headers. ``KEY`` is the public key from Mission Control Portal > Keys & Credentials (or
:attr:`AsyncClient.webhooks <telnyx_messaging.AsyncClient.webhooks>`, which uses the client's
``public_key`` / ``TELNYX_PUBLIC_KEY``). :func:`aiohttp_handler` is a ready ``aiohttp.web``
handler; ``docs/webhooks.md`` shows Starlette, FastAPI and Django.

Failures: :class:`WebhookVerificationError` (the same class as
``telnyx_messaging.WebhookVerificationError``) when the webhook is not provably from Telnyx
(never a silent pass, even with no key configured), and :class:`WebhookParseError` when a
body is not a webhook this SDK can read.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from ._errors import WebhookParseError, WebhookVerificationError
from ._events import (
    Body,
    DeliveryUpdate,
    EventMeta,
    InboundMessage,
    ReplacedLinkClick,
    UnknownEvent,
    WebhookEvent,
    parse,
)
from ._signature import DEFAULT_TOLERANCE as _DEFAULT_TOLERANCE
from ._signature import HeadersLike, PublicKeyInput, PublicKeys
from ._signature import check_arguments as _check_arguments
from ._signature import load_public_keys as _load_public_keys
from ._signature import verify_headers as _verify_headers

if TYPE_CHECKING:
    from aiohttp import web

    from ._tracking import DeliveryOutcome, DeliveryTimeoutError, DeliveryTracker

__all__ = [
    "ClientWebhooks",
    "DeliveryOutcome",
    "DeliveryTimeoutError",
    "DeliveryTracker",
    "DeliveryUpdate",
    "EventMeta",
    "HeadersLike",
    "InboundMessage",
    "PublicKeyInput",
    "PublicKeys",
    "ReplacedLinkClick",
    "UnknownEvent",
    "WebhookCallback",
    "WebhookEvent",
    "WebhookParseError",
    "WebhookVerificationError",
    "aiohttp_handler",
    "parse",
    "unwrap",
    "verify",
]

log = logging.getLogger("telnyx_messaging")


def verify(
    body: Body,
    headers: HeadersLike,
    *,
    public_key: PublicKeyInput,
    tolerance: float | None = _DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check that a webhook is from Telnyx and recent; return ``None`` or raise.

    ``body`` is the raw request body as received (``str`` is UTF-8 encoded first), and
    ``headers`` any mapping of the request headers (looked up case-insensitively). Raises
    :class:`~telnyx_messaging.WebhookVerificationError`, whose ``reason`` says what to fix,
    for every failure: missing or malformed headers, a timestamp more than ``tolerance``
    seconds from ``now`` (default: this machine's clock; ``None`` skips the age check, for
    stored webhooks), a bad or missing key, or a signature that does not match.

    ``public_key`` is the base64 text the portal shows, raw 32 bytes, SPKI DER or PEM, a
    :class:`PublicKeys`, or a list of these during a key rotation (any one key passes).
    Decoded keys are cached, so passing the same text on every call costs nothing.
    """
    _verify_headers(body, headers, _load_public_keys(public_key), tolerance=tolerance, now=now)


def unwrap(
    body: Body,
    headers: HeadersLike,
    *,
    public_key: PublicKeyInput,
    tolerance: float | None = _DEFAULT_TOLERANCE,
    now: float | None = None,
) -> WebhookEvent:
    """Verify a webhook (as :func:`verify`), then read it into its event (as :func:`parse`).

    Raises ``WebhookVerificationError`` when the webhook is not provably from Telnyx, and
    :class:`WebhookParseError` when it is but its body cannot be read.
    """
    _verify_headers(body, headers, _load_public_keys(public_key), tolerance=tolerance, now=now)
    return parse(body)


class _HasPublicKey(Protocol):
    _public_key: Any


class ClientWebhooks:
    """``client.webhooks``: :func:`verify` and :func:`unwrap` with the client's public key.

    The key is ``AsyncClient(public_key=...)``, else the ``TELNYX_PUBLIC_KEY`` environment
    variable; with neither, every call raises ``WebhookVerificationError``. No network.
    """

    def __init__(self, client: _HasPublicKey) -> None:
        self._client = client

    def _keys(self) -> PublicKeys:
        key = self._client._public_key
        if key is None or (isinstance(key, str) and not key.strip()):
            raise WebhookVerificationError(
                "no public key to verify webhooks with: pass AsyncClient(public_key=...) or set "
                "the TELNYX_PUBLIC_KEY environment variable to the base64 key from Mission "
                "Control Portal > Keys & Credentials > Public Key"
            )
        return _load_public_keys(key)

    def verify(
        self,
        body: Body,
        headers: HeadersLike,
        *,
        tolerance: float | None = _DEFAULT_TOLERANCE,
        now: float | None = None,
    ) -> None:
        """Check a webhook is from Telnyx and recent (as :func:`verify`), with the client's key."""
        _verify_headers(body, headers, self._keys(), tolerance=tolerance, now=now)

    def unwrap(
        self,
        body: Body,
        headers: HeadersLike,
        *,
        tolerance: float | None = _DEFAULT_TOLERANCE,
        now: float | None = None,
    ) -> WebhookEvent:
        """Verify a webhook with the client's key, then read it, as :func:`unwrap`."""
        self.verify(body, headers, tolerance=tolerance, now=now)
        return parse(body)

    def parse(self, body: Body | Mapping[str, Any]) -> WebhookEvent:
        """Read a webhook body without verifying it, as :func:`parse` (for tests and replays)."""
        return parse(body)


#: What :func:`aiohttp_handler` calls with each verified event: a coroutine function
#: (awaited) or a plain function.
WebhookCallback: TypeAlias = Callable[[WebhookEvent], Awaitable[object] | object]


def aiohttp_handler(
    callback: WebhookCallback,
    *,
    public_key: PublicKeyInput,
    tolerance: float | None = _DEFAULT_TOLERANCE,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An ``aiohttp.web`` request handler that verifies each webhook and hands it on.

    ::

        async def on_event(event: webhooks.WebhookEvent) -> None:
            if isinstance(event, webhooks.InboundMessage):
                ...

        app.router.add_post("/telnyx", webhooks.aiohttp_handler(on_event, public_key=KEY))

    It reads the raw body, verifies and parses it, awaits ``callback(event)``, and answers
    200. Without calling ``callback`` it answers 401 to a webhook that does not verify and
    400 to a verified body it cannot read, with the reason as text. If ``callback`` raises,
    it logs the exception (logger ``telnyx_messaging``) and answers 500, so Telnyx retries.
    Keep the callback short (queue slow work): Telnyx waits for the answer.

    A missing or malformed ``public_key`` raises ``WebhookVerificationError`` here, when the
    app is built, rather than on every request.
    """
    # Imported here so code that only verifies (Django, Starlette) never loads aiohttp.web.
    from aiohttp import web

    keys = _load_public_keys(public_key)
    _check_arguments(tolerance, None)

    async def handle_telnyx_webhook(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            _verify_headers(body, request.headers, keys, tolerance=tolerance)
        except WebhookVerificationError as exc:
            log.warning("rejected a webhook to %s: %s", request.path, exc.reason)
            return web.Response(status=401, text=exc.reason)
        try:
            event = parse(body)
        except WebhookParseError as exc:
            log.warning("could not read a verified webhook to %s: %s", request.path, exc.reason)
            return web.Response(status=400, text=exc.reason)
        try:
            result = callback(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            # Only the type and id: message text is never logged.
            log.exception(
                "webhook callback failed on %s %s; answered 500 so Telnyx retries",
                event.event_type or event.record_type,
                event.id,
            )
            return web.Response(status=500, text="webhook callback failed")
        return web.Response(status=200)

    return handle_telnyx_webhook


_TRACKING = frozenset({"DeliveryOutcome", "DeliveryTimeoutError", "DeliveryTracker"})


def __getattr__(name: str) -> Any:
    # Delivery tracking (docs/tracking.md) loads on first use: most receivers never need it.
    if name in _TRACKING:
        from . import _tracking

        return getattr(_tracking, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
