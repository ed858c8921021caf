"""The request loop with OpenTelemetry: a span per SDK call, a client span per attempt.

A client made with telemetry on gets a :class:`TracedRequestLoop` instead of the plain
:class:`~telnyx_messaging._http.loop.RequestLoop`; one made with it off never loads this module,
so its sends run exactly the code they ran before telemetry existed. The subclass adds, around
the loop's unchanged logic:

- ``call`` / ``call_with``: an INTERNAL span named for the SDK call (``messages.send``) with the
  ``Idempotency-Key``, Telnyx's ``x-request-id``, the message id or what the failure was
  (``error.type``, ``telnyx.outcome_unknown``); the messages sent/failed counters.
- ``send_attempt`` (the loop's per-attempt seam) opens a CLIENT span per attempt, named and
  attributed per the HTTP semantic conventions, and puts its ``traceparent`` on the request;
  ``_finish`` (an answer) or ``_before_wait`` / ``_conclude`` (no answer) close it and record
  ``http.client.request.duration``.
- ``on_retry``: each wait between attempts as an event on the call span (a 429's wait as
  ``telnyx.rate_limit.wait``), counted in ``telnyx.client.retries``; then the caller's hook.

Why attempts are opened and closed from plain methods rather than wrapped in a coroutine of
their own: aiohttp resumes a request's coroutine chain dozens of times, and every frame in
that chain is walked again on each resume. A wrapper frame per attempt cost about 40K
instructions a send (callgrind), more than everything else here together.

With no trace to extend (OpenTelemetry's no-op tracer and no incoming trace) a call only
counts: it fills in the record its task's last such call left current instead of setting a new
one (new objects per send doubled the garbage collector's runs), and records its metrics with
attribute mappings made once per route. benchmarks/README.md has the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextvars import ContextVar, Token
from functools import partial
from threading import get_ident
from time import perf_counter
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit

from multidict import CIMultiDict
from opentelemetry import context, propagate, trace
from opentelemetry.trace import INVALID_SPAN, Link, SpanKind, Status, StatusCode

from telnyx_messaging._errors import APIConnectionError, APIError, APIStatusError, Attempt
from telnyx_messaging._http.loop import Connection, OnRetry, RequestLoop
from telnyx_messaging._telemetry import BulkRun, bulk_run, instruments_for
from telnyx_messaging._telemetry import _instruments as names
from telnyx_messaging._telemetry._inbound import remember_send
from telnyx_messaging._telemetry._routes import Route, is_static, route
from telnyx_messaging._wire import Request, Response

if TYPE_CHECKING:
    from telnyx_messaging._config import Timeout
    from telnyx_messaging._telemetry import Telemetry
    from telnyx_messaging._telemetry._instruments import Instruments

__all__ = ["TracedRequestLoop", "sender_type"]

T = TypeVar("T")
K = TypeVar("K")


class _Made(dict[K, dict[str, Any]], Generic[K]):
    """Attribute mappings by key, each made by ``make`` on its first use and kept: a hit is
    one dict look-up, with no call of ours."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[K], dict[str, Any]]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: K) -> dict[str, Any]:
        made = self[key] = self._make(key)
        return made


class _Report:
    """What every call of one route reports with, made once per loop: ``url.template``, the
    attempt span's name, and the attribute mappings its metrics are recorded with.

    The mappings are shared by every call and never changed once made (an OpenTelemetry SDK
    keeps the mapping it is given for its data point): a send builds no dict for its metrics.
    """

    __slots__ = ("_attempt", "answered", "operation", "route", "sent", "span_name", "unanswered")

    def __init__(self, found: Route, method: str, attempt: dict[str, Any]) -> None:
        self.route = found
        self.operation = found.operation
        self.span_name = f"{method} {attempt[names.URL_TEMPLATE]}"
        #: An attempt's attributes before its outcome: method, server, url.template.
        self._attempt = attempt
        # Made by functions of the attempt's attributes, not by methods: no reference cycle.
        #: A duration's attributes, by the status that answered the attempt.
        self.answered: _Made[int] = _Made(partial(_answered, attempt))
        #: A duration's attributes, by what an attempt with no answer met (``error.type``).
        self.unanswered: _Made[str] = _Made(partial(_unanswered, attempt))
        #: ``telnyx.messages.sent``'s attributes, by the kind of sender.
        self.sent: _Made[str] = _Made(partial(_sent, found.operation))

    def attempt_attributes(self) -> dict[str, Any]:
        """An attempt span's attributes to start with: a copy of its own."""
        return dict(self._attempt)


