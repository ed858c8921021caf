"""An in-memory Telnyx Messaging API v2 on loopback, for tests that need real HTTP.

`FakeTelnyx` serves the 17 operations of the messaging OpenAPI spec
(``tests/spec/telnyx-messaging-openapi.json``) from plain dicts, shaped like
Telnyx's own answers, so an `AsyncClient` pointed at `FakeTelnyx.base_url`
cannot tell it from the real service.  On top of that it can misbehave on
purpose (`Respond`, `Disconnect`, `Hang`, `Truncate`), which is how retries,
timeouts and the "answer was lost" case are tested without a network.

Layout: the request handlers are plain synchronous methods over the fake's
state that return an `_Answer` (status + bytes); only `FakeTelnyx._handle`
touches aiohttp, to read the request and to misbehave.
"""

from __future__ import annotations

import asyncio
import json
import math
import operator
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any
from urllib.parse import unquote

import attrs
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "Disconnect",
    "FakeTelnyx",
    "Fault",
    "Hang",
    "RecordedRequest",
    "Respond",
    "Truncate",
]

# Identifiers the fake hands out.  Fixed so that answers are reproducible.
_ORGANIZATION_ID = "b448f9cc-a842-4784-98e9-03c1a5872950"
_PROFILE_IDS = ("4000eba1-a0c0-4563-9925-b25e842a7cb6", "3fa85f64-5717-4562-b3fc-2c963f66afa6")
# The number a messaging profile sends from when the caller names only the profile
# (Telnyx picks one of the profile's numbers; the fake always has this one).
_PROFILE_NUMBER = "+18445550001"
# Seeded data is dated back from this instant, not from "now": a listing is then
# the same in every run, so tests can filter on created_at with literal dates.
_SEED_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)

_JSON = "application/json"
_SMS_PART_CHARS = 160
_MAX_PAGE_SIZE = 250


# --- what the user sees: recorded requests and faults ---------------------------------


