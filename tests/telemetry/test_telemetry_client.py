"""Client telemetry: a span per SDK call, a client span per attempt, metrics, privacy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from opentelemetry.semconv._incubating.attributes import url_attributes as url_incubating
from opentelemetry.semconv.attributes import (
    error_attributes,
    http_attributes,
    server_attributes,
    url_attributes,
)
from opentelemetry.semconv.metrics import http_metrics
from opentelemetry.trace import SpanKind, StatusCode
from otel_exported import Exported

from telnyx_messaging import (
    AsyncClient,
    Client,
    ConfigurationError,
    InvalidArgumentError,
    NotFoundError,
    RateLimitError,
    UnprocessableEntityError,
)
from telnyx_messaging import telemetry as telemetry_module
from telnyx_messaging._telemetry import _instruments as names
from telnyx_messaging.telemetry import Telemetry
from telnyx_messaging.testing import Disconnect, FakeTelnyx, Respond

TO, FROM, TEXT = "+13125550002", "+18445550001", "Your code is 123456"
SMS: dict[str, Any] = {"to": TO, "from_": FROM, "text": TEXT}

METHOD = http_attributes.HTTP_REQUEST_METHOD
STATUS = http_attributes.HTTP_RESPONSE_STATUS_CODE
RESEND = http_attributes.HTTP_REQUEST_RESEND_COUNT
ADDRESS = server_attributes.SERVER_ADDRESS
PORT = server_attributes.SERVER_PORT
TEMPLATE = url_incubating.URL_TEMPLATE
ERROR_TYPE = error_attributes.ERROR_TYPE


async def test_retried_send_is_one_call_span_over_two_attempt_spans(
    traced: AsyncClient, fake: FakeTelnyx, exported: Exported
) -> None:
    """A send retried after a 503 is one `messages.send` span with two HTTP client spans under
    it; the second carries `http.request.resend_count` 1, both the same Idempotency-Key."""
    fake.fail_next(Respond(503))

    msg = await traced.messages.send(**SMS)

    (call,) = exported.named("messages.send")
    attempts = exported.named("POST /v2/messages")
    assert len(attempts) == 2
    assert call.kind is SpanKind.INTERNAL
    assert call.parent is None
    for attempt in attempts:
        assert attempt.kind is SpanKind.CLIENT
        assert attempt.parent is not None
        assert attempt.parent.span_id == call.context.span_id
        assert attempt.attributes[METHOD] == "POST"
        assert attempt.attributes[ADDRESS] == "127.0.0.1"
        assert attempt.attributes[PORT] == urlsplit(fake.base_url).port
        assert attempt.attributes[TEMPLATE] == "/v2/messages"
        assert attempt.attributes[url_attributes.URL_FULL] == fake.base_url + "/messages"
    first, second = sorted(attempts, key=lambda s: s.start_time or 0)
    assert RESEND not in first.attributes
    assert first.attributes[STATUS] == 503
    assert first.attributes[ERROR_TYPE] == "503"
    assert first.status.status_code is StatusCode.ERROR
    assert second.attributes[RESEND] == 1
    assert second.attributes[STATUS] == 200
    assert ERROR_TYPE not in second.attributes
    key = fake.requests[0].idempotency_key
    assert key is not None
    assert first.attributes[names.HTTP_REQUEST_HEADER_IDEMPOTENCY_KEY] == (key,)
    assert second.attributes[names.HTTP_REQUEST_HEADER_IDEMPOTENCY_KEY] == (key,)
    assert call.attributes[names.IDEMPOTENCY_KEY] == key
    assert call.attributes[names.MESSAGE_ID] == msg.id
    assert call.attributes[names.ATTEMPTS] == 2
    assert call.attributes[names.SENDER_TYPE] == "phone_number"
    request_id = second.attributes[names.HTTP_RESPONSE_HEADER_X_REQUEST_ID]
    assert call.attributes[names.REQUEST_ID] == request_id[0]  # type: ignore[index]
    (event,) = call.events
    assert event.name == names.EVENT_RETRY_WAIT
    assert event.attributes is not None
    assert event.attributes[ERROR_TYPE] == "503"


async def test_each_attempt_carries_its_own_traceparent(
    traced: AsyncClient, fake: FakeTelnyx, exported: Exported
) -> None:
    """Every attempt sends a W3C traceparent naming its own client span, in the call's trace."""
    fake.fail_next(Respond(503))

    await traced.messages.send(**SMS)

    attempts = sorted(exported.named("POST /v2/messages"), key=lambda s: s.start_time or 0)
    sent = [r.headers["traceparent"] for r in fake.requests]
    assert sent == [
        f"00-{s.context.trace_id:032x}-{s.context.span_id:016x}-{s.context.trace_flags:02x}"
        for s in attempts
    ]


