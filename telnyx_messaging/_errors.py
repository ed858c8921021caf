"""Every exception the SDK raises.

The tree says whose fault a failure is, as h11 does (``LocalProtocolError`` against
``RemoteProtocolError``): something to fix in the calling code, something Telnyx answered,
or the network between the two::

    TelnyxError
    ├── InvalidArgumentError        you passed something the API cannot take (also a ValueError
    │                               and a TypeError, so ``except ValueError`` keeps working)
    ├── ConfigurationError          no API key / public key, or a client used after close()
    │   ├── WebhookConfigurationError   the webhook public key is missing or malformed: raised
    │   │                           when a verifier is built; also a WebhookVerificationError
    │   └── JournalError            a send_many journal that is damaged, foreign or cannot be
    │                               written (disk full); names the file and what to do
    ├── AlreadySentError            send_many: Telnyx already created this row's message under
    │                               its key, with other content (a 422), so it was not sent again
    ├── NoNextPageError             page.next_page() on the last page (also a LookupError)
    ├── DeliveryTimeoutError        DeliveryTracker.wait() ran out of time (also a TimeoutError)
    ├── PauseTooLongError           send_many: Telnyx asked for a wait past max_pause (``.wait``)
    ├── WebhookVerificationError    a webhook's signature, timestamp or key did not check out
    ├── WebhookParseError           a (verified) webhook body this SDK cannot read; a ValueError
    ├── DuplicateGuardFullError     a duplicate guard cannot remember one more event (a receiver
    │                               answers 503 so Telnyx delivers it again later)
    ├── APIError                    Telnyx (or the network to it) failed the call
    │   ├── APIConnectionError      no answer: refused, reset, dropped mid-answer, DNS
    │   │   └── APITimeoutError     no answer within the timeout
    │   ├── APIResponseValidationError  an answer that is not what the spec promises
    │   │   └── ResponseTooLargeError   an answer over the client's max_response_size
    │   └── APIStatusError          an HTTP error status; ``.status``, ``.errors``, ``.headers``
    │       ├── BadRequestError             400
    │       ├── AuthenticationError         401
    │       ├── PermissionDeniedError       403
    │       ├── NotFoundError               404
    │       ├── ConflictError               409
    │       ├── UnprocessableEntityError    422
    │       ├── RateLimitError              429 (``.retry_after``)
    │       └── InternalServerError         >= 500

Every ``APIError`` knows how many attempts were made (``.attempts``), what each of them met
(``.history``), whether the call may have been carried out all the same
(``.outcome_unknown``), whether it was worth retrying (``.retryable``), Telnyx's
``x-request-id`` (``.request_id``), the ``Idempotency-Key`` it sent (``.idempotency_key``) and,
where an answer arrived, the raw response (``.response``). No exception text, attribute or
chained exception ever holds the API key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from attrs import frozen

if TYPE_CHECKING:
    from telnyx_messaging._models import ErrorDetail
    from telnyx_messaging._wire import Response

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AlreadySentError",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "InvalidArgumentError",
    "JournalError",
    "NoNextPageError",
    "NotFoundError",
    "PauseTooLongError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "TelnyxError",
    "UnprocessableEntityError",
    "WebhookConfigurationError",
    "WebhookParseError",
    "WebhookVerificationError",
]


class TelnyxError(Exception):
    """The root of every exception this SDK raises."""


class InvalidArgumentError(TelnyxError, ValueError, TypeError):
    """An argument the API cannot take; raised before anything is sent."""


class ConfigurationError(TelnyxError):
    """The client is not set up to do what was asked (a key is missing, or it is closed)."""


class JournalError(ConfigurationError):
    """A ``send_many`` journal cannot be used: damaged, not a journal, or not writable.

    The message names the file and what to do. Raised when the run starts (a file that fails
    its checks is never written to), or from ``async for`` when a write fails mid-run (a
    full disk): the run stops, every row read has its result or is in ``not_started`` /
    ``unfinished``.

    .. versionadded:: 0.2.0
    """


class AlreadySentError(TelnyxError):
    """A ``send_many`` row Telnyx refused with 422 because its Idempotency-Key was already
    used for a request with other content (Telnyx replays only a byte-identical request).

    A message was created under that key before, from the other content: this row was not
    sent again, and retrying it cannot change that. ``idempotency_key`` is the key; the 422
    is ``__cause__``.

    .. versionadded:: 0.2.0
    """

    def __init__(self, message: str, idempotency_key: str | None = None) -> None:
        super().__init__(message)
        self.idempotency_key = idempotency_key

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.idempotency_key))


class NoNextPageError(TelnyxError, LookupError):
    """:meth:`Page.next_page <telnyx_messaging.Page.next_page>` was called on the last page.

    The caller's to fix: check ``page.has_next_page()`` first, or let ``async for`` walk the
    pages. Also a ``LookupError``, as asking past the end of a sequence is.

    .. versionadded:: 0.2.0
    """


class PauseTooLongError(TelnyxError):
    """A bulk run stopped rather than wait ``wait`` seconds, longer than its ``max_pause``:
    a 429's ``Retry-After``, or a 10DLC daily cap reached. Raised from ``async for``; the
    rows not sent are the run's ``not_started`` and ``unfinished``.

    .. versionadded:: 0.2.0
    """

    def __init__(self, message: str, *, wait: float, max_pause: float) -> None:
        super().__init__(message)
        self.wait = wait
        self.max_pause = max_pause


class WebhookVerificationError(TelnyxError):
    """A webhook did not verify. ``reason`` says what to fix; the key is never in it.

    ``code`` is a short, stable word for counting refusals (``"missing_header"``,
    ``"stale"``, ``"signature_mismatch"``...); ``reason`` is the sentence for people.
    """

    def __init__(self, reason: str, *, code: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class WebhookConfigurationError(ConfigurationError, WebhookVerificationError):
    """The webhook public key is missing or malformed: fix the configuration.

    Raised when a verifier or handler is built, so a bad key stops the app at start-up
    instead of answering 401 to every webhook. It is also a ``WebhookVerificationError``,
    so code that verifies per request with a bad key still fails closed.

    .. versionadded:: 0.2.0
    """


class WebhookParseError(TelnyxError, ValueError):
    """A webhook body that is not one this SDK can read: not JSON, or no ``data`` object.

    Raised by ``webhooks.parse``, and by ``webhooks.unwrap`` for a body that verified but does
    not parse. Also a ``ValueError``, as ``json.loads`` would raise.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@frozen