@attrs.frozen
class RecordedRequest:
    """One request as the fake received it, kept in `FakeTelnyx.requests`.

    ``path`` is the raw path (percent-encoding kept) without the ``/v2`` prefix;
    ``query`` holds the decoded ``(name, value)`` pairs in order; ``headers`` is a
    case-insensitive read-only `multidict.CIMultiDictProxy` copy of the request
    headers; ``json`` is the parsed body, or None when the body is empty or not JSON.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]
    body: bytes
    json: Any
    idempotency_key: str | None

    @property
    def query_dict(self) -> dict[str, str]:
        """The query as a dict; for a repeated name the last value wins."""
        return dict(self.query)


@attrs.frozen
class Respond:
    """Fault: answer this instead of handling the request (nothing is stored).

    ``body`` wins over ``json``; with neither the answer has an empty body.
    ``content_type`` may carry parameters (``"text/html; charset=utf-8"``).
    """

    status: int
    json: Any = None
    body: bytes | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    content_type: str = _JSON


@attrs.frozen
class Disconnect:
    """Fault: read the whole request, then close the connection without answering.

    With ``after_processing=True`` the request is handled first (a message IS
    created and its answer is kept for idempotent replay): the answer was lost on
    the way back.  The aiohttp client sees `aiohttp.ServerDisconnectedError`.
    """

    after_processing: bool = False


@attrs.frozen
class Hang:
    """Fault: wait ``seconds`` before handling the request normally (client timeouts).

    Closing the fake cuts a pending wait short and drops the connection.
    """

    seconds: float


@attrs.frozen
class Truncate:
    """Fault: handle the request, then send only half of the answer's body and close.

    The Content-Length still promises the whole body, so the aiohttp client
    raises `aiohttp.ClientPayloadError` when it reads the body.
    """


Fault = Respond | Disconnect | Hang | Truncate
"""What :meth:`FakeTelnyx.fail_next` queues and :attr:`FakeTelnyx.fault_hook` returns."""


@attrs.frozen
class _QueuedFault:
    fault: Fault
    method: str | None
    path: str | None

    def matches(self, request: RecordedRequest) -> bool:
        return (self.method is None or self.method == request.method) and (
            self.path is None or self.path == request.path
        )


@attrs.frozen
class _Answer:
    """An HTTP answer as bytes, so the same one can be replayed for an idempotency key."""

    status: int
    body: bytes
    headers: Mapping[str, str] = attrs.field(factory=lambda: {"Content-Type": _JSON})


# --- pure helpers -----------------------------------------------------------------------


def _json_answer(status: int, payload: Any) -> _Answer:
    return _Answer(status, json.dumps(payload).encode())


class _TelnyxError(Exception):
    """Raised by a handler to answer a Telnyx error body instead of data.

    An exception because validation failures come from deep inside helpers
    (paging, filters, body checks) and all end the request the same way.
    """

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
    ) -> None:
        super().__init__(detail)
        error: dict[str, Any] = {"code": code, "title": title, "detail": detail}
        if pointer is not None:
            error["source"] = {"pointer": pointer}
        elif parameter is not None:
            error["source"] = {"parameter": parameter}
        self.answer = _json_answer(status, {"errors": [error]})


def _not_found(what: str) -> _TelnyxError:
    return _TelnyxError(
        404, "10005", "Resource not found", f"The requested {what} could not be found."
    )


def _missing(pointer: str) -> _TelnyxError:
    return _TelnyxError(
        422,
        "10004",
        "Missing required parameter",
        f"The '{pointer[1:]}' parameter is required.",
        pointer=pointer,
    )


def _bad_parameter(parameter: str, detail: str) -> _TelnyxError:
    return _TelnyxError(400, "10015", "Bad Request", detail, parameter=parameter)


def _iso(moment: datetime) -> str:
    """Telnyx timestamps: ISO 8601 with milliseconds and an explicit UTC offset."""
    return moment.isoformat(timespec="milliseconds")


def _parse_datetime(parameter: str, value: str) -> datetime:
    # fromisoformat only learned the "Z" suffix in Python 3.11.
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _bad_parameter(parameter, f"'{value}' is not an ISO 8601 date-time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _int_parameter(query: Mapping[str, str], name: str, default: int, high: int | None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0  # reported as out of range below
    if value < 1 or (high is not None and value > high):
        upper = f" and at most {high}" if high is not None else ""
        raise _bad_parameter(name, f"'{name}' must be an integer of at least 1{upper}.")
    return value


def _page(items: Sequence[dict[str, Any]], query: Mapping[str, str]) -> _Answer:
    """One page of ``items`` with Telnyx's ``meta`` (messaging_PaginationMeta)."""
    number = _int_parameter(query, "page[number]", 1, None)
    size = _int_parameter(query, "page[size]", 20, _MAX_PAGE_SIZE)
    start = (number - 1) * size
    meta = {
        "page_number": number,
        "page_size": size,
        "total_pages": math.ceil(len(items) / size),
        "total_results": len(items),
    }
    return _json_answer(200, {"data": list(items[start : start + size]), "meta": meta})


def _body_object(request: RecordedRequest) -> dict[str, Any]:
    if not isinstance(request.json, dict):
        raise _TelnyxError(400, "10015", "Bad Request", "The request body must be a JSON object.")
    return request.json


def _require_any(body: Mapping[str, Any], *fields: str) -> None:
    """Answer 422, pointing at the first field, unless one of ``fields`` has a value."""
    if all(body.get(field) in (None, "", []) for field in fields):
        raise _missing(f"/{fields[0]}")