async def test_rate_limit_wait_is_an_event_and_a_pause(
    traced: AsyncClient, fake: FakeTelnyx, exported: Exported
) -> None:
    """A 429's wait is a `telnyx.rate_limit.wait` event on the call span with its seconds, and
    one pause of those seconds in `telnyx.rate_limit.pause.duration`."""
    fake.fail_next(Respond(429, json={"errors": []}, headers={"retry-after": "2"}))

    await traced.messages.send(**SMS)

    (call,) = exported.named("messages.send")
    (event,) = call.events
    assert event.name == names.EVENT_RATE_LIMIT_WAIT
    assert event.attributes is not None
    assert event.attributes[names.WAIT_SECONDS] == pytest.approx(2.0, abs=1.01)
    (pause,) = exported.points(names.RATE_LIMIT_PAUSE_DURATION)
    assert pause.count == 1
    assert pause.sum == event.attributes[names.WAIT_SECONDS]
    assert pause.attributes == {names.OPERATION: "messages.send", names.RATE_LIMIT_SOURCE: "server"}
    (retry,) = exported.points(names.CLIENT_RETRIES)
    assert retry.value == 1
    assert retry.attributes == {names.OPERATION: "messages.send", ERROR_TYPE: "429"}


async def test_request_duration_is_the_stable_histogram(
    traced: AsyncClient, fake: FakeTelnyx, exported: Exported
) -> None:
    """`http.client.request.duration`: seconds, the advised buckets, one point per outcome."""
    fake.fail_next(Respond(503))

    await traced.messages.send(**SMS)

    metric = exported.metrics()[http_metrics.HTTP_CLIENT_REQUEST_DURATION]
    assert metric.unit == "s"
    points = {p.attributes.get(STATUS): p for p in metric.data.data_points}
    assert set(points) == {503, 200}
    for point in points.values():
        assert point.count == 1
        assert tuple(point.explicit_bounds) == names.DURATION_BUCKETS
        assert 0 < point.sum < 60
    common = {
        METHOD: "POST",
        ADDRESS: "127.0.0.1",
        PORT: urlsplit(fake.base_url).port,
        TEMPLATE: "/v2/messages",
    }
    assert points[503].attributes == {**common, STATUS: 503, ERROR_TYPE: "503"}
    assert points[200].attributes == {**common, STATUS: 200}


async def test_sent_and_failed_are_counted_by_sender_type_and_error_code(
    traced: AsyncClient, fake: FakeTelnyx, exported: Exported
) -> None:
    """`telnyx.messages.sent` counts accepted sends by sender type; `telnyx.messages.failed`
    counts refused ones by Telnyx's error code and status too."""
    await traced.messages.send(**SMS)
    await traced.messages.send(to=TO, from_="ACME", text="hi")
    fake.fail_next(Respond(422, json={"errors": [{"code": "40310", "title": "Invalid to"}]}))
    with pytest.raises(UnprocessableEntityError):
        await traced.messages.send_short_code(to=TO, from_="12345", text="hi")

    sent = {p.attributes[names.SENDER_TYPE]: p.value for p in exported.points(names.MESSAGES_SENT)}
    assert sent == {"phone_number": 1, "alphanumeric_sender_id": 1}
    (failed,) = exported.points(names.MESSAGES_FAILED)
    assert failed.value == 1
    assert failed.attributes == {
        names.OPERATION: "messages.send_short_code",
        names.SENDER_TYPE: "short_code",
        ERROR_TYPE: "UnprocessableEntityError",
        STATUS: 422,
        names.ERROR_CODE: "40310",
        names.OUTCOME_UNKNOWN: False,
    }
    (call,) = exported.named("messages.send_short_code")
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes[ERROR_TYPE] == "UnprocessableEntityError"
    assert not call.events  # a 422 is not retried


