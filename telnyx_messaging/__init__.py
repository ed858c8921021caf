"""telnyx-messaging: an async-first SDK for the Telnyx Messaging API v2.

::

    from telnyx_messaging import AsyncClient

    async with AsyncClient() as client:  # TELNYX_API_KEY from the environment
        msg = await client.messages.send(to="+13125550002", from_="+18445550001", text="Hi")

Webhooks live in :mod:`telnyx_messaging.webhooks`; a local stand-in for the API and a webhook
signer for your tests in :mod:`telnyx_messaging.testing`.
"""

# Names resolve on first use (PEP 562): a webhook receiver that imports only
# telnyx_messaging.webhooks never loads aiohttp, the client or importlib.metadata. Type
# checkers and editors read the imports under TYPE_CHECKING; tests/package/test_exports.py keeps
# them, _LAZY_NAMES and __all__ in step.

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telnyx_messaging import testing as testing
    from telnyx_messaging import webhooks as webhooks
    from telnyx_messaging._bulk import (
        BulkSend,
        BulkStats,
        MemoryBudget,
        PaceChange,
        PacingBudget,
        PacingProfile,
        PacingSnapshot,
        SendResult,
    )
    from telnyx_messaging._bulk._rows import (
        GroupMmsRow,
        LongCodeRow,
        NumberPoolRow,
        ScheduleRow,
        SendRow,
        ShortCodeRow,
        WhatsAppRow,
    )
    from telnyx_messaging._client import AsyncClient
    from telnyx_messaging._config import Timeout
    from telnyx_messaging._errors import (
        AlreadySentError,
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        Attempt,
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        ConflictError,
        InternalServerError,
        InvalidArgumentError,
        JournalError,
        NoNextPageError,
        NotFoundError,
        PauseTooLongError,
        PermissionDeniedError,
        RateLimitError,
        ResponseTooLargeError,
        TelnyxError,
        UnprocessableEntityError,
        WebhookConfigurationError,
        WebhookParseError,
        WebhookVerificationError,
    )
    from telnyx_messaging._http.codec import new_idempotency_key
    from telnyx_messaging._http.loop import capture_responses
    from telnyx_messaging._http.retry import set_instant_retries
    from telnyx_messaging._http.transports.aiohttp import AiohttpTransport
    from telnyx_messaging._http.transports.base import AsyncTransport
    from telnyx_messaging._http.transports.mock import MockTransport
    from telnyx_messaging._models import (
        Address,
        BulkUpdate,
        CostBreakdown,
        ErrorDetail,
        FeatureSet,
        Media,
        Message,
        MessagingFeatures,
        MobilePhoneNumberMessagingSettings,
        Money,
        NumberHealth,
        OptOut,
        PaginationMeta,
        PhoneNumberMessagingSettings,
        Recipient,
        WhatsAppMessage,
    )
    from telnyx_messaging._pagination import AsyncPager, Page
    from telnyx_messaging._sync.bulk import SyncBulkSend
    from telnyx_messaging._sync.client import Client
    from telnyx_messaging._sync.pagination import SyncPage, SyncPager
    from telnyx_messaging._version import __version__
    from telnyx_messaging._wire import Request, Response
    from telnyx_messaging.webhooks._dedupe import DuplicateGuardFullError
    from telnyx_messaging.webhooks._tracking import (
        DeliveryOutcome,
        DeliveryTimeoutError,
        DeliveryTracker,
    )

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "Address",
    "AiohttpTransport",
    "AlreadySentError",
    "AsyncClient",
    "AsyncPager",
    "AsyncTransport",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "BulkSend",
    "BulkStats",
    "BulkUpdate",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "CostBreakdown",
    "DeliveryOutcome",
    "DeliveryTimeoutError",
    "DeliveryTracker",
    "DuplicateGuardFullError",
    "ErrorDetail",
    "FeatureSet",
    "GroupMmsRow",
    "InternalServerError",
    "InvalidArgumentError",
    "JournalError",
    "LongCodeRow",
    "Media",
    "MemoryBudget",
    "Message",
    "MessagingFeatures",
    "MobilePhoneNumberMessagingSettings",
    "MockTransport",
    "Money",
    "NoNextPageError",
    "NotFoundError",
    "NumberHealth",
    "NumberPoolRow",
    "OptOut",
    "PaceChange",
    "PacingBudget",
    "PacingProfile",
    "PacingSnapshot",
    "Page",
    "PaginationMeta",
    "PauseTooLongError",
    "PermissionDeniedError",
    "PhoneNumberMessagingSettings",
    "RateLimitError",
    "Recipient",
    "Request",
    "Response",
    "ResponseTooLargeError",
    "ScheduleRow",
    "SendResult",
    "SendRow",
    "ShortCodeRow",
    "SyncBulkSend",
    "SyncPage",
    "SyncPager",
    "TelnyxError",
    "Timeout",
    "UnprocessableEntityError",
    "WebhookConfigurationError",
    "WebhookParseError",
    "WebhookVerificationError",
    "WhatsAppMessage",
    "WhatsAppRow",
    "__version__",
    "capture_responses",
    "new_idempotency_key",
    "set_instant_retries",
]