def _answered(attempt: dict[str, Any], status: int) -> dict[str, Any]:
    attributes = {**attempt, names.HTTP_RESPONSE_STATUS_CODE: status}
    if status >= 400:
        attributes[names.ERROR_TYPE] = str(status)
    return attributes


def _unanswered(attempt: dict[str, Any], error_type: str) -> dict[str, Any]:
    return {**attempt, names.ERROR_TYPE: error_type}


def _sent(operation: str, kind: str) -> dict[str, Any]:
    return {names.OPERATION: operation, names.SENDER_TYPE: kind}


class _Call:
    """The SDK call under way in this task, and its attempt in flight, if any."""

    __slots__ = (
        "attached",
        "attempt_span",
        "body",
        "busy",
        "owner",
        "parent",
        "report",
        "span",
        "started",
        "token",
    )

    def __init__(self, report: _Report, span: trace.Span, body: Mapping[str, Any] | None) -> None:
        self.report = report
        self.span = span
        self.body = body
        #: The context the attempt spans are children in; None when there is no trace to
        #: extend (the API's no-op provider and no incoming trace): then attempts make no span.
        self.parent: context.Context | None = None
        self.attached: object = None
        self.token: Token[_Call | None] | None = None
        #: Whether a call is under way with this record. An untraced call's record is used
        #: again by the next untraced call of the task once this is False (see _untraced).
        self.busy = True
        #: The thread it was made in, the only one to use it again: a thread started with a
        #: copy of the context sees it too, and ``busy`` is checked and set without a lock.
        self.owner = get_ident()
        #: The attempt in flight: when it started, and its span.
        self.started: float | None = None
        self.attempt_span: trace.Span | None = None


_current: ContextVar[_Call | None] = ContextVar("telnyx_telemetry_call", default=None)
#: An empty context: a span started in it begins a trace of its own.
_NEW_TRACE = context.Context()


def sender_type(found: Route, body: Mapping[str, Any] | None) -> str:
    """What kind of sender a send uses, never the sender itself (a number is personal data)."""
    if found.sender_type is not None:
        return found.sender_type
    sender = None if body is None else body.get("from")
    if not sender or not isinstance(sender, str):
        return "number_pool"  # a messaging profile picks the number
    if sender[0] == "+":
        return "phone_number"
    if sender.isdigit():
        return "short_code"
    return "alphanumeric_sender_id"


def _error_type(exc: BaseException) -> str:
    """``error.type`` for a failed call: the SDK's exception class (low cardinality)."""
    return type(exc).__name__


def _attempt_error_type(exc: BaseException) -> str:
    """``error.type`` for an attempt with no answer: the failure underneath (a timeout, a
    dropped connection), as the HTTP conventions ask."""
    return exc.kind if isinstance(exc, APIConnectionError) else type(exc).__name__


def _failure_attributes(exc: BaseException) -> dict[str, Any]:
    """What a failed call is counted and marked by: its class, status, code, and whether the
    message may have gone all the same. Never its message (it can quote a number)."""
    attributes: dict[str, Any] = {names.ERROR_TYPE: _error_type(exc)}
    failure = exc if isinstance(exc, APIError) else exc.__cause__
    if isinstance(failure, APIError):
        attributes[names.OUTCOME_UNKNOWN] = failure.outcome_unknown
        if isinstance(failure, APIStatusError):
            attributes[names.HTTP_RESPONSE_STATUS_CODE] = failure.status
            if failure.codes:
                attributes[names.ERROR_CODE] = failure.codes[0]
    return attributes