async def test_lost_answer_marks_the_outcome_unknown(fake: FakeTelnyx, exported: Exported) -> None:
    """A send whose answer was lost ends in a call span with `telnyx.outcome_unknown` true and
    an attempt span whose `error.type` names the connection failure."""
    fake.fail_next(Disconnect(after_processing=True))
    async with AsyncClient(
        api_key=fake.api_key,
        base_url=fake.base_url,
        max_retries=0,
        telemetry=exported.telemetry(),
    ) as client:
        with pytest.raises(Exception, match="outcome is unknown") as caught:
            await client.messages.send(**SMS)

    (call,) = exported.named("messages.send")
    assert call.attributes[names.OUTCOME_UNKNOWN] is True
    assert call.attributes[ERROR_TYPE] == type(caught.value).__name__
    (attempt,) = exported.named("POST /v2/messages")
    assert attempt.attributes[ERROR_TYPE] == "ServerDisconnectedError"
    assert STATUS not in attempt.attributes
    (failed,) = exported.points(names.MESSAGES_FAILED)
    assert failed.attributes[names.OUTCOME_UNKNOWN] is True


async def test_rate_limited_to_the_end_keeps_the_request_id(
    fake: FakeTelnyx, exported: Exported
) -> None:
    """A call that fails for good names the last x-request-id and how many attempts it made."""
    for _ in range(2):
        fake.fail_next(Respond(429, json={"errors": []}, headers={"x-request-id": "req-9"}))
    async with AsyncClient(
        api_key=fake.api_key, base_url=fake.base_url, max_retries=1, telemetry=exported.telemetry()
    ) as client:
        with pytest.raises(RateLimitError):
            await client.messages.send(**SMS)

    (call,) = exported.named("messages.send")
    assert call.attributes[names.REQUEST_ID] == "req-9"
    assert call.attributes[names.ATTEMPTS] == 2
    assert call.attributes[STATUS] == 429


def _everything_reported(exported: Exported) -> str:
    """Every span name, attribute and event, and every metric attribute, as one text."""
    parts: list[str] = []
    for span in exported.finished():
        parts += [span.name, repr(dict(span.attributes or {}))]
        parts += [f"{e.name} {dict(e.attributes or {})!r}" for e in span.events]
    for metric in exported.metrics().values():
        parts += [repr(dict(p.attributes)) for p in metric.data.data_points]
    return "\n".join(parts)


async def test_numbers_text_and_key_stay_out_by_default(
    traced: AsyncClient, fake: FakeTelnyx, exported: Exported
) -> None:
    """By default no phone number, no message text and never the API key are reported, on a
    send, a failed send, a retrieve and a number's settings."""
    fake.fail_next(Respond(503))
    msg = await traced.messages.send(**SMS)
    await traced.messages.send_group_mms(from_=FROM, to=[TO, "+13125550003"], text=TEXT)
    await traced.messages.retrieve(msg.id)
    fake.fail_next(Respond(404, json={"errors": [{"code": "10005", "detail": f"{TO} unknown"}]}))
    with pytest.raises(Exception, match="404"):
        await traced.phone_numbers.messaging.retrieve(FROM)

    reported = _everything_reported(exported)
    for secret in (TO, TO[1:], FROM, FROM[1:], "+13125550003", TEXT, fake.api_key):
        assert secret not in reported
    (number,) = exported.named("GET /v2/phone_numbers/{id}/messaging")
    assert number.attributes[url_attributes.URL_FULL] == (
        fake.base_url + "/phone_numbers/REDACTED/messaging"
    )