class Attempt:
    """What one attempt of a call met: an answer (``status``) or a failure (``error``).

    ``error`` names the kind of failure (``"APITimeoutError"``, ``"ServerDisconnectedError"``)
    when no answer arrived. ``maybe_processed`` is ``False`` only when Telnyx surely did not act
    on the attempt: it never reached Telnyx (the connection could not be opened) or Telnyx
    refused it (4xx, 503). ``elapsed`` is in seconds.

    .. versionadded:: 0.2.0
    """

    number: int
    status: int | None
    error: str | None
    request_id: str | None
    elapsed: float
    maybe_processed: bool


class APIError(TelnyxError):
    """A call to the Telnyx API failed.

    ``attempts`` counts every try made for this call, retries included; ``history`` holds an
    :class:`Attempt` for each. ``outcome_unknown`` is ``True`` when a call that changes
    something (a send, an update) may have been carried out all the same: an answer was lost,
    or Telnyx failed in a way that does not say. Resend such a call only with the same
    ``idempotency_key`` (the key it sent, ``None`` for calls that send none), so Telnyx acts
    on it once. ``retryable`` says whether the last failure was worth another attempt;
    ``request_id`` is Telnyx's ``x-request-id``, for support.

    .. versionadded:: 0.2.0 ``history``, ``outcome_unknown``, ``retryable``, ``request_id``,
       ``idempotency_key``.
    """

    # Class defaults: errors built by hand (or by a custom transport) read sensibly before the
    # client fills them in.
    history: tuple[Attempt, ...] = ()
    outcome_unknown: bool = False
    retryable: bool = False
    request_id: str | None = None
    idempotency_key: str | None = None
    #: Extra sentence the client adds when it knows more (what to do with an unknown outcome).
    _advice: str = ""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        attempts: int = 1,
        response: Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.attempts = attempts
        self.response = response

    def __str__(self) -> str:
        tries = "" if self.attempts == 1 else f" (after {self.attempts} attempts)"
        return f"{self.message}{tries}{self._advice}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only __init__ and aiohttp's read-only header views do not pickle as they
        # are; errors must cross process boundaries (task queues, process pools) intact.
        state = {k: _picklable(v) for k, v in self.__dict__.items()}
        return (_rebuild_error, (type(self), state))