def _string(body: Mapping[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise _TelnyxError(
            422, "10015", "Bad Request", f"'{field}' must be a string.", pointer=f"/{field}"
        )
    return value


def _required_string(body: Mapping[str, Any], field: str) -> str:
    value = _string(body, field)
    if not value:
        raise _missing(f"/{field}")
    return value


def _strings(body: Mapping[str, Any], field: str) -> list[str]:
    value = body.get(field)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _TelnyxError(
            422,
            "10015",
            "Bad Request",
            f"'{field}' must be a list of strings.",
            pointer=f"/{field}",
        )
    return value


def _outbound_message(
    body: Mapping[str, Any], to: Sequence[str], *, message_type: str | None, now: datetime
) -> dict[str, Any]:
    """An OutboundMessagePayload with every property of the schema, as Telnyx answers a send."""
    text = _string(body, "text")
    media_urls = _strings(body, "media_urls")
    send_at = _string(body, "send_at")
    sender = _string(body, "from") or _PROFILE_NUMBER
    num_chars = len(text or "")
    message: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "record_type": "message",
        "direction": "outbound",
        "type": message_type or _string(body, "type") or ("MMS" if media_urls else "SMS"),
        "from": {"phone_number": sender, "carrier": "Telnyx", "line_type": "VoIP"},
        "to": [
            {
                "phone_number": number,
                "status": "scheduled" if send_at else "queued",
                "carrier": "T-MOBILE USA, INC.",
                "line_type": "Wireless",
            }
            for number in to
        ],
        "cc": [],
        "text": text,
        "subject": _string(body, "subject"),
        "media": [
            {"url": url, "content_type": None, "sha256": None, "size": None} for url in media_urls
        ],
        "webhook_url": _string(body, "webhook_url"),
        "webhook_failover_url": _string(body, "webhook_failover_url"),
        "encoding": "GSM-7",
        # The spec caps parts at 10; Telnyx refuses longer texts, the fake just clamps.
        "parts": min(10, max(1, math.ceil(num_chars / _SMS_PART_CHARS))),
        "num_chars": num_chars,
        "tags": [],
        "cost": {"amount": "0.0040", "currency": "USD"},
        "cost_breakdown": {
            "carrier_fee": {"amount": "0.0015", "currency": "USD"},
            "rate": {"amount": "0.0025", "currency": "USD"},
        },
        "received_at": _iso(now),
        "sent_at": None,
        "completed_at": None,
        "valid_until": _iso(now + timedelta(hours=1)),
        "errors": [],
        "messaging_profile_id": _string(body, "messaging_profile_id") or _PROFILE_IDS[0],
        "organization_id": _ORGANIZATION_ID,
        "tcr_campaign_id": None,
        "tcr_campaign_billable": False,
        "tcr_campaign_registered": None,
        "smart_encoding_applied": False,
        "wait_seconds": 0.0,
    }
    if send_at:
        message["send_at"] = send_at
    return message


def _whatsapp_message(body: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """The ``data`` of a WhatsappResponse for a WhatsappMessage request."""
    return {
        "id": str(uuid.uuid4()),
        "record_type": "message",
        "direction": "outbound",
        "type": "WHATSAPP",
        "from": {"phone_number": body["from"], "carrier": "Telnyx", "line_type": "VoIP"},
        "to": [
            {
                "phone_number": body["to"],
                "status": "queued",
                "carrier": "T-MOBILE USA, INC.",
                "line_type": "Wireless",
            }
        ],
        "body": body["whatsapp_message"],
        "encoding": "utf-8",
        "messaging_profile_id": _string(body, "messaging_profile_id") or _PROFILE_IDS[0],
        "organization_id": _ORGANIZATION_ID,
        "received_at": _iso(now),
        "wait_seconds": 0.0,
    }


def _feature_set(*, international: bool) -> dict[str, bool]:
    return {
        "domestic_two_way": True,
        "international_inbound": international,
        "international_outbound": international,
    }


def _seed_phone_numbers(count: int) -> list[dict[str, Any]]:
    """PhoneNumberWithMessagingSettings: every 4th number toll-free, every 3rd unassigned."""
    numbers = []
    for index in range(count):
        tollfree = index % 4 == 3
        product = "A2P" if tollfree else "P2P"
        stamp = _iso(_SEED_EPOCH - timedelta(days=count - index))
        numbers.append(
            {
                "id": str(1293384261075731000 + index),
                "record_type": "messaging_settings",
                "phone_number": f"+1{'888' if tollfree else '312'}555{1000 + index:04d}",
                "country_code": "US",
                "type": "tollfree" if tollfree else "longcode",
                "messaging_product": product,
                "traffic_type": product,
                "eligible_messaging_products": ["A2P"] if tollfree else ["P2P", "A2P"],
                "messaging_profile_id": None if index % 3 == 2 else _PROFILE_IDS[index % 3],
                "organization_id": _ORGANIZATION_ID,
                "features": {
                    "sms": _feature_set(international=not tollfree),
                    "mms": _feature_set(international=False),
                },
                "health": {
                    "message_count": 100 + 7 * index,
                    "inbound_outbound_ratio": round(0.3 + (index % 5) / 10, 2),
                    "success_ratio": round(0.9 + (index % 10) / 100, 2),
                    "spam_ratio": round((index % 4) / 100, 2),
                },
                "tags": [],
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    return numbers


def _seed_mobile_phone_numbers(count: int) -> list[dict[str, Any]]:
    """MobilePhoneNumberWithMessagingSettings, all P2P long codes."""
    numbers = []
    for index in range(count):
        stamp = _iso(_SEED_EPOCH - timedelta(days=count - index))
        numbers.append(
            {
                "id": str(2126210528794641000 + index),
                "record_type": "messaging_settings",
                "phone_number": f"+1773555{2000 + index:04d}",
                "country_code": "US",
                "type": "longcode",
                "messaging_product": "P2P",
                "traffic_type": "P2P",
                "messaging_profile_id": _PROFILE_IDS[index % 2],
                "organization_id": _ORGANIZATION_ID,
                "features": {"sms": _feature_set(international=False)},
                "tags": [],
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    return numbers


def _seed_optouts(count: int) -> list[dict[str, Any]]:
    """OptOutItem, newest first, one every 7 hours back from the seed epoch."""
    return [
        {
            "messaging_profile_id": _PROFILE_IDS[index % 2],
            "from": f"+1312555{1000 + index % 3:04d}",
            "to": f"+1773555{3000 + index:04d}",
            "keyword": "STOP",
            "created_at": _iso(_SEED_EPOCH - timedelta(hours=7 * index)),
        }
        for index in range(count)
    ]


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


def _send_answer(answer: _Answer) -> web.Response:
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


async def _truncate(request: web.BaseRequest, answer: _Answer) -> web.StreamResponse:
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


# --- the server -------------------------------------------------------------------------

_Handler = Callable[[RecordedRequest, str], _Answer]


class FakeTelnyx:
    """A fake Telnyx Messaging API v2 served on loopback, in the running event loop.

    Use it as ``async with FakeTelnyx() as fake:`` and build the client with
    ``AsyncClient(api_key=fake.api_key, base_url=fake.base_url)``.  It checks the
    bearer key, validates sends like Telnyx (422 with ``source.pointer``), stores
    every message in `messages`, replays the stored answer for a repeated
    ``Idempotency-Key`` on ``POST /messages*`` and serves seeded, deterministic
    phone numbers and opt-outs.  Every request lands in `requests`; queue
    misbehaviour with `fail_next` or decide it per request with `fault_hook`.
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
    ) -> None:
        self.api_key = api_key
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        # Set by close() so that pending Hang faults end at once instead of
        # holding the shutdown for their full duration.
        self._closing = asyncio.Event()
        self._faults: list[_QueuedFault] = []
        self._replies: dict[str, _Answer] = {}
        #: Every request received, in arrival order, faulted ones included.
        self.requests: list[RecordedRequest] = []
        #: Every message created (SMS, MMS, group MMS, WhatsApp), by id, as last answered.
        self.messages: dict[str, dict[str, Any]] = {}
        #: Consulted for each request no queued fault matched; return a fault or None.
        self.fault_hook: Callable[[RecordedRequest], Fault | None] | None = None
        #: The seeded GET /phone_numbers/messaging items; PATCH and bulk updates change them.
        self.phone_number_settings = _seed_phone_numbers(phone_numbers)
        #: The seeded GET /mobile_phone_numbers/messaging items.
        self.mobile_phone_number_settings = _seed_mobile_phone_numbers(mobile_phone_numbers)
        #: The seeded GET /messaging_optouts items, newest first.
        self.optout_items = _seed_optouts(optouts)
        #: Bulk profile updates by order id.
        self.bulk_updates: dict[str, dict[str, Any]] = {}
        # Fixed paths come before the {id} patterns that would also match them.
        either = ("from", "messaging_profile_id")
        routes: dict[str, dict[str, _Handler]] = {
            "/messages": {"POST": partial(self._send, senders=either)},
            "/messages/schedule": {"POST": partial(self._send, senders=either, scheduled=True)},
            "/messages/long_code": {"POST": partial(self._send, senders=either[:1])},
            "/messages/short_code": {"POST": partial(self._send, senders=either[:1])},
            "/messages/number_pool": {"POST": partial(self._send, senders=either[1:])},
            "/messages/group_mms": {"POST": self._send_group_mms},
            "/messages/whatsapp": {"POST": self._send_whatsapp},
            "/messages/([^/]+)": {"GET": self._get_message, "DELETE": self._cancel},
            "/messaging_optouts": {"GET": self._list_optouts},
            "/phone_numbers/messaging": {"GET": self._list_phone_numbers},
            "/phone_numbers/([^/]+)/messaging": {
                "GET": self._get_phone_number,
                "PATCH": self._update_phone_number,
            },
            "/mobile_phone_numbers/messaging": {"GET": self._list_mobile_numbers},
            "/mobile_phone_numbers/([^/]+)/messaging": {"GET": self._get_mobile_number},
            "/messaging_numbers_bulk_updates": {"POST": self._bulk_update},
            "/messaging_numbers_bulk_updates/([^/]+)": {"GET": self._get_bulk_update},
        }
        self._routes = [(re.compile(pattern), handlers) for pattern, handlers in routes.items()]

    # --- lifecycle

    async def start(self) -> None:
        """Start serving on ``host:port`` (an ephemeral port by default); no-op if started."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # A short shutdown grace: the fake has nothing worth finishing on close.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
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
        """Stop serving and drop open connections; safe to call more than once."""
        runner, self._runner, self._base_url = self._runner, None, None
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

    # --- test controls

    def fail_next(self, *faults: Fault, method: str | None = None, path: str | None = None) -> None:
        """Queue ``faults``: each following request that matches takes the next one.

        ``method`` and ``path`` narrow which requests match; ``path`` is compared
        with `RecordedRequest.path` (no ``/v2`` prefix, e.g. ``"/messages"``).
        """
        upper = method.upper() if method is not None else None
        self._faults.extend(_QueuedFault(fault, upper, path) for fault in faults)

    @property
    def seen_idempotency_keys(self) -> frozenset[str]:
        """Keys whose answer is stored: repeating one replays it and creates nothing."""
        return frozenset(self._replies)

    def _fault_for(self, request: RecordedRequest) -> Fault | None:
        for index, queued in enumerate(self._faults):
            if queued.matches(request):
                del self._faults[index]
                return queued.fault
        return self.fault_hook(request) if self.fault_hook is not None else None

    # --- the aiohttp edge

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        # Read the whole body first: a client still sending when the connection
        # drops would see a write error instead of the disconnect under test.
        recorded = _record(request, await request.read())
        self.requests.append(recorded)
        fault = self._fault_for(recorded)
        if isinstance(fault, Respond):
            return _respond(fault)
        if isinstance(fault, Disconnect) and not fault.after_processing:
            return _drop(request)
        if isinstance(fault, Hang) and await _interrupted(self._closing, fault.seconds):
            return _drop(request)
        answer = self._process(recorded, under_v2=request.rel_url.raw_path.startswith("/v2/"))
        if isinstance(fault, Disconnect):
            return _drop(request)
        if isinstance(fault, Truncate):
            return await _truncate(request, answer)
        return _send_answer(answer)

    # --- routing, auth, idempotency

    def _process(self, request: RecordedRequest, *, under_v2: bool) -> _Answer:
        try:
            self._authenticate(request)
            handler, ident = self._route(request, under_v2=under_v2)
        except _TelnyxError as error:
            return error.answer
        # Telnyx honours Idempotency-Key on message creation only.
        creates = request.method == "POST" and request.path.startswith("/messages")
        key = request.idempotency_key if creates else None
        if key is not None and key in self._replies:
            return self._replies[key]
        try:
            answer = handler(request, ident)
        except _TelnyxError as error:
            return error.answer
        # Like Stripe, a rejected request is not remembered: a corrected retry
        # with the same key is processed afresh.
        if key is not None and answer.status < 300:
            self._replies[key] = answer
        return answer

    def _authenticate(self, request: RecordedRequest) -> None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            raise _TelnyxError(
                401,
                "10009",
                "Authentication failed",
                "The API key looks malformed or is invalid. "
                "Check the key in the Mission Control Portal.",
            )

    def _route(self, request: RecordedRequest, *, under_v2: bool) -> tuple[_Handler, str]:
        """The handler and the decoded path parameter ("" if the route has none)."""
        allowed: list[str] = []
        for pattern, handlers in self._routes if under_v2 else ():
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            if request.method in handlers:
                return handlers[request.method], unquote(match.group(1)) if match.groups() else ""
            allowed.extend(handlers)
        if allowed:
            raise _TelnyxError(
                405,
                "10015",
                "Method not allowed",
                f"{request.method} is not allowed here; use {', '.join(allowed)}.",
            )
        raise _not_found("URL")

    # --- messages

    def _store(self, message: dict[str, Any], *, envelope: bool = True) -> _Answer:
        self.messages[message["id"]] = message
        return _json_answer(200, {"data": message} if envelope else message)

    def _send(
        self, request: RecordedRequest, _: str, *, senders: Sequence[str], scheduled: bool = False
    ) -> _Answer:
        """The one-recipient sends; ``senders`` are the fields of which one must be given."""
        body = _body_object(request)
        to = _required_string(body, "to")
        _require_any(body, *senders)
        if scheduled:
            _required_string(body, "send_at")
        _require_any(body, "text", "media_urls")
        return self._store(_outbound_message(body, [to], message_type=None, now=_now()))

    def _send_group_mms(self, request: RecordedRequest, _: str) -> _Answer:
        body = _body_object(request)
        _required_string(body, "from")
        to = _strings(body, "to")
        if not to:
            raise _missing("/to")
        _require_any(body, "text", "media_urls")
        return self._store(_outbound_message(body, to, message_type="MMS", now=_now()))

    def _send_whatsapp(self, request: RecordedRequest, _: str) -> _Answer:
        body = _body_object(request)
        _required_string(body, "from")
        _required_string(body, "to")
        if not isinstance(body.get("whatsapp_message"), dict):
            raise _missing("/whatsapp_message")
        return self._store(_whatsapp_message(body, now=_now()))

    def _message(self, message_id: str) -> dict[str, Any]:
        try:
            return self.messages[message_id]
        except KeyError:
            raise _not_found("message") from None

    def _get_message(self, _: RecordedRequest, message_id: str) -> _Answer:
        return _json_answer(200, {"data": self._message(message_id)})

    def _cancel(self, _: RecordedRequest, message_id: str) -> _Answer:
        message = self._message(message_id)
        if not any(to["status"] == "scheduled" for to in message["to"]):
            raise _TelnyxError(
                422,
                "10015",
                "Message not scheduled",
                "Only a scheduled message that has not been sent yet can be cancelled.",
            )
        cancelled = {**message, "to": [{**to, "status": "cancelled"} for to in message["to"]]}
        # DELETE answers without the data envelope (a known gap in the spec).
        return self._store(cancelled, envelope=False)

    # --- opt-outs and numbers

    def _list_optouts(self, request: RecordedRequest, _: str) -> _Answer:
        query = request.query_dict
        items = list(self.optout_items)
        for field in ("messaging_profile_id", "from"):
            if f"filter[{field}]" in query:
                wanted = query[f"filter[{field}]"]
                items = [item for item in items if item[field] == wanted]
        for bound, keep in (("gte", operator.ge), ("lte", operator.le)):
            parameter = f"created_at[{bound}]"
            if parameter in query:
                limit = _parse_datetime(parameter, query[parameter])
                items = [
                    item
                    for item in items
                    if keep(datetime.fromisoformat(item["created_at"]), limit)
                ]
        if query.get("redaction_enabled", "").lower() == "true":
            items = [{**item, "to": item["to"][:-4] + "****"} for item in items]
        return _page(items, query)

    def _list_phone_numbers(self, request: RecordedRequest, _: str) -> _Answer:
        query = request.query_dict
        items = list(self.phone_number_settings)
        if "filter[messaging_profile_id]" in query:
            profile = query["filter[messaging_profile_id]"]
            items = [item for item in items if item["messaging_profile_id"] == profile]
        if "filter[phone_number]" in query:
            exact = set(query["filter[phone_number]"].split(","))
            items = [item for item in items if item["phone_number"] in exact]
        if "filter[phone_number][contains]" in query:
            part = query["filter[phone_number][contains]"]
            items = [item for item in items if part in item["phone_number"]]
        if "filter[type]" in query:
            items = [item for item in items if item["type"] == query["filter[type]"]]
        order = query.get("sort[phone_number]")
        if order is not None:
            if order not in ("asc", "desc"):
                raise _bad_parameter("sort[phone_number]", "Sort must be 'asc' or 'desc'.")
            items.sort(key=lambda item: str(item["phone_number"]), reverse=order == "desc")
        return _page(items, query)

    def _phone_number(self, ident: str) -> dict[str, Any]:
        return _find_number(self.phone_number_settings, ident)

    def _get_phone_number(self, _: RecordedRequest, ident: str) -> _Answer:
        return _json_answer(200, {"data": self._phone_number(ident)})

    def _update_phone_number(self, request: RecordedRequest, ident: str) -> _Answer:
        number = self._phone_number(ident)
        body = _body_object(request)
        changes: dict[str, Any] = {}
        for field in ("messaging_product", "messaging_profile_id"):
            value = _string(body, field)
            if value is not None:
                changes[field] = value
        if changes.get("messaging_profile_id") == "":
            changes["messaging_profile_id"] = None  # an empty id unassigns the number
        if body.get("tags") is not None:
            changes["tags"] = _strings(body, "tags")
        number.update(changes, updated_at=_iso(_now()))
        return _json_answer(200, {"data": number})

    def _list_mobile_numbers(self, request: RecordedRequest, _: str) -> _Answer:
        return _page(self.mobile_phone_number_settings, request.query_dict)

    def _get_mobile_number(self, _: RecordedRequest, ident: str) -> _Answer:
        return _json_answer(200, {"data": _find_number(self.mobile_phone_number_settings, ident)})

    def _bulk_update(self, request: RecordedRequest, _: str) -> _Answer:
        body = _body_object(request)
        profile = _string(body, "messaging_profile_id")
        if profile is None:
            raise _missing("/messaging_profile_id")
        requested = _strings(body, "numbers")
        if not requested:
            raise _missing("/numbers")
        known = {number["phone_number"]: number for number in self.phone_number_settings}
        stamp = _iso(_now())
        for phone_number in requested:
            if phone_number in known:
                # An empty profile id unassigns the number, as Telnyx documents.
                known[phone_number].update(messaging_profile_id=profile or None, updated_at=stamp)
        order_id = str(uuid.uuid4())
        self.bulk_updates[order_id] = {
            "order_id": order_id,
            "record_type": "messaging_numbers_bulk_update",
            "success": [number for number in requested if number in known],
            "pending": [],
            "failed": [number for number in requested if number not in known],
        }
        return _json_answer(200, {"data": self.bulk_updates[order_id]})

    def _get_bulk_update(self, _: RecordedRequest, order_id: str) -> _Answer:
        try:
            return _json_answer(200, {"data": self.bulk_updates[order_id]})
        except KeyError:
            raise _not_found("bulk update") from None


def _find_number(numbers: Iterable[dict[str, Any]], ident: str) -> dict[str, Any]:
    """A number by its numeric id or its E.164 phone number, as Telnyx accepts both."""
    for number in numbers:
        if ident in (number["id"], number["phone_number"]):
            return number
    raise _not_found("phone number")


def _now() -> datetime:
    return datetime.now(timezone.utc)