async def test_numbers_and_text_when_opted_in(fake: FakeTelnyx, exported: Exported) -> None:
    """`record_phone_numbers` and `record_message_text` put them on the call span."""
    async with AsyncClient(
        api_key=fake.api_key,
        base_url=fake.base_url,
        telemetry=exported.telemetry(record_phone_numbers=True, record_message_text=True),
    ) as client:
        await client.messages.send(**SMS)
        await client.messages.send_group_mms(from_=FROM, to=[TO], text=TEXT)
        with pytest.raises(NotFoundError):  # the fake has no such number; the URL is reported
            await client.phone_numbers.messaging.retrieve(FROM)

    (send,) = exported.named("messages.send")
    assert send.attributes[names.MESSAGE_TO] == TO
    assert send.attributes[names.MESSAGE_FROM] == FROM
    assert send.attributes[names.MESSAGE_TEXT] == TEXT
    (group,) = exported.named("messages.send_group_mms")
    assert group.attributes[names.MESSAGE_TO] == (TO,)
    (number,) = exported.named("GET /v2/phone_numbers/{id}/messaging")
    assert FROM.replace("+", "%2B") in str(number.attributes[url_attributes.URL_FULL])
    assert fake.api_key not in _everything_reported(exported)


async def _missing(call: Any) -> None:
    with pytest.raises(NotFoundError):
        await call


async def _first(pager: Any) -> None:
    async for _ in pager:
        break


@pytest.mark.parametrize(
    ("call", "span"),
    [
        (lambda c: c.messages.send(**SMS), "messages.send"),
        (lambda c: c.messages.send_long_code(**SMS), "messages.send_long_code"),
        (
            lambda c: c.messages.send_number_pool(to=TO, messaging_profile_id="p", text="x"),
            "messages.send_number_pool",
        ),
        (lambda c: _first(c.messaging_optouts.list()), "messaging_optouts.list"),
        (lambda c: _first(c.phone_numbers.messaging.list()), "phone_numbers.messaging.list"),
        (
            lambda c: _missing(c.mobile_phone_numbers.messaging.retrieve("123")),
            "mobile_phone_numbers.messaging.retrieve",
        ),
        (
            lambda c: _missing(c.messaging_numbers_bulk_updates.retrieve("o-1")),
            "messaging_numbers_bulk_updates.retrieve",
        ),
        (lambda c: _missing(c.messages.cancel_scheduled("m-1")), "messages.cancel_scheduled"),
    ],
)
async def test_span_is_named_for_the_sdk_call(
    traced: AsyncClient, exported: Exported, call: Any, span: str
) -> None:
    """The call span is named for the SDK method, whatever the path's ids."""
    await call(traced)
    assert [s.name for s in exported.finished() if s.kind is SpanKind.INTERNAL] == [span]


async def test_callers_on_retry_still_runs(fake: FakeTelnyx, exported: Exported) -> None:
    """Telemetry reports each wait and then calls the caller's own `on_retry`."""
    seen: list[float] = []
    fake.fail_next(Respond(503))
    async with AsyncClient(
        api_key=fake.api_key,
        base_url=fake.base_url,
        on_retry=lambda _error, wait: seen.append(wait),
        telemetry=exported.telemetry(),
    ) as client:
        await client.with_options(max_retries=3).messages.send(**SMS)
    assert len(seen) == 1
    assert exported.points(names.CLIENT_RETRIES)[0].value == 1


async def test_no_trace_no_traceparent(fake: FakeTelnyx) -> None:
    """On with OpenTelemetry's default no-op provider nothing is recorded or propagated."""
    async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url, telemetry=True) as c:
        fake.fail_next(Respond(503))
        await c.messages.send(**SMS)
    assert all("traceparent" not in r.headers for r in fake.requests)


async def test_global_switch(fake: FakeTelnyx, exported: Exported) -> None:
    """`telemetry.enable()` instruments clients made afterwards; `telemetry=False` opts one
    out; `disable()` switches it off for the next ones."""
    kwargs = {"api_key": fake.api_key, "base_url": fake.base_url}
    telemetry_module.enable(
        tracer_provider=exported.tracer_provider, meter_provider=exported.meter_provider
    )
    async with AsyncClient(**kwargs) as on, AsyncClient(**kwargs, telemetry=False) as off:
        await on.messages.send(**SMS)
        await off.messages.send(**SMS)
    telemetry_module.disable()
    async with AsyncClient(**kwargs) as after:
        await after.messages.send(**SMS)
    assert len(exported.named("messages.send")) == 1
    assert len(fake.requests) == 3


