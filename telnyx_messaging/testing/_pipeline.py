"""The steps every request goes through, in Telnyx's order: authenticate, route, rate-limit,
check against the spec, replay an idempotent answer, and only then the resource's handler.

Pure: requests in, answers out; ``_server.py`` is the aiohttp edge around it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from urllib.parse import unquote

import attrs

from telnyx_messaging.testing._handlers import (
    Context,
    Handler,
    bulk_updates,
    messages,
    numbers,
    optouts,
)
from telnyx_messaging.testing._openapi import Operation, Spec
from telnyx_messaging.testing._ratelimit import RateLimiter
from telnyx_messaging.testing._wire import (
    FakeAnswer,
    FakeApiError,
    RecordedRequest,
    json_answer,
    not_found,
)

__all__ = ["HANDLERS", "Pipeline"]

#: Handler by the spec's operationId.
HANDLERS: Mapping[str, Handler] = {
    **messages.HANDLERS,
    **optouts.HANDLERS,
    **numbers.HANDLERS,
    **bulk_updates.HANDLERS,
}

# Telnyx honours Idempotency-Key on message creation only; the same operations count
# against the send rate limits.
_CREATES_MESSAGES = frozenset(
    {
        "SendMessage",
        "ScheduleMessage",
        "CreateLongCodeMessage",
        "CreateShortCodeMessage",
        "CreateNumberPoolMessage",
        "CreateGroupMmsMessage",
        "SendWhatsappMessage",
    }
)


class Pipeline:
    """Turns a `RecordedRequest` into a `FakeAnswer` as Telnyx would."""

    def __init__(
        self,
        spec: Spec,
        context: Context,
        limiter: RateLimiter,
        api_key: Callable[[], str],
    ) -> None:
        self._spec = spec
        self._context = context
        self._limiter = limiter
        self._api_key = api_key

    def process(self, request: RecordedRequest, *, under_v2: bool) -> FakeAnswer:
        headers: dict[str, str] = {}
        try:
            self._authenticate(request)
            op, ident = self._route(request, under_v2=under_v2)
            creates = op.operation_id in _CREATES_MESSAGES
            if creates:
                headers = self._limiter.admit(_sender(request), mms=_is_mms(op, request))
            self._check(op, request)
            key = request.idempotency_key if creates else None
            replies = self._context.state.replies
            if key is not None and key in replies:
                if self._context.state.reply_bodies.get(key) != request.body:
                    return _reused_key(key).with_headers(headers)
                return replies[key].with_headers(headers)
            wait = self._limiter.queue(_sender(request)) if creates else 0.0
            answer = HANDLERS[op.operation_id](self._context, request, ident)
            if wait:
                answer = _with_wait(answer, wait)
        except FakeApiError as error:
            return error.answer.with_headers(headers) if headers else error.answer
        # Like Stripe, a rejected request is not remembered: a corrected retry
        # with the same key is processed afresh.
        if key is not None and answer.status < 300:
            replies[key] = answer
            self._context.state.reply_bodies[key] = request.body
        return answer.with_headers(headers) if headers else answer

    def _authenticate(self, request: RecordedRequest) -> None:
        if request.headers.get("Authorization") != f"Bearer {self._api_key()}":
            raise FakeApiError(
                401,
                "10009",
                "Authentication failed",
                "The API key looks malformed or is invalid. "
                "Check the key in the Mission Control Portal.",
            )

    def _route(self, request: RecordedRequest, *, under_v2: bool) -> tuple[Operation, str]:
        """The operation and the decoded path parameter ("" if the route has none)."""
        if not under_v2:
            raise not_found("URL")
        op, allowed, ident = self._spec.match(request.method, request.path)
        if op is not None:
            return op, unquote(ident)
        if allowed:
            raise FakeApiError(
                405,
                "10015",
                "Method not allowed",
                f"{request.method} is not allowed here; use {', '.join(allowed)}.",
            )
        raise not_found("URL")

    def _check(self, op: Operation, request: RecordedRequest) -> None:
        self._spec.check_query(op, request)
        if op.body_schema is None:
            return
        if not isinstance(request.json, dict):
            raise FakeApiError(
                400, "10015", "Bad Request", "The request body must be a JSON object."
            )
        self._spec.check_body(op, request.json)


def _reused_key(key: str) -> FakeAnswer:
    """Telnyx replays only a byte-identical request under a key; another body gets 422 while
    the first one's record lasts (developers.telnyx.com, API fundamentals: Idempotency)."""
    return json_answer(
        422,
        {
            "errors": [
                {
                    "code": "10015",
                    "title": "Idempotency key already used",
                    "detail": f"The Idempotency-Key {key!r} was used for a request with a "
                    "different body; only an identical request is replayed.",
                }
            ]
        },
    )


def _is_mms(op: Operation, request: RecordedRequest) -> bool:
    if op.operation_id == "CreateGroupMmsMessage":
        return True
    body = request.json if isinstance(request.json, dict) else {}
    return body.get("type") == "MMS" or bool(body.get("media_urls"))


def _with_wait(answer: FakeAnswer, wait: float) -> FakeAnswer:
    """The answer with ``data.wait_seconds`` set: how long the message waits in its queue."""
    if answer.status >= 300:
        return answer
    payload = json.loads(answer.body)
    payload["data"]["wait_seconds"] = wait
    return attrs.evolve(answer, body=json.dumps(payload).encode())


def _sender(request: RecordedRequest) -> str | None:
    """Whom a send is counted against: its ``from``, else its messaging profile."""
    body = request.json if isinstance(request.json, dict) else {}
    sender = body.get("from") or body.get("messaging_profile_id")
    return sender if isinstance(sender, str) else None
