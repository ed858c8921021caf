"""telnyx-messaging: an async-first SDK for the Telnyx Messaging API v2.

::

    from telnyx_messaging import AsyncClient

    async with AsyncClient() as client:  # TELNYX_API_KEY from the environment
        msg = await client.messages.send(to="+13125550002", from_="+18445550001", text="Hi")

Webhooks live in :mod:`telnyx_messaging.webhooks`; a local stand-in for the API and a webhook
signer for your tests in :mod:`telnyx_messaging.testing`.
"""

from __future__ import annotations

from ._bulk import BulkSend, BulkStats, SendResult
from ._client import AsyncClient, Timeout, capture_responses
from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TelnyxError,
    UnprocessableEntityError,
    WebhookParseError,
    WebhookVerificationError,
)
from ._http import Response
from ._models import (
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
    WhatsAppMessage,
)
from ._pagination import AsyncPager, Page
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "Address",
    "AsyncClient",
    "AsyncPager",
    "AuthenticationError",
    "BadRequestError",
    "BulkSend",
    "BulkStats",
    "BulkUpdate",
    "ConfigurationError",
    "ConflictError",
    "CostBreakdown",
    "ErrorDetail",
    "FeatureSet",
    "InternalServerError",
    "InvalidArgumentError",
    "Media",
    "Message",
    "MessagingFeatures",
    "MobilePhoneNumberMessagingSettings",
    "Money",
    "NotFoundError",
    "NumberHealth",
    "OptOut",
    "Page",
    "PaginationMeta",
    "PermissionDeniedError",
    "PhoneNumberMessagingSettings",
    "RateLimitError",
    "Response",
    "SendResult",
    "TelnyxError",
    "Timeout",
    "UnprocessableEntityError",
    "WebhookParseError",
    "WebhookVerificationError",
    "WhatsAppMessage",
    "__version__",
    "capture_responses",
]