def test_sync_client_reports_too(threaded_fake: FakeTelnyx, exported: Exported) -> None:
    """The blocking `Client` takes the same `telemetry=` and reports the same spans, under the
    calling thread's current span although the call runs on the client's loop thread."""
    tracer = exported.tracer_provider.get_tracer("app")
    with (
        Client(
            api_key=threaded_fake.api_key,
            base_url=threaded_fake.base_url,
            telemetry=exported.telemetry(),
        ) as client,
        tracer.start_as_current_span("view") as view,
    ):
        client.messages.send(**SMS)
    names_ = [s.name for s in exported.finished()]
    assert names_ == ["POST /v2/messages", "messages.send", "view"]
    (call,) = exported.named("messages.send")
    assert call.parent is not None
    assert call.parent.span_id == view.get_span_context().span_id


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: AsyncClient(api_key="k", telemetry="yes"), "telemetry must be True, False"),
        (lambda: Telemetry(record_phone_numbers="yes"), "record_phone_numbers must be True"),
        (lambda: Telemetry(record_message_text=1), "record_message_text must be True"),
        (
            lambda: AsyncClient(api_key="k", telemetry=Telemetry(tracer_provider=object())),
            "tracer_provider must be an opentelemetry TracerProvider",
        ),
        (
            lambda: telemetry_module.enable(meter_provider="x"),
            "meter_provider must be an opentelemetry MeterProvider",
        ),
    ],
)
def test_bad_options_say_what_to_pass(make: Any, match: str) -> None:
    """A wrong telemetry option is refused with what to pass instead."""
    with pytest.raises(InvalidArgumentError, match=match):
        make()


def test_semantic_convention_names() -> None:
    """The names the SDK writes are the semantic conventions' own constants."""
    assert names.HTTP_REQUEST_METHOD == http_attributes.HTTP_REQUEST_METHOD
    assert names.HTTP_RESPONSE_STATUS_CODE == http_attributes.HTTP_RESPONSE_STATUS_CODE
    assert names.HTTP_REQUEST_RESEND_COUNT == http_attributes.HTTP_REQUEST_RESEND_COUNT
    assert names.SERVER_ADDRESS == server_attributes.SERVER_ADDRESS
    assert names.SERVER_PORT == server_attributes.SERVER_PORT
    assert names.URL_FULL == url_attributes.URL_FULL
    assert names.URL_TEMPLATE == url_incubating.URL_TEMPLATE
    assert names.ERROR_TYPE == error_attributes.ERROR_TYPE
    assert names.HTTP_CLIENT_REQUEST_DURATION == http_metrics.HTTP_CLIENT_REQUEST_DURATION
    assert names.HTTP_REQUEST_HEADER_IDEMPOTENCY_KEY == (
        http_attributes.HTTP_REQUEST_HEADER_TEMPLATE + ".idempotency-key"
    )
    assert names.HTTP_RESPONSE_HEADER_X_REQUEST_ID == (
        http_attributes.HTTP_RESPONSE_HEADER_TEMPLATE + ".x-request-id"
    )


def test_closed_client_call_is_an_error_span(exported: Exported) -> None:
    """A call on a closed client still ends its span, as an error."""
    import asyncio

    async def scenario() -> None:
        client = AsyncClient(api_key="k", telemetry=exported.telemetry())
        await client.close()
        with pytest.raises(ConfigurationError):
            await client.messages.retrieve("m")

    asyncio.run(scenario())
    (call,) = exported.named("messages.retrieve")
    assert call.attributes[ERROR_TYPE] == "ConfigurationError"
    assert not exported.named("GET /v2/messages/{id}")


def test_an_unknown_path_is_named_without_its_ids() -> None:
    """A path the route table does not know is named by its first segment, ids as {id}."""
    from telnyx_messaging._telemetry._routes import route

    found = route("GET", "/new_things/+13125550002/parts")
    assert found.operation == "GET /new_things/{id}/{id}"
    assert "+1" not in found.template