_ERRORS = "._errors"
_MODELS = "._models"

#: Where each public name lives (relative to this package).
_LAZY_NAMES: dict[str, str] = {
    "APIConnectionError": _ERRORS,
    "APIError": _ERRORS,
    "APIResponseValidationError": _ERRORS,
    "APIStatusError": _ERRORS,
    "APITimeoutError": _ERRORS,
    "AlreadySentError": _ERRORS,
    "Address": _MODELS,
    "AiohttpTransport": "._http.transports.aiohttp",
    "AsyncClient": "._client",
    "AsyncPager": "._pagination",
    "AsyncTransport": "._http.transports.base",
    "Attempt": _ERRORS,
    "AuthenticationError": _ERRORS,
    "BadRequestError": _ERRORS,
    "BulkSend": "._bulk",
    "BulkStats": "._bulk",
    "BulkUpdate": _MODELS,
    "Client": "._sync.client",
    "ConfigurationError": _ERRORS,
    "ConflictError": _ERRORS,
    "CostBreakdown": _MODELS,
    # Also in telnyx_messaging.webhooks: a tracker is fed by webhooks but used when sending
    # (send_many(await_delivery=...), SendResult.delivery), and its error is in the tree.
    "DeliveryOutcome": ".webhooks._tracking",
    "DeliveryTimeoutError": ".webhooks._tracking",
    "DeliveryTracker": ".webhooks._tracking",
    # Drawn in the exception tree, so importable where the tree is (also in webhooks).
    "DuplicateGuardFullError": ".webhooks._dedupe",
    "ErrorDetail": _MODELS,
    "FeatureSet": _MODELS,
    "GroupMmsRow": "._bulk._rows",
    "InternalServerError": _ERRORS,
    "InvalidArgumentError": _ERRORS,
    "JournalError": _ERRORS,
    "LongCodeRow": "._bulk._rows",
    "Media": _MODELS,
    "Message": _MODELS,
    "MessagingFeatures": _MODELS,
    "MobilePhoneNumberMessagingSettings": _MODELS,
    "MemoryBudget": "._bulk",
    "MockTransport": "._http.transports.mock",
    "Money": _MODELS,
    "NoNextPageError": _ERRORS,
    "NotFoundError": _ERRORS,
    "NumberHealth": _MODELS,
    "NumberPoolRow": "._bulk._rows",
    "OptOut": _MODELS,
    "PaceChange": "._bulk",
    "PacingBudget": "._bulk",
    "PacingProfile": "._bulk",
    "PacingSnapshot": "._bulk",
    "Page": "._pagination",
    "PaginationMeta": _MODELS,
    "PauseTooLongError": _ERRORS,
    "PermissionDeniedError": _ERRORS,
    "PhoneNumberMessagingSettings": _MODELS,
    "RateLimitError": _ERRORS,
    "Recipient": _MODELS,
    "Request": "._wire",
    "Response": "._wire",
    "ResponseTooLargeError": _ERRORS,
    "ScheduleRow": "._bulk._rows",
    "SendResult": "._bulk",
    "SendRow": "._bulk._rows",
    "ShortCodeRow": "._bulk._rows",
    "SyncBulkSend": "._sync.bulk",
    "SyncPage": "._sync.pagination",
    "SyncPager": "._sync.pagination",
    "TelnyxError": _ERRORS,
    "Timeout": "._config",
    "UnprocessableEntityError": _ERRORS,
    "WebhookConfigurationError": _ERRORS,
    "WebhookParseError": _ERRORS,
    "WebhookVerificationError": _ERRORS,
    "WhatsAppMessage": _MODELS,
    "WhatsAppRow": "._bulk._rows",
    "__version__": "._version",  # importlib.metadata alone is ~100 modules
    "capture_responses": "._http.loop",
    "new_idempotency_key": "._http.codec",
    "set_instant_retries": "._http.retry",
}
_SUBMODULES = frozenset({"testing", "webhooks"})

if not TYPE_CHECKING:  # pragma: no branch - hidden from type checkers, lest any name pass

    def __getattr__(name: str) -> Any:
        import importlib

        if name in _SUBMODULES:
            return importlib.import_module(f".{name}", __name__)
        module = _LAZY_NAMES.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})