class APIConnectionError(APIError):
    """No usable answer arrived: the connection failed, was reset, or the answer was cut off.

    ``request_sent`` is ``False`` when the request surely never reached Telnyx (the
    connection could not be opened); otherwise Telnyx may have received and acted on it.
    ``kind`` names the failure underneath (e.g. aiohttp's ``"ServerDisconnectedError"``), which
    is not chained: aiohttp's exceptions hold our request headers, the API key among them.
    ``elapsed`` is how long the attempt took, in seconds.

    .. versionadded:: 0.2.0 ``request_sent``, ``kind``, ``elapsed``.
    """

    def __init__(
        self,
        message: str,
        *,
        request_sent: bool = True,
        kind: str | None = None,
        elapsed: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.request_sent = request_sent
        self.kind = kind or type(self).__name__
        self.elapsed = elapsed


class APITimeoutError(APIConnectionError):
    """No answer arrived within the timeout."""


class APIResponseValidationError(APIError):
    """Telnyx answered with a body that is not what the API spec promises.

    The raw body is kept in ``.response.body`` so nothing is lost. For a call that creates
    something (a send), Telnyx accepted the request: the message may well exist, so the error
    is ``outcome_unknown`` and carries the ``idempotency_key`` to resend with, if at all.
    """


class ResponseTooLargeError(APIResponseValidationError):
    """An answer larger than the client's ``max_response_size`` (decompressed); never retried.

    No Telnyx answer comes near the default limit (10 MiB): this is a broken proxy, or a
    server that is not Telnyx. ``limit`` is the size in bytes that was exceeded.

    .. versionadded:: 0.2.0
    """

    def __init__(self, message: str, *, limit: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit


class APIStatusError(APIError):
    """Telnyx answered with an HTTP error status.

    ``errors`` holds Telnyx's parsed error list (``code``, ``title``, ``detail``, ``source``).
    """

    status: int

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        status: int,
        headers: Mapping[str, str],
        errors: Sequence[ErrorDetail] = (),
        attempts: int = 1,
        response: Response | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, attempts=attempts, response=response)
        self.status = status
        self.headers = headers
        self.errors = tuple(errors)

    @property
    def codes(self) -> tuple[str, ...]:
        """Telnyx's error codes (``"10011"``...), in the order they came."""
        return tuple(e.code for e in self.errors if e.code is not None)


class BadRequestError(APIStatusError):
    """400: the request was malformed."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this (or the number/profile is not yours)."""


class NotFoundError(APIStatusError):
    """404: no such message, number or order."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's state."""


class UnprocessableEntityError(APIStatusError):
    """422: Telnyx understood the request but will not do it; ``errors`` says why."""


class RateLimitError(APIStatusError):
    """429: too many requests. ``retry_after`` is the wait Telnyx asked for, in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: Telnyx failed; usually worth retrying, which the client does for you."""


def _picklable(value: Any) -> Any:
    # A Response pickles itself; header views straight from aiohttp need copying.
    if isinstance(value, Mapping) and not isinstance(value, dict):
        from telnyx_messaging._wire import picklable_headers

        return picklable_headers(value)
    return value


def _rebuild_error(cls: type[APIError], state: dict[str, Any]) -> APIError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message"))
    error.__dict__.update(state)
    return error


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class_for_status(status: int) -> type[APIStatusError]:
    """The most specific exception class for an HTTP error status."""
    if status >= 500:
        return InternalServerError
    return _STATUS_ERRORS.get(status, APIStatusError)