async def test_sender_types_of_profiles_and_short_codes(
    traced: AsyncClient, exported: Exported
) -> None:
    """A send by profile counts as `number_pool`, one from a short code as `short_code`."""
    await traced.messages.send(to=TO, messaging_profile_id="p-1", text="hi")
    await traced.messages.send(to=TO, from_="12345", text="hi")
    sent = {p.attributes[names.SENDER_TYPE] for p in exported.points(names.MESSAGES_SENT)}
    assert sent == {"number_pool", "short_code"}


async def test_a_failed_list_page_is_an_error_span(
    traced: AsyncClient, fake: FakeTelnyx, exported: Exported
) -> None:
    """A page that fails ends its `...list` span as an error, with the status."""
    fake.fail_next(Respond(403, json={"errors": [{"code": "10010"}]}), method="GET")
    with pytest.raises(Exception, match="403"):
        await _first(traced.messaging_optouts.list())
    (call,) = exported.named("messaging_optouts.list")
    assert call.attributes[STATUS] == 403
    assert call.status.status_code is StatusCode.ERROR


async def test_metrics_without_traces(fake: FakeTelnyx, exported: Exported) -> None:
    """With a meter but OpenTelemetry's no-op tracer, sends, failures, retries and durations
    are still counted (the untraced path counts from the loop's own steps)."""
    telemetry = Telemetry(meter_provider=exported.meter_provider)  # the global no-op tracer
    async with AsyncClient(
        api_key=fake.api_key, base_url=fake.base_url, max_retries=1, telemetry=telemetry
    ) as client:
        fake.fail_next(Respond(503))
        await client.messages.send(**SMS)
        fake.fail_next(Respond(422, json={"errors": [{"code": "40310"}]}))
        with pytest.raises(UnprocessableEntityError):
            await client.messages.send(**SMS)
        await client.messages.retrieve((await client.messages.send(**SMS)).id)
    assert not exported.finished()
    assert sum(p.value for p in exported.points(names.MESSAGES_SENT)) == 2
    (failed,) = exported.points(names.MESSAGES_FAILED)
    assert failed.attributes[names.ERROR_CODE] == "40310"
    assert failed.attributes[names.OUTCOME_UNKNOWN] is False
    assert exported.points(names.CLIENT_RETRIES)[0].value == 1
    durations = exported.points(http_metrics.HTTP_CLIENT_REQUEST_DURATION)
    assert sum(p.count for p in durations) == 5
    assert all("traceparent" not in r.headers for r in fake.requests)


async def test_untraced_lost_answers_and_ids_are_reported(
    fake: FakeTelnyx, exported: Exported
) -> None:
    """Without a tracer, an attempt that got no answer is timed under what it met, and calls
    of one route with different ids are one `url.template`."""
    telemetry = Telemetry(meter_provider=exported.meter_provider)  # the global no-op tracer
    fake.fail_next(Disconnect(after_processing=True))
    async with AsyncClient(
        api_key=fake.api_key, base_url=fake.base_url, max_retries=0, telemetry=telemetry
    ) as client:
        with pytest.raises(Exception, match="outcome is unknown"):
            await client.messages.send(**SMS)
        sent = await client.messages.send(**SMS)
        await client.messages.retrieve(sent.id)
        with pytest.raises(NotFoundError):
            await client.messages.retrieve("m-1")
    durations = {
        (p.attributes[TEMPLATE], p.attributes.get(STATUS), p.attributes.get(ERROR_TYPE)): p.count
        for p in exported.points(http_metrics.HTTP_CLIENT_REQUEST_DURATION)
    }
    assert durations == {
        ("/v2/messages", None, "ServerDisconnectedError"): 1,
        ("/v2/messages", 200, None): 1,
        ("/v2/messages/{id}", 200, None): 1,
        ("/v2/messages/{id}", 404, "404"): 1,
    }
    (failed,) = exported.points(names.MESSAGES_FAILED)
    assert failed.attributes[names.OUTCOME_UNKNOWN] is True
    assert sum(p.value for p in exported.points(names.MESSAGES_SENT)) == 1


