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
``public_key`` / ``TELNYX_PUBLIC_KEY``).

To serve an endpoint, build a :class:`WebhookReceiver` once at start-up: it decides when
Telnyx is answered, drops duplicate deliveries (:class:`DuplicateGuard`), reports
:class:`WebhookMetric` s, and serves aiohttp, ASGI (Starlette, FastAPI) and WSGI (Flask,
Django) through adapters that import their framework only when built.

Failures: :class:`WebhookVerificationError` (the same class as
``telnyx_messaging.WebhookVerificationError``) when the webhook is not provably from Telnyx
(never a silent pass, even with no key configured), :class:`WebhookConfigurationError` (also
a ``WebhookVerificationError``) when the key itself is missing or malformed, and
:class:`WebhookParseError` when a body is not a webhook this SDK can read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from telnyx_messaging._errors import (
    WebhookConfigurationError,
    WebhookParseError,
    WebhookVerificationError,
)
from telnyx_messaging.webhooks._events import (
    Body,
    DeliveryUpdate,
    EventMeta,
    InboundMessage,
    ReplacedLinkClick,
    UnknownEvent,
    WebhookEvent,
    parse,
)
from telnyx_messaging.webhooks._signature import DEFAULT_TOLERANCE as _DEFAULT_TOLERANCE
from telnyx_messaging.webhooks._signature import HeadersLike, PublicKeyInput, PublicKeys
from telnyx_messaging.webhooks._signature import load_public_keys as _load_public_keys
from telnyx_messaging.webhooks._signature import verify_headers as _verify_headers

if TYPE_CHECKING:
    from aiohttp import web

    from telnyx_messaging.webhooks._dedupe import (
        Claim,
        DuplicateGuard,
        DuplicateGuardFullError,
        MemoryDuplicateGuard,
        duplicate_key,
    )
    from telnyx_messaging.webhooks._policy import Acknowledge, VerifiedWebhook, WebhookMetric
    from telnyx_messaging.webhooks._receiver import WebhookReceiver
    from telnyx_messaging.webhooks._tracking import (
        DeliveryOutcome,
        DeliveryTimeoutError,
        DeliveryTracker,
    )

__all__ = [
    "Acknowledge",
    "Claim",
    "ClientWebhooks",
    "DeliveryOutcome",
    "DeliveryTimeoutError",
    "DeliveryTracker",
    "DeliveryUpdate",
    "DuplicateGuard",
    "DuplicateGuardFullError",
    "EventMeta",
    "HeadersLike",
    "InboundMessage",
    "MemoryDuplicateGuard",
    "PublicKeyInput",
    "PublicKeys",
    "ReplacedLinkClick",
    "UnknownEvent",
    "VerifiedWebhook",
    "WebhookCallback",
    "WebhookConfigurationError",
    "WebhookEvent",
    "WebhookMetric",
    "WebhookParseError",
    "WebhookReceiver",
    "WebhookVerificationError",
    "aiohttp_handler",
    "duplicate_key",
    "parse",
    "unwrap",
    "verify",
]


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
    variable; with neither, every call raises ``WebhookConfigurationError`` (which is also a
    ``WebhookVerificationError``, so it fails closed). No network.
    """

    def __init__(self, client: _HasPublicKey) -> None:
        self._client = client

    def _keys(self) -> PublicKeys:
        key = self._client._public_key
        if key is None or (isinstance(key, str) and not key.strip()):
            raise WebhookConfigurationError(
                "no public key to verify webhooks with: pass AsyncClient(public_key=...) or set "
                "the TELNYX_PUBLIC_KEY environment variable to the base64 key from Mission "
                "Control Portal > Keys & Credentials > Public Key",
                code="no_key",
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
"""What :func:`aiohttp_handler` calls with each verified event (sync or async)."""


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

    A shorthand for ``WebhookReceiver(on_event=callback, ...).aiohttp_handler()``, which
    acknowledges after the callback: it awaits ``callback(event)`` and answers 200, or 500
    if it raised (logged on logger ``telnyx_messaging``; the event is released so Telnyx's
    retry is processed). It answers 401 to a webhook that does not verify, 400 to a verified
    body it cannot read or a body that is not the gzip/deflate it claims, 413 past
    256 KiB, all with a one-line warning and without calling
    ``callback``. A delivery of an event already handled is answered 200 without calling it
    again. For slow callbacks, a shared duplicate guard, metrics or other limits, build a
    :class:`WebhookReceiver` (``acknowledge="on_receipt"`` or ``handoff=``).

    A missing or malformed ``public_key`` raises :class:`WebhookConfigurationError` here,
    when the app is built, rather than on every request.
    """
    from telnyx_messaging.webhooks._receiver import WebhookReceiver

    receiver = WebhookReceiver(on_event=callback, public_key=public_key, tolerance=tolerance)
    return receiver.aiohttp_handler()


# Everything beyond verify/parse/unwrap loads on first use: a service that only calls
# unwrap() never pays for asyncio, the receiver or the duplicate guard (benchmarks/README.md).
_LAZY = {
    "Acknowledge": "_policy",
    "VerifiedWebhook": "_policy",
    "WebhookMetric": "_policy",
    "WebhookReceiver": "_receiver",
    "Claim": "_dedupe",
    "DuplicateGuard": "_dedupe",
    "DuplicateGuardFullError": "_dedupe",
    "MemoryDuplicateGuard": "_dedupe",
    "duplicate_key": "_dedupe",
    # Delivery tracking (docs/tracking.md): most receivers never need it.
    "DeliveryOutcome": "_tracking",
    "DeliveryTimeoutError": "_tracking",
    "DeliveryTracker": "_tracking",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
