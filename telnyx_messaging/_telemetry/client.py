"""The request loop with OpenTelemetry: a span per SDK call, a client span per attempt.

A client made with telemetry on gets a :class:`TracedRequestLoop` instead of the plain
:class:`~telnyx_messaging._http.loop.RequestLoop`; one made with it off never loads this module,
so its sends run exactly the code they ran before telemetry existed. The subclass adds, around
the loop's unchanged logic:

- ``call`` / ``call_with``: an INTERNAL span named for the SDK call (``messages.send``) with the
  ``Idempotency-Key``, Telnyx's ``x-request-id``, the message id or what the failure was
  (``error.type``, ``telnyx.outcome_unknown``); the messages sent/failed counters.
- ``send_attempt`` (the loop's per-attempt seam): a CLIENT span per attempt, named and
  attributed per the HTTP semantic conventions, the ``traceparent`` header on the request,
  and ``http.client.request.duration``.
- ``on_retry``: each wait between attempts as an event on the call span (a 429's wait as
  ``telnyx.rate_limit.wait``), counted in ``telnyx.client.retries``; then the caller's hook.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from multidict import CIMultiDict
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from telnyx_messaging._errors import APIConnectionError, APIError, APIStatusError
from telnyx_messaging._http.loop import Connection, OnRetry, RequestLoop
from telnyx_messaging._telemetry import _instruments as names
from telnyx_messaging._telemetry import instruments_for
from telnyx_messaging._telemetry._routes import Route, route
from telnyx_messaging._wire import Request, Response

if TYPE_CHECKING:
    from telnyx_messaging._config import Timeout
    from telnyx_messaging._telemetry import Telemetry
    from telnyx_messaging._telemetry._instruments import Instruments

__all__ = ["TracedRequestLoop", "sender_type"]

T = TypeVar("T")


class _Call:
    """The SDK call under way in this task: its route and span, for its attempts to report to."""

    __slots__ = ("route", "span")

    def __init__(self, found: Route, span: trace.Span) -> None:
        self.route = found
        self.span = span


_current: ContextVar[_Call | None] = ContextVar("telnyx_telemetry_call", default=None)


def sender_type(found: Route, body: Mapping[str, Any] | None) -> str:
    """What kind of sender a send uses, never the sender itself (a number is personal data)."""
    if found.sender_type is not None:
        return found.sender_type
    sender = None if body is None else body.get("from")
    if not isinstance(sender, str):
        return "number_pool"  # a messaging profile picks the number
    if sender.startswith("+"):
        return "phone_number"
    if sender.isdigit():
        return "short_code"
    return "alphanumeric_sender_id"


def _error_type(exc: BaseException) -> str:
    """``error.type`` for a failed call: the SDK's exception class (low cardinality)."""
    return type(exc).__name__