async def test_untraced_calls_are_not_kept(exported: Exported) -> None:
    """Calls made without a trace leave nothing behind them but the last one (a leak once:
    each kept the token of the one before, chaining every call of the task)."""
    import gc

    from telnyx_messaging import MockTransport
    from telnyx_messaging._telemetry import client as traced_module

    def alive() -> int:
        gc.collect()
        # By exact type: isinstance asks some objects for their class, which can raise
        # (Django's lazy settings objects, alive once the webhooks tests ran).
        return sum(type(o) is traced_module._Call for o in gc.get_objects())

    example = Path(__file__).parents[1] / "spec" / "webhook-examples" / "message.sent.json"
    answer = {"data": json.loads(example.read_text())["data"]["payload"]}
    transport = MockTransport(lambda request: request.respond(json=answer))
    telemetry = Telemetry(meter_provider=exported.meter_provider)
    async with AsyncClient(api_key="k", transport=transport, telemetry=telemetry) as client:
        before = alive()
        for _ in range(5):
            await client.messages.send(**SMS)
        assert alive() <= before + 1


async def test_untraced_calls_in_concurrent_tasks_report_their_own(exported: Exported) -> None:
    """Tasks started after an untraced call inherit the context it was made in; calls they
    make at the same time still report each its own route, status and duration."""
    import asyncio

    from telnyx_messaging import MockTransport

    example = Path(__file__).parents[1] / "spec" / "webhook-examples" / "message.sent.json"
    answer = {"data": json.loads(example.read_text())["data"]["payload"]}
    both_in = asyncio.Event()
    arrived: list[str] = []

    async def handler(request: Any) -> Any:
        arrived.append(request.method)
        if len(arrived) == 3:  # the first send, then the two at once
            both_in.set()
        if len(arrived) > 1:
            await both_in.wait()  # both calls are in flight before either is answered
        if request.method == "GET":
            return request.respond(404, json={"errors": [{"code": "10005"}]})
        return request.respond(json=answer)

    telemetry = Telemetry(meter_provider=exported.meter_provider)  # the global no-op tracer
    async with AsyncClient(
        api_key="k", transport=MockTransport(handler), max_retries=0, telemetry=telemetry
    ) as client:
        await client.messages.send(**SMS)
        sent, missing = await asyncio.gather(
            client.messages.send(**SMS), client.messages.retrieve("m-1"), return_exceptions=True
        )
    assert not isinstance(sent, BaseException)
    assert isinstance(missing, NotFoundError)
    durations = {
        (p.attributes[TEMPLATE], p.attributes[STATUS]): p.count
        for p in exported.points(http_metrics.HTTP_CLIENT_REQUEST_DURATION)
    }
    assert durations == {("/v2/messages", 200): 2, ("/v2/messages/{id}", 404): 1}
    (counted,) = exported.points(names.MESSAGES_SENT)
    assert counted.value == 2
    assert counted.attributes[names.OPERATION] == "messages.send"


async def test_an_untraced_record_is_never_taken_by_another_thread(exported: Exported) -> None:
    """A thread started with a copy of this context (``asyncio.to_thread``, the sync client's
    loop) sees this task's idle record: it makes its own, as the two threads could otherwise
    both find the record free at once and mix their calls' routes and durations."""
    import asyncio
    import contextvars

    from telnyx_messaging import MockTransport
    from telnyx_messaging._telemetry import client as traced_module

    example = Path(__file__).parents[1] / "spec" / "webhook-examples" / "message.sent.json"
    answer = {"data": json.loads(example.read_text())["data"]["payload"]}
    transport = MockTransport(lambda request: request.respond(json=answer))
    telemetry = Telemetry(meter_provider=exported.meter_provider)  # the global no-op tracer

    async def retrieve() -> None:
        async with AsyncClient(api_key="k", transport=transport, telemetry=telemetry) as other:
            await other.messages.retrieve("m-1")

    async with AsyncClient(api_key="k", transport=transport, telemetry=telemetry) as client:
        await client.messages.send(**SMS)
        mine = traced_module._current.get()
        assert mine is not None
        copied = contextvars.copy_context()
        await asyncio.to_thread(copied.run, asyncio.run, retrieve())
        assert traced_module._current.get() is mine
        assert mine.report.route.operation == "messages.send"
    durations = {
        p.attributes[TEMPLATE]: p.count
        for p in exported.points(http_metrics.HTTP_CLIENT_REQUEST_DURATION)
    }
    assert durations == {"/v2/messages": 1, "/v2/messages/{id}": 1}