class TracedRequestLoop(RequestLoop):
    """A :class:`RequestLoop` that reports every call, attempt and wait to OpenTelemetry."""

    __slots__ = (
        "_address",
        "_base_path",
        "_by_operation",
        "_by_path",
        "_caller_on_retry",
        "_instruments",
        "_port",
        "_send",
        "_telemetry",
    )

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
        self._telemetry = telemetry
        self._instruments: Instruments = instruments_for(telemetry)
        parts = urlsplit(base_url)
        self._address = parts.hostname or ""
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._base_path = parts.path.rstrip("/")
        #: What each route reports with, made on its first call: by operation, and by method
        #: and path for the fixed paths (one look-up per call; a path with an id is not kept).
        self._by_operation: dict[str, _Report] = {}
        self._by_path: dict[tuple[str, str], _Report] = {}
        self._send = self.send_attempt  # the transport
        self.send_attempt = self._open_attempt

    def with_max_retries(self, max_retries: int) -> TracedRequestLoop:
        """The same loop with another retry count, still reporting (send_many's one-attempt
        sends)."""
        return TracedRequestLoop(
            self.connection,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=max_retries,
            on_retry=self._caller_on_retry,
            telemetry=self._telemetry,
        )

    # -- calls -------------------------------------------------------------------------------
    # Plain start/end calls around the loop's own coroutine, not a context manager: on with the
    # no-op provider, the span machinery must cost next to nothing (benchmarks/README.md).

    def call(
        self,
        method: str,
        path: str,
        cls: type[T],
        *,
        body: Mapping[str, Any] | None = None,
        query: Sequence[tuple[str, str]] | None = None,
        idempotency_key: str | None = None,
        envelope: bool = True,
    ) -> Coroutine[Any, Any, T]:
        call = self._start(method, path, body, idempotency_key)
        running = RequestLoop.call(
            self,
            method,
            path,
            cls,
            body=body,
            query=query,
            idempotency_key=idempotency_key,
            envelope=envelope,
        )
        if call.parent is None:
            # No trace to extend: metrics only, counted by _finish and _conclude. The loop's
            # own coroutine, with no frame of ours to walk on each of aiohttp's resumes.
            return running
        return self._traced(call, running)

    def call_with(
        self,
        method: str,
        path: str,
        decode: Callable[[Response], T],
        *,
        query: Sequence[tuple[str, str]] | None = None,
    ) -> Coroutine[Any, Any, T]:
        call = self._start(method, path, None, None)
        running = RequestLoop.call_with(self, method, path, decode, query=query)
        return running if call.parent is None else self._traced(call, running)

    async def _traced(self, call: _Call, running: Coroutine[Any, Any, T]) -> T:
        """Await the call inside its span, and close the span with what came of it."""
        try:
            result = await running
        except BaseException as exc:
            self._end(call, exc)
            raise
        self._end(call, None, getattr(result, "id", None))
        return result

    def _report(self, method: str, path: str) -> _Report:
        """What calls of ``method path`` report with, for a path not found in ``_by_path``
        (made on the route's first call)."""
        found = route(method, path)
        report = self._by_operation.get(found.operation)
        if report is None:
            attempt = {
                names.HTTP_REQUEST_METHOD: method,
                names.SERVER_ADDRESS: self._address,
                names.SERVER_PORT: self._port,
                names.URL_TEMPLATE: self._base_path + found.template,
            }
            report = self._by_operation[found.operation] = _Report(found, method, attempt)
        if is_static(method, path):
            self._by_path[(method, path)] = report
        return report

    def _start(
        self, method: str, path: str, body: Mapping[str, Any] | None, idempotency_key: str | None
    ) -> _Call:
        """Open the call's span (a child of the current one) and make it current."""
        report = self._by_path.get((method, path)) or self._report(method, path)
        run = bulk_run.get()
        if run is None:
            # The defaults (the current context, INTERNAL), and no keyword: the API's proxy
            # tracer forwards **kwargs, a dict per call.
            span = self._instruments.tracer.start_span(report.operation)
        else:
            span = self._row_span(run, report.route)
        # INVALID_SPAN is what the no-op tracer gives when there is no trace: asked first, as
        # it is the common case with no SDK and costs one comparison.
        if span is INVALID_SPAN or not span.get_span_context().is_valid:
            call = _current.get()
            if call is None or call.busy or call.owner != get_ident():
                return self._untraced(report, span, body)
            # The record this task's last untraced call left current, filled in again.
            call.report = report
            call.span = span
            call.body = body
            call.started = None
            call.busy = True
            return call
        call = _Call(report, span, body)
        if span.is_recording():
            span.set_attributes(self._call_attributes(report.route, body, idempotency_key))
        call.parent = trace.set_span_in_context(span)
        # Callbacks and transports under it see it as the current span.
        call.attached = context.attach(call.parent)
        call.token = _current.set(call)  # _end resets it
        return call

    @staticmethod
    def _untraced(report: _Report, span: trace.Span, body: Mapping[str, Any] | None) -> _Call:
        """A new record for an untraced call, made current, for _start to fill in again for the
        task's next untraced calls.

        There is no frame of ours around an untraced call to reset the context variable in, so
        a record stays set until it is replaced. Setting a new one per call (a record and a
        new context mapping per send, each living on past its call) doubled the garbage
        collector's runs per send over loopback (benchmarks/README.md). ``busy`` keeps a
        record to one call at a time: a task started from another (its context a copy of the
        other's) that finds the record busy makes its own; so does a thread (``owner``).
        """
        call = _Call(report, span, body)
        # The token is dropped: it holds the value this one replaced, so keeping it would chain
        # every record of the task together.
        _current.set(call)
        return call

    def _row_span(self, run: BulkRun, found: Route) -> trace.Span:
        """A send_many row's span: a trace of its own, linked to the run's span (made by the
        first row), so a run of a million rows is not one trace of a million spans."""
        tracer = self._instruments.tracer
        if run.span is None:
            run.span = tracer.start_span(
                "messages.send_many",
                kind=SpanKind.INTERNAL,
                start_time=run.started,
                attributes={names.BULK_VIA: run.via, names.BULK_CONCURRENCY: run.concurrency},
            )
        linked = run.span.get_span_context()
        return tracer.start_span(
            found.operation,
            context=_NEW_TRACE,
            kind=SpanKind.INTERNAL,
            links=[Link(linked)] if linked.is_valid else None,
        )

    def _end(self, call: _Call, failure: BaseException | None, message_id: Any = None) -> None:
        """Close the call's span with what came of it, and count the message."""
        if call.token is not None:
            _current.reset(call.token)
        if call.attached is not None:
            context.detach(call.attached)  # type: ignore[arg-type]
        if call.started is not None and failure is not None:  # cancelled mid-attempt
            self._close_attempt(call, failure, None)
        report = call.report
        found = report.route
        span = call.span
        if failure is not None:
            self._call_failed(span, found, call.body, failure)
        elif found.creates_message:
            self._instruments.messages_sent.add(1, report.sent[sender_type(found, call.body)])
            if message_id is not None and call.parent is not None:
                span.set_attribute(names.MESSAGE_ID, message_id)
                remember_send(message_id, span.get_span_context())  # for a delivery wait
        span.end()

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
        self, span: trace.Span, found: Route, body: Mapping[str, Any] | None, exc: BaseException
    ) -> None:
        error_type = _error_type(exc)
        span.set_status(Status(StatusCode.ERROR, error_type))
        attributes = _failure_attributes(exc)
        failure = exc if isinstance(exc, APIError) else exc.__cause__
        if isinstance(failure, APIError):
            if failure.request_id is not None:
                span.set_attribute(names.REQUEST_ID, failure.request_id)
            if failure.history:
                span.set_attribute(names.ATTEMPTS, len(failure.history))
        span.set_attributes(attributes)
        if found.creates_message and isinstance(exc, Exception):  # not a cancelled send
            self._count_failed(found, body, attributes)

    def _count_failed(
        self, found: Route, body: Mapping[str, Any] | None, attributes: dict[str, Any]
    ) -> None:
        attributes[names.OPERATION] = found.operation
        attributes[names.SENDER_TYPE] = sender_type(found, body)
        self._instruments.messages_failed.add(1, attributes)

    # -- attempts ----------------------------------------------------------------------------

    def _open_attempt(self, request: Request) -> Coroutine[Any, Any, Response]:
        """Start an attempt's clock (and span), then hand the request to the transport."""
        call = _current.get()
        if call is None or not call.busy:
            # A bare request() outside call()/call_with(): nothing to report to.
            return self._send(request)
        if call.parent is not None:
            self._attempt_span(call, request)
        call.started = perf_counter()
        return self._send(request)

    def _attempt_span(self, call: _Call, request: Request) -> None:
        """The attempt's CLIENT span, and its ``traceparent`` on the request."""
        report = call.report
        attributes = report.attempt_attributes()
        if request.attempt > 1:
            attributes[names.HTTP_REQUEST_RESEND_COUNT] = request.attempt - 1
        span = self._instruments.tracer.start_span(
            report.span_name, context=call.parent, kind=SpanKind.CLIENT, attributes=attributes
        )
        call.attempt_span = span
        # A copy: the loop's headers are shared by every call of the client.
        headers: CIMultiDict[str] = CIMultiDict(request.headers)
        propagate.inject(headers, context=trace.set_span_in_context(span, call.parent))
        request.headers = headers
        if span.is_recording():
            span.set_attribute(names.URL_FULL, self._full_url(request, call.report.route))
            key = headers.get("Idempotency-Key")
            if key is not None:
                span.set_attribute(names.HTTP_REQUEST_HEADER_IDEMPOTENCY_KEY, (key,))

    def _finish(self, response: Response) -> Response:
        call = _current.get()
        if call is None or call.started is None:
            return RequestLoop._finish(self, response)
        if call.parent is not None:
            self._close_attempt(call, None, response)
            return RequestLoop._finish(self, response)
        # Untraced: no attempt span to end (_close_attempt's work, inline), and no _end: a 2xx
        # is the call's last attempt, counted here. (If it does not structure, _conclude
        # follows at once, with no await between.)
        elapsed = perf_counter() - call.started
        call.started = None
        status = response.status
        report = call.report
        self._instruments.request_duration.record(elapsed, report.answered[status])
        if status < 300:
            call.busy = False
            if report.route.creates_message:
                kind = sender_type(report.route, call.body)
                self._instruments.messages_sent.add(1, report.sent[kind])
        return RequestLoop._finish(self, response)

    def _close_attempt(
        self, call: _Call, failure: BaseException | None, response: Response | None
    ) -> None:
        """End the attempt in flight: its duration, and its span with the answer or failure."""
        assert call.started is not None
        elapsed = perf_counter() - call.started
        call.started = None
        if response is not None:
            attributes = call.report.answered[response.status]
        else:
            attributes = call.report.unanswered[_attempt_error_type(failure)]  # type: ignore[arg-type]
        self._instruments.request_duration.record(elapsed, attributes)
        span = call.attempt_span
        if span is None:
            return
        call.attempt_span = None
        if response is not None:
            span.set_attribute(names.HTTP_RESPONSE_STATUS_CODE, response.status)
            request_id = response.headers.get("x-request-id")
            if request_id is not None:
                span.set_attribute(names.HTTP_RESPONSE_HEADER_X_REQUEST_ID, (request_id,))
                call.span.set_attribute(names.REQUEST_ID, request_id)
            call.span.set_attribute(names.ATTEMPTS, response.attempt)
        error_type = attributes.get(names.ERROR_TYPE)
        if error_type is not None:
            span.set_attribute(names.ERROR_TYPE, error_type)
            span.set_status(Status(StatusCode.ERROR, error_type))
        span.end()

    def _full_url(self, request: Request, found: Route) -> str:
        """``url.full`` without the query (its filters may name numbers); an id that is a
        phone number is redacted unless numbers are opted in."""
        if "/phone_numbers/{id}" in found.template and not self._instruments.record_phone_numbers:
            return self.base_url + found.template.replace("{id}", "REDACTED")
        return request.url

    def _conclude(
        self,
        failure: APIError,
        method: str,
        history: Sequence[Attempt],
        idempotency_key: str | None,
    ) -> APIError:
        call = _current.get()
        if call is not None and call.started is not None:  # the last attempt got no answer
            self._close_attempt(call, failure, None)
        concluded = RequestLoop._conclude(self, failure, method, history, idempotency_key)
        if call is not None and call.parent is None:  # untraced: counted here, with no _end
            call.busy = False
            if call.report.route.creates_message:
                self._count_failed(call.report.route, call.body, _failure_attributes(concluded))
        return concluded

    # -- waits -------------------------------------------------------------------------------

    def _before_wait(self, failure: APIError, wait: float) -> object:
        """Report a wait between attempts, then call the caller's ``on_retry``."""
        instruments = self._instruments
        call = _current.get()
        if call is not None and call.started is not None:  # the attempt got no answer
            self._close_attempt(call, failure, None)
        operation = call.report.operation if call is not None else "unknown"
        status = getattr(failure, "status", None)
        error_type = str(status) if status is not None else _attempt_error_type(failure)
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