class TracedRequestLoop(RequestLoop):
    """A :class:`RequestLoop` that reports every call, attempt and wait to OpenTelemetry."""

    __slots__ = ("_address", "_base_path", "_caller_on_retry", "_instruments", "_port", "_send")

    def __init__(
        self,
        connection: Connection,
        *,
        base_url: str,
        timeout: Timeout,
        max_retries: int,
        on_retry: OnRetry | None,
        telemetry: Telemetry,
    ) -> None:
        super().__init__(
            connection,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            on_retry=self._before_wait,
        )
        self._caller_on_retry = on_retry
        self._instruments: Instruments = instruments_for(telemetry)
        parts = urlsplit(base_url)
        self._address = parts.hostname or ""
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._base_path = parts.path.rstrip("/")
        self._send = self.send_attempt  # the transport
        self.send_attempt = self._traced_attempt

    # -- calls -------------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        cls: type[T],
        *,
        body: Mapping[str, Any] | None = None,
        query: Sequence[tuple[str, str]] | None = None,
        idempotency_key: str | None = None,
        envelope: bool = True,
    ) -> T:
        found = route(method, path)
        return await self._traced_call(
            found,
            body,
            idempotency_key,
            lambda: RequestLoop.call(
                self,
                method,
                path,
                cls,
                body=body,
                query=query,
                idempotency_key=idempotency_key,
                envelope=envelope,
            ),
        )

    async def call_with(
        self,
        method: str,
        path: str,
        decode: Callable[[Response], T],
        *,
        query: Sequence[tuple[str, str]] | None = None,
    ) -> T:
        found = route(method, path)
        return await self._traced_call(
            found,
            None,
            None,
            lambda: RequestLoop.call_with(self, method, path, decode, query=query),
        )

    async def _traced_call(
        self,
        found: Route,
        body: Mapping[str, Any] | None,
        idempotency_key: str | None,
        run: Callable[[], Coroutine[Any, Any, T]],
    ) -> T:
        instruments = self._instruments
        with instruments.tracer.start_as_current_span(
            found.operation,
            kind=SpanKind.INTERNAL,
            record_exception=False,  # its message may quote a number; error.type says enough
            set_status_on_exception=False,
        ) as span:
            if span.is_recording():
                span.set_attributes(self._call_attributes(found, body, idempotency_key))
            token = _current.set(_Call(found, span))
            try:
                result = await run()
            except Exception as exc:
                self._call_failed(span, found, body, exc)
                raise
            finally:
                _current.reset(token)
            if found.creates_message:
                instruments.messages_sent.add(
                    1,
                    {names.OPERATION: found.operation, names.SENDER_TYPE: sender_type(found, body)},
                )
                message_id = getattr(result, "id", None)
                if message_id is not None:
                    span.set_attribute(names.MESSAGE_ID, message_id)
            return result

    def _call_attributes(
        self, found: Route, body: Mapping[str, Any] | None, idempotency_key: str | None
    ) -> dict[str, Any]:
        attributes: dict[str, Any] = {names.OPERATION: found.operation}
        if idempotency_key is not None:
            attributes[names.IDEMPOTENCY_KEY] = idempotency_key
        if found.creates_message:
            attributes[names.SENDER_TYPE] = sender_type(found, body)
            if body is not None:
                if self._instruments.record_phone_numbers:
                    to = body.get("to")
                    if to is not None:
                        attributes[names.MESSAGE_TO] = to if isinstance(to, str) else list(to)
                    if isinstance(body.get("from"), str):
                        attributes[names.MESSAGE_FROM] = body["from"]
                if self._instruments.record_message_text and isinstance(body.get("text"), str):
                    attributes[names.MESSAGE_TEXT] = body["text"]
        return attributes

    def _call_failed(
        self, span: trace.Span, found: Route, body: Mapping[str, Any] | None, exc: Exception
    ) -> None:
        error_type = _error_type(exc)
        span.set_status(Status(StatusCode.ERROR, error_type))
        attributes: dict[str, Any] = {names.ERROR_TYPE: error_type}
        failure = exc if isinstance(exc, APIError) else exc.__cause__
        if isinstance(failure, APIError):
            attributes[names.OUTCOME_UNKNOWN] = failure.outcome_unknown
            if failure.request_id is not None:
                span.set_attribute(names.REQUEST_ID, failure.request_id)
            if failure.history:
                span.set_attribute(names.ATTEMPTS, len(failure.history))
            if isinstance(failure, APIStatusError):
                attributes[names.HTTP_RESPONSE_STATUS_CODE] = failure.status
                if failure.codes:
                    attributes[names.ERROR_CODE] = failure.codes[0]
        span.set_attributes(attributes)
        if found.creates_message:
            attributes[names.OPERATION] = found.operation
            attributes[names.SENDER_TYPE] = sender_type(found, body)
            self._instruments.messages_failed.add(1, attributes)

    # -- attempts ----------------------------------------------------------------------------

    async def _traced_attempt(self, request: Request) -> Response:
        instruments = self._instruments
        call = _current.get()
        method = request.method
        path = request.url[len(self.base_url) :]
        found = call.route if call is not None else route(method, path)
        template = self._base_path + found.template
        common: dict[str, Any] = {
            names.HTTP_REQUEST_METHOD: method,
            names.SERVER_ADDRESS: self._address,
            names.SERVER_PORT: self._port,
            names.URL_TEMPLATE: template,
        }
        attributes = dict(common)
        if request.attempt > 1:
            attributes[names.HTTP_REQUEST_RESEND_COUNT] = request.attempt - 1
        started = time.perf_counter()
        with instruments.tracer.start_as_current_span(
            f"{method} {template}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            if span.get_span_context().is_valid:  # a trace to carry on: W3C traceparent
                headers: CIMultiDict[str] = CIMultiDict(request.headers)
                propagate.inject(headers)
                request.headers = headers
            if span.is_recording():
                span.set_attribute(names.URL_FULL, self._full_url(request, found))
                key = request.headers.get("Idempotency-Key")
                if key is not None:
                    span.set_attribute(names.HTTP_REQUEST_HEADER_IDEMPOTENCY_KEY, (key,))
            try:
                response = await self._send(request)
            except BaseException as exc:
                error_type = exc.kind if isinstance(exc, APIConnectionError) else _error_type(exc)
                span.set_attribute(names.ERROR_TYPE, error_type)
                span.set_status(Status(StatusCode.ERROR, error_type))
                common[names.ERROR_TYPE] = error_type
                instruments.request_duration.record(time.perf_counter() - started, common)
                raise
            status = response.status
            common[names.HTTP_RESPONSE_STATUS_CODE] = status
            span.set_attribute(names.HTTP_RESPONSE_STATUS_CODE, status)
            if status >= 400:
                common[names.ERROR_TYPE] = str(status)
                span.set_attribute(names.ERROR_TYPE, str(status))
                span.set_status(Status(StatusCode.ERROR))
            request_id = response.headers.get("x-request-id")
            if request_id is not None:
                span.set_attribute(names.HTTP_RESPONSE_HEADER_X_REQUEST_ID, (request_id,))
                if call is not None:
                    call.span.set_attribute(names.REQUEST_ID, request_id)
            if call is not None:
                call.span.set_attribute(names.ATTEMPTS, request.attempt)
            instruments.request_duration.record(time.perf_counter() - started, common)
            return response

    def _full_url(self, request: Request, found: Route) -> str:
        """``url.full`` without the query (its filters may name numbers); an id that is a
        phone number is redacted unless numbers are opted in."""
        if "/phone_numbers/{id}" in found.template and not self._instruments.record_phone_numbers:
            return self.base_url + found.template.replace("{id}", "REDACTED")
        return request.url

    # -- waits -------------------------------------------------------------------------------

    def _before_wait(self, failure: APIError, wait: float) -> object:
        """Report a wait between attempts, then call the caller's ``on_retry``."""
        instruments = self._instruments
        call = _current.get()
        operation = call.route.operation if call is not None else "unknown"
        status = getattr(failure, "status", None)
        error_type = (
            str(status)
            if status is not None
            else failure.kind
            if isinstance(failure, APIConnectionError)
            else _error_type(failure)
        )
        if status == 429:
            if call is not None:
                call.span.add_event(names.EVENT_RATE_LIMIT_WAIT, {names.WAIT_SECONDS: wait})
            instruments.rate_limit_pauses.record(
                wait, {names.OPERATION: operation, names.RATE_LIMIT_SOURCE: "server"}
            )
        elif call is not None:
            call.span.add_event(
                names.EVENT_RETRY_WAIT, {names.WAIT_SECONDS: wait, names.ERROR_TYPE: error_type}
            )
        instruments.retries.add(1, {names.OPERATION: operation, names.ERROR_TYPE: error_type})
        if self._caller_on_retry is not None:
            return self._caller_on_retry(failure, wait)
        return None
